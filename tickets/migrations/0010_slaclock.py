"""The SLA clock read model moves from ``sla`` to ``tickets`` (its rows are
derived from Ticket events). The state is created over the existing
``sla_slaclock`` table, which is then renamed ``tickets_slaclock``; the
content type (and so every permission granted on it) moves with it."""

import django.db.models.deletion
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if (
        not ContentType.objects.using(db)
        .filter(app_label="tickets", model="slaclock")
        .exists()
    ):
        ContentType.objects.using(db).filter(app_label="sla", model="slaclock").update(
            app_label="tickets"
        )


def restore_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if (
        not ContentType.objects.using(db)
        .filter(app_label="sla", model="slaclock")
        .exists()
    ):
        ContentType.objects.using(db).filter(
            app_label="tickets", model="slaclock"
        ).update(app_label="sla")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("sla", "0008_slaclock_moves_to_tickets"),
        ("tickets", "0009_event_integrity"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SLAClock",
                    fields=[
                        ("id", models.UUIDField(primary_key=True, serialize=False)),
                        ("department", models.CharField(max_length=16)),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("response", "Response"),
                                    ("resolution", "Resolution"),
                                ],
                                max_length=10,
                            ),
                        ),
                        (
                            "state",
                            models.CharField(
                                choices=[
                                    ("running", "Running"),
                                    ("paused", "Paused"),
                                    ("met", "Met"),
                                    ("breached", "Breached"),
                                    ("breached_running", "Breached, still running"),
                                ],
                                max_length=16,
                            ),
                        ),
                        ("started_at", models.DateTimeField()),
                        ("due_at", models.DateTimeField()),
                        ("warn_at", models.DateTimeField()),
                        ("target_seconds", models.FloatField()),
                        ("paused_seconds", models.FloatField(default=0)),
                        ("paused_since", models.DateTimeField(blank=True, null=True)),
                        ("stopped_at", models.DateTimeField(blank=True, null=True)),
                        ("outcome", models.CharField(blank=True, max_length=10)),
                        (
                            "business_seconds_used",
                            models.FloatField(blank=True, null=True),
                        ),
                        ("warning_recorded", models.BooleanField(default=False)),
                        (
                            "warning_position",
                            models.BigIntegerField(blank=True, null=True),
                        ),
                        ("breach_recorded", models.BooleanField(default=False)),
                        (
                            "breach_position",
                            models.BigIntegerField(blank=True, null=True),
                        ),
                        ("policy_version", models.PositiveIntegerField()),
                        ("calendar_version", models.PositiveIntegerField()),
                        ("pauses_on_waiting", models.BooleanField(default=True)),
                        ("started_position", models.BigIntegerField()),
                        (
                            "stopped_position",
                            models.BigIntegerField(blank=True, null=True),
                        ),
                        (
                            "handoff",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="clocks",
                                to="tickets.handoff",
                            ),
                        ),
                        (
                            "ticket",
                            models.ForeignKey(
                                db_constraint=False,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="clocks",
                                to="tickets.ticketsummary",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "SLA clock",
                        "db_table": "sla_slaclock",
                        "ordering": ["due_at"],
                        "indexes": [
                            models.Index(
                                fields=["state", "due_at"], name="slaclock_state_due"
                            ),
                            models.Index(
                                fields=["state", "warning_recorded", "warn_at"],
                                name="slaclock_state_warn",
                            ),
                            models.Index(
                                fields=["department", "state"],
                                name="slaclock_dept_state",
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="slaclock", table=None),
        migrations.RunPython(move_content_type, restore_content_type),
    ]
