"""Projection guarantees: incrementally built read models equal a rebuild
from zero; a replayed event changes nothing; a crash mid-batch rolls the
batch back and the next run resumes at the last committed position with no
lost or doubled effect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.helpers import Org, open_ticket
from tickets import services
from tickets.application import get_tickets_application
from tickets.commands import ADD_NOTE, HAND_OFF, RESPOND
from tickets.domain import DepartmentRef, Principal
from tickets.models import Handoff, ProjectionTracking, TicketSummary, TimelineEntry
from tickets.projection_runner import (
    Followed,
    Projection,
    ProjectionSession,
    catch_up,
    follow,
    positions_of,
    process_notifications,
    projection_group,
    rebuild,
)
from tickets.projections import TimelineProjection

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CS = DepartmentRef("CS", "Customer Service", active=True, front_line=True)
FIN = DepartmentRef("FIN", "Finance")
LOG = DepartmentRef("LOG", "Logistics")
cs = Principal("user", "1", "Cara Smith", "Cara", ("CS",))
fin = Principal("user", "2", "Finn Jones", "Finn", ("FIN",))
log = Principal("user", "3", "Lola Brown", "Lola", ("LOG",))
customer = Principal("customer", "C1", "Dana Customer", "Dana")


def read_models() -> dict[str, list[dict[str, Any]]]:
    """Every row of the core read models, independent of surrogate keys."""
    return {
        "summary": list(TicketSummary.objects.order_by("pk").values()),
        "handoff": list(Handoff.objects.order_by("pk").values()),
        "timeline": [
            {k: v for k, v in row.items() if k != "id"}
            for row in TimelineEntry.objects.order_by("position").values()
        ],
    }


def rich_history(org: Org) -> list[UUID]:
    """Several tickets through every kind of command, via the services (so
    the read models are built incrementally, command by command)."""
    ids = []
    for n in range(3):
        tid = open_ticket(
            org, customer_ref=f"C{n}", priority=["low", "high", "urgent"][n]
        )
        ids.append(tid)
        services.ticket_hand_off(
            principal=org.agent("CS"),
            ticket_id=tid,
            to_department="FIN",
            reason=f"reason {n}",
        )
        services.ticket_respond(
            principal=org.agent("FIN"), ticket_id=tid, body="Looking"
        )
        services.ticket_assign(
            principal=org.agent("FIN"), ticket_id=tid, agent_id=org.leads["FIN"].pk
        )
        services.ticket_wait_on_customer(principal=org.agent("FIN"), ticket_id=tid)
        services.ticket_record_customer_reply(
            principal=services.principal_for_customer(customer_ref=f"C{n}"),
            ticket_id=tid,
            body="Here you go",
        )
        if n == 0:
            continue
        services.ticket_hand_off(
            principal=org.agent("FIN"),
            ticket_id=tid,
            to_department="LOG",
            reason="carrier",
        )
        services.ticket_change_priority(
            principal=org.agent("CS"), ticket_id=tid, priority="normal"
        )
        services.ticket_change_scenario(
            principal=org.agent("LOG"), ticket_id=tid, scenario="lost-parcel"
        )
        services.ticket_add_note(principal=org.agent("CS"), ticket_id=tid, body="note")
        services.ticket_resolve(
            principal=org.agent("LOG"),
            ticket_id=tid,
            resolution="Refunded",
            root_cause="product_defect",
        )
        if n == 2:
            services.ticket_reopen(
                principal=services.principal_for_customer(customer_ref="C2"),
                ticket_id=tid,
                reason="Not fixed",
            )
            services.ticket_respond(
                principal=org.agent("LOG"), ticket_id=tid, body="Again"
            )
            services.ticket_resolve(
                principal=org.agent("LOG"),
                ticket_id=tid,
                resolution="Done",
                root_cause="other",
            )
            services.ticket_close(principal=org.agent("CS"), ticket_id=tid)
    return ids


def test_incremental_read_models_equal_a_rebuild_from_zero(org: Org) -> None:
    rich_history(org)
    incremental = read_models()
    assert len(incremental["summary"]) == 3
    assert len(incremental["timeline"]) > 30

    app = get_tickets_application()
    count = rebuild(app, projection_group("core"))

    assert count == len(incremental["timeline"])
    assert read_models() == incremental
    last = app.recorder.max_notification_id()
    assert set(positions_of(projection_group("core"), app.name).values()) == {last}


def test_the_rebuild_command_reports_and_rebuilds(org: Org, capsys: Any) -> None:
    rich_history(org)
    before = read_models()
    TimelineEntry.objects.all().delete()  # damage a read model
    call_command("rebuild_projections")
    assert (
        "Rebuilt ticket_summary, handoff, timeline, sla_clock, attachments, "
        "follow_up from" in capsys.readouterr().out
    )
    assert read_models() == before


def test_an_event_replayed_twice_changes_nothing(org: Org) -> None:
    rich_history(org)
    app = get_tickets_application()
    before = read_models()
    positions = positions_of(projection_group("core"), app.name)

    notifications = app.recorder.select_notifications(start=1, limit=1000)
    applied = process_notifications(app, projection_group("core"), notifications)
    assert applied == 0
    assert catch_up(app, projection_group("core")) == 0
    assert read_models() == before
    assert positions_of(projection_group("core"), app.name) == positions


def _append_history_without_projecting() -> int:
    """Store 10 events straight through the application (no inline catch
    up), as another process would; returns the last position."""
    app = get_tickets_application()
    result = None
    for n in range(2):
        tid = app.open_ticket(
            principal=cs,
            front_line=CS,
            at=T0,
            subject=f"T{n}",
            description="",
            customer_ref=f"C{n}",
            channel="web",
        ).ticket_id
        at = T0 + timedelta(minutes=1)
        app.run_command(tid, HAND_OFF, to=FIN, reason="r", principal=cs, at=at)
        app.run_command(tid, RESPOND, body="b", principal=fin, at=at)
        app.run_command(tid, ADD_NOTE, body="n", principal=fin, at=at)
        result = app.run_command(
            tid, HAND_OFF, to=LOG, reason="r2", principal=fin, at=at
        )
    assert result is not None
    return result.position


class Crash(Exception):
    pass


class CrashingTimeline(TimelineProjection):
    """The timeline projection, crashing when it meets a given event."""

    crash_at_version: int | None = 4
    crash_on_ticket_subject = "T0"
    seen_subjects: dict[Any, str]

    def process(self, event: Any, position: int, session: ProjectionSession) -> None:
        if type(event).__name__ == "Opened":
            type(self).seen_subjects[event.originator_id] = event.subject
        if (
            self.crash_at_version is not None
            and event.originator_version == self.crash_at_version
            and type(self).seen_subjects.get(event.originator_id)
            == self.crash_on_ticket_subject
        ):
            raise Crash(f"boom at position {position}")
        super().process(event, position, session)


def test_a_crash_mid_batch_resumes_at_the_last_committed_position(org: Org) -> None:
    app = get_tickets_application()
    last = _append_history_without_projecting()
    notifications = app.recorder.select_notifications(start=1, limit=100)
    assert len(notifications) == 10
    crash_position = notifications[3].id  # T0's 4th event: its note

    CrashingTimeline.seen_subjects = {}
    crashing = [p for p in projection_group("core") if p.name != "timeline"] + [
        CrashingTimeline()
    ]
    with pytest.raises(Crash):
        catch_up(app, crashing, batch_size=3)

    # Batch 1 (events 1-3) committed; batch 2 (4-6) rolled back entirely.
    committed = notifications[2].id
    assert set(positions_of(crashing, app.name).values()) == {committed}
    assert TimelineEntry.objects.count() == 3
    assert TimelineEntry.objects.filter(position__gt=committed).count() == 0
    assert Handoff.objects.count() == 2  # opening stint + FIN stint of T0
    assert TicketSummary.objects.get().owner == "FIN"
    assert crash_position > committed

    # The projector restarts (bug fixed): it resumes after event 3.
    CrashingTimeline.crash_at_version = None
    processed = catch_up(app, crashing, batch_size=3)
    assert processed == 7
    assert set(positions_of(crashing, app.name).values()) == {last}
    resumed = read_models()
    assert len(resumed["timeline"]) == 10
    assert [row["position"] for row in resumed["timeline"]] == [
        n.id for n in notifications
    ]

    rebuild(app, projection_group("core"))
    assert read_models() == resumed


def test_the_projector_command_catches_up_a_lagging_log(org: Org, capsys: Any) -> None:
    _append_history_without_projecting()
    assert TicketSummary.objects.count() == 0
    call_command("run_projections", "--once")
    assert "Projected 10 events" in capsys.readouterr().out
    assert TicketSummary.objects.count() == 2
    assert TimelineEntry.objects.count() == 10


def test_following_the_log_processes_new_events_then_stops(org: Org) -> None:
    app = get_tickets_application()
    _append_history_without_projecting()
    checks = iter([False, True])
    batches: list[int] = []
    follow(
        app,
        [projection_group("core")],
        poll_interval=0.01,
        should_stop=lambda: next(checks),
        on_batch=batches.append,
    )
    assert batches == [10]
    assert TimelineEntry.objects.count() == 10


def test_the_projector_reaches_a_batched_group_at_most_once_per_interval(
    org: Org,
) -> None:
    """Core (requests wait for it) as soon as the log moves; a batched
    group (scorecards) at most once per interval, then the rest in one go."""
    app = get_tickets_application()
    first = _append_history_without_projecting()
    core, scorecards = projection_group("core"), projection_group("scorecards")
    stops = iter([False, False, True])
    appended: list[int] = []

    def on_batch(count: int) -> None:
        if not appended:  # more events arrive after the first pass
            appended.append(_append_history_without_projecting())

    follow(
        app,
        [Followed(core), Followed(scorecards, interval=3600)],
        poll_interval=0.01,
        should_stop=lambda: next(stops),
        on_batch=on_batch,
    )
    positions = positions_of(core + scorecards, app.name)
    assert {positions[p.name] for p in core} == {appended[0]}
    assert positions["scorecard"] == first < appended[0]
    # Groups already at the head of the log are not locked.
    catch_up(app, scorecards)
    stops = iter([False, True])
    with CaptureQueriesContext(connection) as queries:
        follow(
            app, [core, scorecards], poll_interval=0.01, should_stop=lambda: next(stops)
        )
    assert not [q for q in queries if "FOR UPDATE" in q["sql"]]
    assert set(positions_of(core + scorecards, app.name).values()) == {appended[0]}


def test_each_projection_has_its_own_tracking_row(org: Org) -> None:
    open_ticket(org)
    rows = set(ProjectionTracking.objects.values_list("projection", "application"))
    assert rows == {
        ("ticket_summary", "tickets"),
        ("handoff", "tickets"),
        ("timeline", "tickets"),
        ("sla_clock", "tickets"),
        ("attachments", "tickets"),
        ("follow_up", "tickets"),
        ("sla_notification", "tickets"),
        ("webhook_delivery", "tickets"),
        ("email_notification", "tickets"),
    }


def test_a_projection_behind_the_others_catches_up_alone(org: Org) -> None:
    """Positions are per projection: one that lags is caught up without
    re-applying events to the others."""
    open_ticket(org)
    app = get_tickets_application()
    ProjectionTracking.objects.filter(projection="timeline").update(position=0)
    TimelineEntry.objects.all().delete()
    before_summary = list(TicketSummary.objects.values())
    assert catch_up(app, projection_group("core")) == 1
    assert TimelineEntry.objects.count() == 1
    assert list(TicketSummary.objects.values()) == before_summary


class _Noop(Projection):
    name = "noop"


def test_events_without_a_handler_still_advance_the_position(org: Org) -> None:
    open_ticket(org)
    app = get_tickets_application()
    catch_up(app, [_Noop()])
    assert positions_of([_Noop()], app.name) == {
        "noop": app.recorder.max_notification_id()
    }
