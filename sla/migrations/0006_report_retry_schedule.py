"""Retry unsent scorecard reports every hour (a mail outage at the weekly
run must not lose a week's reports)."""

from django.db import migrations

RETRY = "sla.tasks.retry_scorecard_reports"


def schedule_retry(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.using(schema_editor.connection.alias).update_or_create(
        name="Scorecard report retries",
        defaults={"func": RETRY, "schedule_type": "H", "repeats": -1},
    )


def unschedule_retry(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.using(schema_editor.connection.alias).filter(func=RETRY).delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0005_report_schedule")]

    operations = [migrations.RunPython(schedule_retry, unschedule_retry)]
