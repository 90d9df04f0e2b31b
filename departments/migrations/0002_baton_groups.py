"""Seed the Baton groups and their permissions. Membership decides which
group a person is in (departments.services.user_groups_sync)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW_TICKETS = [
    ("tickets", "view_queueticket"),
    ("tickets", "work_tickets"),
    ("tickets", "view_ticketsummary"),
    ("tickets", "view_handoff"),
    ("sla", "view_slaclock"),
    ("departments", "view_department"),
]
MANAGE = [
    ("departments", "add_department"),
    ("departments", "change_department"),
    ("departments", "view_membership"),
    ("departments", "add_membership"),
    ("departments", "change_membership"),
    ("departments", "delete_membership"),
    ("sla", "view_calendar"),
    ("sla", "view_calendarversion"),
    ("sla", "add_calendarversion"),
    ("sla", "view_slapolicy"),
    ("sla", "view_slapolicyversion"),
    ("sla", "add_slapolicyversion"),
    ("sla", "view_slanotification"),
    ("tickets", "view_webhookdelivery"),
]
GROUPS = {
    "Baton agents": VIEW_TICKETS,
    "Baton leads": VIEW_TICKETS,
    "Baton front-line leads": VIEW_TICKETS + MANAGE,
}


def seed(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            [Permission.objects.get(content_type__app_label=a, codename=c) for a, c in perms]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("departments", "0001_initial"),
        ("tickets", "0006_queue"),
        ("sla", "0002_sweep_schedule"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
