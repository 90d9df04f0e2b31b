"""A command's inline projection projects the log itself when nobody
holds the core projections' lock, and otherwise waits (within its budget)
for the holder, which is projecting its write; past the budget the staff
API answers 202 with the ticket's Location, and the write is projected
later, exactly once. A scorecard batch never holds the core lock.

The lock contention needs two database sessions, so most of these run on
PostgreSQL (SQLite serialises writers itself: there is no lock to skip)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from tests import helpers
from tests.conftest import on_postgres
from tests.tickets.api_helpers import token_client
from tickets import clock
from tickets.application import get_tickets_application
from tickets.models import ProjectionTracking, TicketSummary, TimelineEntry
from tickets.projection_runner import (
    ProjectionsBusy,
    _lock_positions,
    _next_batch,
    catch_up,
    project_to,
    projection_group,
)
from tickets.services import department_ref


def _postgres() -> None:
    if not on_postgres():
        pytest.skip("Lock contention between sessions: PostgreSQL only.")


@contextmanager
def projector_batch(
    group: str,
    *,
    until: Callable[[], bool] = lambda: True,
    project: bool = True,
    hold: float = 0.0,
) -> Iterator[threading.Event]:
    """Another session in the middle of a projector batch: it holds the
    group's tracking rows, waits for ``until()`` (e.g. a request's event is
    in the log), projects what is there if ``project``, then keeps the lock
    ``hold`` seconds more (the rest of a long batch) before committing."""
    app = get_tickets_application()
    projections = projection_group(group)
    locked, done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with transaction.atomic():
                positions = _lock_positions(projections, app.name)
                locked.set()
                deadline = time.monotonic() + 10
                while not until() and time.monotonic() < deadline:
                    time.sleep(0.005)
                if project:
                    _next_batch(app, projections, positions, up_to=None, batch_size=500)
                time.sleep(hold)
        except BaseException as exc:
            errors.append(exc)
            locked.set()
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert locked.wait(10)
    try:
        yield done
    finally:
        thread.join(15)
        if errors:
            raise errors[0]


def _head() -> int:
    return get_tickets_application().recorder.max_notification_id() or 0


def _opened(client: Any) -> tuple[str, int]:
    response = client.post(
        "/api/v1/tickets/",
        {"subject": "Refund", "customer_ref": "C-1", "channel": "web"},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.data["id"], response.data["version"]


def _agent_ticket(settings: Any, budget: float) -> tuple[Any, str, int]:
    """On PostgreSQL, with this inline budget: a front-line agent's API
    client and a ticket it opened (id, version)."""
    _postgres()
    settings.BATON_INLINE_PROJECTION_TIMEOUT = budget
    client = token_client(helpers.make_org().agents["CS"])
    return (client, *_opened(client))


def _timed_post(client: Any, url: str, body: dict[str, Any]) -> tuple[Any, float]:
    started = time.monotonic()
    response = client.post(url, body, format="json")
    return response, time.monotonic() - started


@pytest.mark.django_db(transaction=True)
def test_a_command_behind_the_projectors_batch_answers_when_it_commits(
    settings: Any,
) -> None:
    """The projector holds the core lock for a long batch that includes the
    command's event: the command answers as soon as that batch commits,
    with its change (projected by the holder, not again)."""
    client, ticket_id, version = _agent_ticket(settings, 5.0)
    head = _head()

    with projector_batch("core", until=lambda: _head() > head, hold=0.3) as done:
        response, elapsed = _timed_post(
            client, f"/api/v1/tickets/{ticket_id}/responses/", {"body": "On it."}
        )
        assert done.is_set()  # it answered after the batch, not before

    assert response.status_code == 200, response.content
    assert response.data["version"] == version + 1
    assert response["ETag"] == f'"{version + 1}"'
    assert 0.3 <= elapsed < 5.0
    fresh = client.get(f"/api/v1/tickets/{ticket_id}/")
    assert fresh.data["version"] == version + 1
    # Projected once, by the holder: one timeline line per stored event.
    stored = len(helpers.stored_events(ticket_id))
    assert TimelineEntry.objects.filter(ticket_id=ticket_id).count() == stored


@pytest.mark.django_db(transaction=True)
def test_past_its_budget_a_command_answers_202_and_its_write_is_projected_later(
    settings: Any,
) -> None:
    """A batch that outlasts the command's budget and does not reach its
    event: 202 with the ticket's Location at the budget (not when the
    batch ends), the event stored, and projected once by the projector."""
    client, ticket_id, version = _agent_ticket(settings, 0.2)

    with projector_batch("core", project=False, hold=1.5):
        response, elapsed = _timed_post(
            client, f"/api/v1/tickets/{ticket_id}/notes/", {"body": "Checked it."}
        )
        assert response.status_code == 202, response.content
        assert elapsed < 1.0
        assert response["Location"] == f"/api/v1/tickets/{ticket_id}/"
        assert response.data["version"] == version + 1
        assert response["ETag"] == f'"{version + 1}"'
        # Stored: the event log has it even though no read model does yet.
        assert type(helpers.stored_events(ticket_id)[-1]).__name__ == "NoteAdded"
        assert TicketSummary.objects.get(pk=ticket_id).version == version

    assert catch_up(get_tickets_application(), projection_group("core")) == 1
    assert client.get(f"/api/v1/tickets/{ticket_id}/").data["version"] == version + 1
    assert catch_up(get_tickets_application(), projection_group("core")) == 0


@pytest.mark.django_db(transaction=True)
def test_a_slow_scorecard_batch_does_not_delay_a_command(settings: Any) -> None:
    """Groups are locked apart: the projector recomputing scorecards holds
    only the scorecard lock, and a command projects the core itself."""
    client, ticket_id, version = _agent_ticket(settings, 5.0)

    with projector_batch("scorecards", project=False, hold=2.0):
        response, elapsed = _timed_post(
            client, f"/api/v1/tickets/{ticket_id}/responses/", {"body": "Approved."}
        )

    assert response.status_code == 200, response.content
    assert response.data["version"] == version + 1
    assert elapsed < 1.0


@pytest.mark.django_db(transaction=True)
def test_a_busy_lock_is_reported_at_once_not_waited_for() -> None:
    _postgres()
    helpers.open_ticket(helpers.make_org())  # the tracking rows exist
    app = get_tickets_application()
    core = projection_group("core")
    with projector_batch("core", project=False, hold=1.0):
        started = time.monotonic()
        with pytest.raises(ProjectionsBusy), transaction.atomic():
            _lock_positions(core, app.name, nowait=True)
        assert time.monotonic() - started < 0.5


def test_whoever_holds_the_lock_projects_everyones_events(org: helpers.Org) -> None:
    """Events written without projecting (another request that found the
    lock busy) are projected by the next command to take the lock, so the
    writer that waits finds its event there."""
    app = get_tickets_application()
    others = [
        app.open_ticket(
            principal=org.agent("CS"),
            front_line=department_ref("CS"),
            at=clock.now(),
            subject=f"Waiting {n}",
            description="",
            customer_ref="C-2",
            channel="web",
        )
        for n in range(3)
    ]
    assert not TicketSummary.objects.filter(
        pk__in=[r.ticket_id for r in others]
    ).exists()

    mine = helpers.open_ticket(org)

    assert (
        TicketSummary.objects.filter(pk__in=[r.ticket_id for r in others]).count() == 3
    )
    positions = set(
        ProjectionTracking.objects.filter(
            projection__in=[p.name for p in projection_group("core")]
        ).values_list("position", flat=True)
    )
    assert positions == {_head()}
    assert TicketSummary.objects.filter(pk=mine).exists()


def test_a_write_already_projected_by_someone_else_costs_no_batch(
    org: helpers.Org,
) -> None:
    app = get_tickets_application()
    ticket_id = helpers.open_ticket(org)
    head = _head()
    assert project_to(app, projection_group("core"), head, timeout=0.1)
    assert TicketSummary.objects.get(pk=ticket_id).version == 1


@pytest.mark.django_db(transaction=True)
def test_past_its_budget_a_customers_reply_waits_its_turn_and_shows(
    settings: Any,
) -> None:
    """Only the staff API can answer 202: the customer's API (like the
    admin and the customer's page) then queues for the lock, so the
    timeline it answers with has the customer's own reply."""
    _postgres()
    settings.BATON_INLINE_PROJECTION_TIMEOUT = 0.2
    org = helpers.make_org()
    client = token_client(org.agents["CS"])
    opened = client.post(
        "/api/v1/tickets/",
        {"subject": "Refund", "customer_ref": "C-1", "channel": "web"},
        format="json",
    )
    token = opened.data["customer_link"].rstrip("/").rsplit("/", 1)[1]

    with projector_batch("core", project=False, hold=1.0) as done:
        response = APIClient().post(
            f"/api/v1/public/timeline/{token}/replies/",
            {"body": "Here is my order number: 4711."},
            format="json",
        )
        assert done.is_set()  # it waited for the holder to let go

    assert response.status_code == 200, response.content
    assert "4711" in response.content.decode()
