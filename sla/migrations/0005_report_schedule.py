"""Schedule the scorecard reports in django-q2 (a cron schedule,
BATON_REPORT_SCHEDULE, by default Mondays 07:00 in Django's TIME_ZONE).

Like the SLA sweep, the setting applies when this migration runs; change
the schedule later in the admin (Django Q > Scheduled tasks).
"""

from datetime import datetime

from django.conf import settings
from django.db import migrations
from django.utils import timezone

REPORTS = "sla.tasks.send_scorecard_reports"
DEFAULT_CRON = "0 7 * * 1"


def first_run(cron):
    """The next time the cron expression fires (django-q2 computes this in
    Schedule.save, which a migration's historical model does not run;
    without it the reports would go out as soon as the cluster starts)."""
    try:
        from croniter import croniter
    except ImportError:  # django-q2 itself needs croniter for cron schedules
        return timezone.now()
    return croniter(cron, timezone.localtime()).get_next(datetime)


def schedule_reports(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    cron = getattr(settings, "BATON_REPORT_SCHEDULE", DEFAULT_CRON)
    Schedule.objects.using(schema_editor.connection.alias).update_or_create(
        name="Scorecard reports",
        defaults={
            "func": REPORTS,
            "schedule_type": "C",
            "cron": cron,
            "next_run": first_run(cron),
            "repeats": -1,
        },
    )


def unschedule_reports(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.using(schema_editor.connection.alias).filter(func=REPORTS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0004_scorecard_reports"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule_reports, unschedule_reports)]
