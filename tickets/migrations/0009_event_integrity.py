"""Tamper evidence: create the event store's seal, receipt and checkpoint
tables, seal the events written before this migration, and schedule
checkpoints (every BATON_EVENT_CHECKPOINT_MINUTES)."""

from django.conf import settings
from django.db import migrations

FUNC = "tickets.tasks.checkpoint_event_log"


def seal_existing_events(apps, schema_editor):
    from tickets.application import (
        TicketsApplication,
        create_event_store,
        default_env,
    )
    from tickets.integrity import seal_legacy_events

    alias = schema_editor.connection.alias
    create_event_store(alias)
    app = TicketsApplication(env=default_env(alias=alias))
    try:
        seal_legacy_events(app)
    finally:
        app.close()


def schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.using(schema_editor.connection.alias).update_or_create(
        name="Event log checkpoint",
        defaults={
            "func": FUNC,
            "schedule_type": "I",
            "minutes": getattr(settings, "BATON_EVENT_CHECKPOINT_MINUTES", 60),
            "repeats": -1,
        },
    )


def unschedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.using(schema_editor.connection.alias).filter(func=FUNC).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0008_housekeeping_schedule"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.RunPython(
            seal_existing_events, migrations.RunPython.noop, elidable=False
        ),
        migrations.RunPython(schedule, unschedule),
    ]
