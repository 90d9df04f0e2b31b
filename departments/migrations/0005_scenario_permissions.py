"""Let the front-line leads edit the scenario catalogue: grant the Baton
groups the scenario permissions of settings.BATON_GROUP_PERMISSIONS. Adds
only: permissions granted by hand are kept."""

from django.db import migrations

from departments.services import seed_baton_groups


def seed(apps, schema_editor):
    seed_baton_groups(apps, replace=False)


class Migration(migrations.Migration):
    # Only on the scenario models: a migration test may move the apps
    # above back and forth (permissions of models not there yet are
    # skipped, and granted by the seeding that comes with them).
    dependencies = [("departments", "0004_scenarios")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
