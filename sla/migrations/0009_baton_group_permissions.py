"""Grant the Baton groups every permission of settings.BATON_GROUP_PERMISSIONS
now that every model exists: the groups' first seeding ran before the SLA
clock model moved to ``tickets`` (``tickets.0010``), so a fresh database had
no ``tickets.view_slaclock`` to grant. Adds only: permissions granted by
hand are kept."""

from django.db import migrations

from departments.services import seed_baton_groups


def seed(apps, schema_editor):
    seed_baton_groups(apps, replace=False)


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0008_slaclock_moves_to_tickets"),
        ("tickets", "0011_public_event_names"),
        ("departments", "0003_scorecard_permissions"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
