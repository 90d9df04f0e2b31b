"""The SLA clock read model belongs to the ticket log now
(``tickets.models.SLAClock``). Only Django's model state moves here; the
table is renamed by ``tickets.0010_slaclock``, so no row is lost."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0007_notification_claim"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="SLAClock")],
            database_operations=[],
        ),
    ]
