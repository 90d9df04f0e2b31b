from django.db import migrations


class Migration(migrations.Migration):
    """The lead dashboard's place in the admin: a proxy of Scorecard (no
    table)."""

    dependencies = [
        ("sla", "0011_scenario_catalogue"),
    ]

    operations = [
        migrations.CreateModel(
            name="LeadDashboard",
            fields=[],
            options={
                "verbose_name": "lead dashboard",
                "verbose_name_plural": "lead dashboard",
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("sla.scorecard",),
        ),
    ]
