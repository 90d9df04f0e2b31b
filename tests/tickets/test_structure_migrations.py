"""Migrations of the one-way restructuring keep existing data: the SLA clock
read model moved from ``sla`` to ``tickets`` with its rows and permissions,
and stored event names became their public, topic-derived names."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("sla", "0007_notification_claim"), ("tickets", "0009_event_integrity")]
AFTER = [("sla", "0008_slaclock_moves_to_tickets"), ("tickets", "0010_slaclock")]
NAMES_BEFORE = AFTER
NAMES_AFTER = [
    ("sla", "0009_baton_group_permissions"),
    ("tickets", "0011_public_event_names"),
]


def _migrate(nodes: list[tuple[str, str]]) -> Any:
    """Migrate ``sla`` and ``tickets`` to ``nodes``, every other app to its
    latest; the historical apps registry there."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    moving = {app for app, _ in nodes}
    targets = [
        node for node in executor.loader.graph.leaf_nodes() if node[0] not in moving
    ] + nodes
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_clock_rows_and_permissions_survive_the_move() -> None:
    old = _migrate(BEFORE)
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    clock_id = uuid.uuid4()
    old.get_model("sla", "SLAClock").objects.create(
        id=clock_id,
        ticket_id=uuid.uuid4(),
        department="FIN",
        kind="response",
        state="running",
        started_at=at,
        due_at=at,
        warn_at=at,
        target_seconds=3600,
        policy_version=1,
        calendar_version=1,
        started_position=7,
    )
    content_types = old.get_model("contenttypes", "ContentType")
    permissions = old.get_model("auth", "Permission")
    old_type, _ = content_types.objects.get_or_create(app_label="sla", model="slaclock")
    view, _ = permissions.objects.get_or_create(
        content_type=old_type, codename="view_slaclock", defaults={"name": "Can view"}
    )
    content_types.objects.filter(app_label="tickets", model="slaclock").delete()
    group = old.get_model("auth", "Group").objects.create(name="clock readers")
    group.permissions.add(view)

    new = _migrate(AFTER)

    row = new.get_model("tickets", "SLAClock").objects.get(id=clock_id)
    assert (row.department, row.started_position) == ("FIN", 7)
    assert "tickets_slaclock" in connection.introspection.table_names()
    assert "sla_slaclock" not in connection.introspection.table_names()
    moved = new.get_model("auth", "Group").objects.get(name="clock readers")
    assert [
        (p.content_type.app_label, p.codename) for p in moved.permissions.all()
    ] == [("tickets", "view_slaclock")]

    _migrate(BEFORE)  # and back
    assert "sla_slaclock" in connection.introspection.table_names()
    assert old.get_model("sla", "SLAClock").objects.filter(id=clock_id).exists()
    _migrate([])  # every app at its latest again


@pytest.mark.django_db(transaction=True)
def test_stored_event_names_become_their_public_topic_names() -> None:
    old = _migrate(NAMES_BEFORE)
    user = old.get_model("auth", "User").objects.create(username="crm")
    subscriptions = old.get_model("tickets", "WebhookSubscription")
    short = subscriptions.objects.create(
        name="CRM",
        owner=user,
        url="https://crm.example/hook",
        event_types=["Opened", "HandedOff", "Ticket.Resolved"],
        secret="s",
    )
    everything = subscriptions.objects.create(
        name="All", owner=user, url="https://all.example/hook", secret="s"
    )
    delivery = old.get_model("tickets", "WebhookDelivery").objects.create(
        subscription=short,
        position=3,
        event_type="HandedOff",
        ticket_id=uuid.uuid4(),
        payload={"type": "HandedOff", "position": 3, "data": {"reason": "r"}},
        next_attempt_at=datetime(2026, 3, 2, 9, tzinfo=UTC),
    )
    timeline = old.get_model("tickets", "TimelineEntry")
    entry = timeline.objects.create(
        ticket_id=uuid.uuid4(),
        position=3,
        version=2,
        occurred_at=datetime(2026, 3, 2, 9, tzinfo=UTC),
        event_type="CustomerReplied",
        audience="customer",
        actor_kind="customer",
        text="The customer replied.",
    )

    new = _migrate(NAMES_AFTER)

    moved = new.get_model("tickets", "WebhookSubscription")
    assert moved.objects.get(pk=short.pk).event_types == [
        "Ticket.HandedOff",
        "Ticket.Opened",
        "Ticket.Resolved",
    ]
    assert moved.objects.get(pk=everything.pk).event_types == []
    row = new.get_model("tickets", "TimelineEntry").objects.get(pk=entry.pk)
    assert row.event_type == "Ticket.CustomerReplied"
    # A delivery still to be retried names its event as new ones do, in its
    # column (the header) and in the body it sends.
    sent = new.get_model("tickets", "WebhookDelivery").objects.get(pk=delivery.pk)
    assert (sent.event_type, sent.payload["type"]) == (
        "Ticket.HandedOff",
        "Ticket.HandedOff",
    )
    assert sent.payload["data"] == {"reason": "r"}

    back = _migrate(NAMES_BEFORE)
    assert back.get_model("tickets", "TimelineEntry").objects.get(
        pk=entry.pk
    ).event_type == ("CustomerReplied")
    undone = back.get_model("tickets", "WebhookDelivery").objects.get(pk=delivery.pk)
    assert (undone.event_type, undone.payload["type"]) == ("HandedOff", "HandedOff")
    _migrate([])  # every app at its latest again
