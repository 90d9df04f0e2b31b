"""Give the Baton groups the scorecard permissions (re-seeds every group
from settings.BATON_GROUP_PERMISSIONS)."""

from django.db import migrations

from departments.services import seed_baton_groups


def seed(apps, schema_editor):
    seed_baton_groups(apps, replace=True)


class Migration(migrations.Migration):
    dependencies = [
        ("departments", "0002_baton_groups"),
        ("sla", "0004_scorecard_reports"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
