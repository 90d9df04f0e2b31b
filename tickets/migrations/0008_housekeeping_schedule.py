"""Schedule hourly housekeeping (expired idempotency records)."""

from django.db import migrations

FUNC = "tickets.tasks.housekeeping"


def schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.using(schema_editor.connection.alias).update_or_create(
        name="Housekeeping",
        defaults={"func": FUNC, "schedule_type": "H", "repeats": -1},
    )


def unschedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.using(schema_editor.connection.alias).filter(func=FUNC).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0007_webhook_url_schemes"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
