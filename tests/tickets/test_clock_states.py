"""Where a clock stands is decided once (``tickets.sla_clocks``): the Python
predicate and its query twin agree on every row, and the work queue, the
API filter, the SLA sweep and the customer's promise see the same at-risk
and breached tickets on the same data."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from sla import services as sla_services
from tests import helpers
from tests.tickets.api_helpers import token_client
from tickets import services, sla_clocks
from tickets.admin.queue import annotate_queue, countdown, filter_clock_state
from tickets.customer import customer_view
from tickets.domain import Ticket
from tickets.models import SLAClock, TicketSummary

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
M = timedelta(minutes=1)


@pytest.mark.django_db
def test_the_predicate_and_its_query_twin_agree_on_every_row() -> None:
    offsets = (-2 * M, -M, timedelta(0), M, 2 * M)
    rows = []
    for state, warn, due in itertools.product(SLAClock.State.values, offsets, offsets):
        if warn > due:
            continue
        rows.append(
            SLAClock(
                id=uuid.uuid4(),
                ticket_id=uuid.uuid4(),
                department="FIN",
                kind="response",
                state=state,
                started_at=NOW - timedelta(hours=1),
                warn_at=NOW + warn,
                due_at=NOW + due,
                target_seconds=3600,
                policy_version=1,
                calendar_version=0,
                started_position=1,
            )
        )
    SLAClock.objects.bulk_create(rows)
    conditions = sla_clocks.clock_state_conditions(NOW)
    by_query = {
        pk: name
        for name, q in conditions.items()
        for pk in SLAClock.objects.filter(q).values_list("pk", flat=True)
    }
    by_predicate = {row.pk: sla_clocks.state_of(row, NOW) for row in rows}
    assert by_query == by_predicate
    # Every state is reached, each row is in exactly one.
    assert set(by_predicate.values()) == set(sla_clocks.CLOCK_STATES) - {"none"}
    assert sum(SLAClock.objects.filter(q).count() for q in conditions.values()) == len(
        rows
    )
    assert sla_clocks.state_of(None, NOW) == "none"


def _fin_ticket(org: helpers.Org, handed_at: datetime, ref: str) -> uuid.UUID:
    with time_machine.travel(handed_at, tick=False):
        ticket_id = helpers.open_ticket(org, customer_ref=ref)
        services.ticket_hand_off(
            principal=org.agent("CS"),
            ticket_id=ticket_id,
            to_department="FIN",
            reason="Refund decision",
        )
    return ticket_id


@pytest.mark.django_db
def test_queue_api_sweep_and_customer_promise_agree_on_the_same_tickets() -> None:
    org = helpers.make_org()
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        # Round-the-clock business time (no calendar): a 60-minute response
        # target, warned at 45 minutes. Only FIN has a policy.
        sla_services.policy_version_create(
            department=org.departments["FIN"],
            response_normal=timedelta(hours=1),
            warn_percent=75,
        )
    breached = _fin_ticket(org, NOW - 90 * M, "C-LATE")
    at_risk = _fin_ticket(org, NOW - 50 * M, "C-RISK")
    edge = _fin_ticket(org, NOW - 45 * M, "C-EDGE")  # warned exactly now
    on_track = _fin_ticket(org, NOW - 10 * M, "C-OK")
    paused = _fin_ticket(org, NOW - 80 * M, "C-WAIT")
    answered = _fin_ticket(org, NOW - 70 * M, "C-DONE")
    with time_machine.travel(NOW - 75 * M, tick=False):
        services.ticket_wait_on_customer(
            principal=org.agent("FIN"), ticket_id=paused, reason="Order number?"
        )
    with time_machine.travel(NOW - 65 * M, tick=False):
        services.ticket_respond(
            principal=org.agent("FIN"), ticket_id=answered, body="Refund is on its way."
        )
    expected = {
        breached: "breached",
        at_risk: "at_risk",
        edge: "at_risk",
        on_track: "on_track",
        paused: "paused",
        answered: "answered",
    }

    with time_machine.travel(NOW, tick=False):
        # The work queue: its filter and its countdown badge.
        queue = annotate_queue(TicketSummary.objects.filter(owner="FIN"))
        for state in sla_clocks.CLOCK_STATES:
            chosen = set(
                filter_clock_state(queue, state, NOW).values_list("pk", flat=True)
            )
            assert chosen == {t for t, s in expected.items() if s == state}, state
        badges = {}
        for ticket in TicketSummary.objects.filter(owner="FIN"):
            row = SLAClock.objects.get(
                ticket_id=ticket.pk, handoff_id=ticket.current_stint_id
            )
            badges[ticket.pk] = countdown(row, NOW)[0]
        assert {t for t, b in badges.items() if b == "at-risk"} == {at_risk, edge}
        assert {t for t, b in badges.items() if b == "breached"} == {breached}

        # The API filters.
        client = token_client(org.leads["CS"])
        listed = client.get("/api/v1/tickets/", {"at_risk": "true", "limit": 100})
        assert listed.status_code == 200, listed.content
        assert {uuid.UUID(t["id"]) for t in listed.json()["results"]} == {
            at_risk,
            edge,
        }
        late = client.get("/api/v1/tickets/", {"breached": "true", "limit": 100})
        assert {uuid.UUID(t["id"]) for t in late.json()["results"]} == {breached}

        # The customer's promise.
        for ticket_id, state in expected.items():
            view = customer_view(TicketSummary.objects.get(pk=ticket_id), now=NOW)
            assert view["promise_overdue"] is (state == "breached"), state

        # The sweep warns exactly the at-risk clocks and records exactly the
        # breached one.
        result = sla_services.sla_sweep(now=NOW)
    assert (result.warnings, result.breaches) == (2, 1)
    events = helpers.stored_events()
    warned = {e.originator_id for e in events if isinstance(e, Ticket.SLAWarningIssued)}
    recorded = {e.originator_id for e in events if isinstance(e, Ticket.SLABreached)}
    assert (warned, recorded) == ({at_risk, edge}, {breached})
