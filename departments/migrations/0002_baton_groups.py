"""Seed the Baton groups and their permissions. Membership decides which
group a person is in (departments.services.user_groups_sync)."""

from django.db import migrations

from departments.services import seed_baton_groups


def seed(apps, schema_editor):
    seed_baton_groups(apps, replace=True)


class Migration(migrations.Migration):
    dependencies = [
        ("departments", "0001_initial"),
        ("tickets", "0006_queue"),
        ("sla", "0002_sweep_schedule"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
