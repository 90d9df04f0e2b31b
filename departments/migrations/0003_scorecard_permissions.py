"""Give the Baton groups the scorecard permissions (re-seeds every group
from departments.services.GROUP_PERMISSIONS)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from departments.services import GROUP_PERMISSIONS as GROUPS  # constants only


def seed(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        # GROUPS is today's list: permissions of models that a later
        # migration creates do not exist yet (that migration re-seeds).
        group.permissions.set(
            [
                p
                for a, c in perms
                for p in Permission.objects.filter(content_type__app_label=a, codename=c)
            ]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("departments", "0002_baton_groups"),
        ("sla", "0004_scorecard_reports"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
