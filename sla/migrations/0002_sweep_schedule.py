"""Schedule the SLA sweep in django-q2 (every BATON_SLA_SWEEP_MINUTES)."""

from django.conf import settings
from django.db import migrations

SWEEP = "sla.tasks.sweep_sla_clocks"


def schedule_sweep(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.using(schema_editor.connection.alias).update_or_create(
        name="SLA sweep",
        defaults={
            "func": SWEEP,
            "schedule_type": "I",
            "minutes": getattr(settings, "BATON_SLA_SWEEP_MINUTES", 1),
            "repeats": -1,
        },
    )


def unschedule_sweep(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.using(schema_editor.connection.alias).filter(func=SWEEP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule_sweep, unschedule_sweep)]
