"""Schedule the notification email sender in django-q2 (every minute):
retries and emails whose enqueue was lost."""

from django.db import migrations

FUNC = "tickets.tasks.send_due_email_notifications"


def schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.using(schema_editor.connection.alias).update_or_create(
        name="Notification emails",
        defaults={"func": FUNC, "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def unschedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.using(schema_editor.connection.alias).filter(func=FUNC).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0012_channels"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
