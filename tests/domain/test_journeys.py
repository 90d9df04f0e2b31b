"""Stalled stints and abandoned tickets on the Ticket aggregate (pure).

The SLA sweep decides when a quiet period passed its department's limit;
the aggregate records a stall once per stint per quiet period and closes a
ticket waiting on the customer as abandoned, stopping its clocks.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

from tests.domain.support import (
    FIN,
    FakeSLAPort,
    H,
    at,
    cs_agent,
    customer,
    fin_agent,
    given,
    names,
    of_type,
    rejected,
    sweeper,
    when,
)
from tests.domain.test_composition import as_version_1, mapper
from tickets.domain import (
    ABANDONED,
    Status,
    StintOutcome,
    Ticket,
    stint_resolution_clock_id,
)

PORT = FakeSLAPort()


def to_fin(t: Ticket) -> None:
    t.hand_off(to=FIN, reason="Approval", actor=cs_agent, at=at(5), sla=PORT)


def stall(
    t: Ticket, quiet: float, stalled: float, now: float, stint: Any = None
) -> None:
    t.record_stall(
        stint_id=stint or t.current_stint_id,  # type: ignore[arg-type]
        quiet_since=at(quiet),
        stalled_at=at(stalled),
        stall_after_seconds=2 * H,
        actor=sweeper,
        at=at(now),
    )


# --- stalled ---------------------------------------------------------------


def test_a_quiet_stint_stalls_once_per_quiet_period() -> None:
    ticket = given(PORT, to_fin)
    fin = ticket.current_stint_id
    [event] = when(ticket, lambda t: stall(t, 5, 125, 130))
    assert isinstance(event, Ticket.StintStalled)
    assert (event.stint_id, event.department) == (fin, "FIN")
    assert (event.quiet_since, event.stalled_at) == (at(5), at(125))
    assert event.stall_after_seconds == 2 * H
    assert event.actor == sweeper
    assert ticket.stalled_since(fin) == at(5)  # type: ignore[arg-type]

    again = rejected(ticket, lambda t: stall(t, 5, 125, 200))
    assert again.code == "sla_already_recorded"


def test_new_public_activity_lets_the_stint_stall_again() -> None:
    ticket = given(PORT, to_fin, lambda t: stall(t, 5, 125, 130))
    when(
        ticket,
        lambda t: t.record_customer_reply(
            body="Any news?", actor=customer, at=at(140), sla=PORT
        ),
    )
    # The same quiet period (or an earlier one) is still refused...
    assert rejected(ticket, lambda t: stall(t, 5, 125, 300)).code == (
        "sla_already_recorded"
    )
    # ...a later one is a new stall.
    assert names(when(ticket, lambda t: stall(t, 140, 260, 300))) == ["StintStalled"]


def test_a_stall_is_refused_when_it_cannot_be_one() -> None:
    ticket = given(PORT, to_fin)
    fin = ticket.current_stint_id
    cs = next(s.id for s in ticket.stints.values() if s.department == "CS")
    # Not yet past the limit, or quiet since before the stint began.
    assert rejected(ticket, lambda t: stall(t, 5, 125, 100)).code == "clock_not_due"
    assert rejected(ticket, lambda t: stall(t, 0, 125, 130)).code == "clock_not_due"
    # A finished stint never stalls; an unknown one is an error.
    assert rejected(ticket, lambda t: stall(t, 0, 60, 130, cs)).code == "clock_not_due"
    unknown = rejected(ticket, lambda t: stall(t, 5, 125, 130, uuid4()))
    assert unknown.code == "unknown_handoff"
    # Only the system records stalls.
    human = rejected(
        ticket,
        lambda t: t.record_stall(
            stint_id=fin,  # type: ignore[arg-type]
            quiet_since=at(5),
            stalled_at=at(125),
            stall_after_seconds=2 * H,
            actor=fin_agent,
            at=at(130),
        ),
    )
    assert human.code == "not_permitted"
    # Waiting on the customer is not stalling.
    ticket.wait_on_customer(reason="Need the IBAN", actor=fin_agent, at=at(10))
    ticket.collect_events()
    assert rejected(ticket, lambda t: stall(t, 5, 125, 130)).code == "clock_not_due"


def test_a_stall_after_the_first_reply_counts_from_that_reply() -> None:
    def fin_replies(t: Ticket) -> None:
        t.respond(body="Looking", actor=fin_agent, at=at(30), sla=PORT)

    ticket = given(PORT, to_fin, fin_replies)
    assert rejected(ticket, lambda t: stall(t, 5, 125, 130)).code == "clock_not_due"
    assert names(when(ticket, lambda t: stall(t, 30, 150, 160))) == ["StintStalled"]


def test_resolved_and_closed_tickets_never_stall() -> None:
    def resolve(t: Ticket) -> None:
        t.resolve(
            resolution="Paid", root_cause="policy", actor=fin_agent, at=at(20), sla=PORT
        )

    ticket = given(PORT, to_fin, resolve)
    fin = list(ticket.stints)[-1]
    error = rejected(ticket, lambda t: stall(t, 5, 125, 130, fin))
    assert error.code == "ticket_resolved"


# --- abandoned -------------------------------------------------------------


def waits(t: Ticket) -> None:
    t.wait_on_customer(reason="Need the IBAN", actor=fin_agent, at=at(30))


def test_abandoning_stops_the_clocks_and_closes_with_the_reason() -> None:
    ticket = given(PORT, to_fin, waits)
    fin = ticket.current_stint_id
    assert fin is not None
    events = when(
        ticket, lambda t: t.abandon(actor=sweeper, at=at(60 * 24 * 14), sla=PORT)
    )
    assert names(events)[-1] == "Closed"
    closed = events[-1]
    assert closed.reason == ABANDONED == "abandoned"
    stopped = of_type(events, Ticket.ClockStopped)
    assert {e.clock_id for e in stopped} == {
        fin,
        stint_resolution_clock_id(fin),
        ticket.id,
    }
    assert {e.outcome for e in stopped} == {"abandoned"}
    # The paused clocks resumed for the stop: waiting time is not counted.
    fin_response = next(e for e in stopped if e.clock_id == fin)
    assert fin_response.business_seconds_used == 25 * 60
    assert ticket.status == Status.CLOSED
    stint = ticket.stints[fin]
    assert stint.ended_at == at(60 * 24 * 14)
    assert stint.outcome == StintOutcome.ABANDONED
    assert ticket.current_stint_id is None
    # Once: a closed ticket accepts nothing more.
    assert (
        rejected(
            ticket, lambda t: t.abandon(actor=sweeper, at=at(60 * 24 * 15), sla=PORT)
        ).code
        == "ticket_closed"
    )


def test_only_a_waiting_ticket_is_abandoned_and_only_by_the_system() -> None:
    ticket = given(PORT, to_fin)
    assert (
        rejected(ticket, lambda t: t.abandon(actor=sweeper, at=at(90), sla=PORT)).code
        == "not_waiting"
    )
    waiting = given(PORT, to_fin, waits)
    assert (
        rejected(
            waiting, lambda t: t.abandon(actor=fin_agent, at=at(90), sla=PORT)
        ).code
        == "not_permitted"
    )


def test_a_customer_reply_before_the_sweep_saves_the_ticket() -> None:
    def replies(t: Ticket) -> None:
        t.record_customer_reply(body="Here", actor=customer, at=at(40), sla=PORT)

    ticket = given(PORT, to_fin, waits, replies)
    error = rejected(ticket, lambda t: t.abandon(actor=sweeper, at=at(90), sla=PORT))
    assert error.code == "not_waiting"


def test_the_abandoned_history_replays_to_the_same_state() -> None:
    ticket = given(
        PORT, to_fin, waits, lambda t: t.abandon(actor=sweeper, at=at(900), sla=PORT)
    )
    assert ticket.status == Status.CLOSED
    assert all(c.stopped_at is not None for c in ticket.clocks.values())


# --- stored shapes ---------------------------------------------------------


def test_a_closed_event_stored_before_reasons_loads_with_an_empty_reason() -> None:
    def closes(t: Ticket) -> None:
        t.resolve(
            resolution="Paid", root_cause="policy", actor=fin_agent, at=at(20), sla=PORT
        )
        t.close(actor=cs_agent, at=at(30))

    ticket = given(PORT, to_fin)
    closes(ticket)
    closed = ticket.collect_events()[-1]
    assert isinstance(closed, Ticket.Closed)
    assert closed.reason == ""
    stored = mapper().to_stored_event(closed)
    assert json.loads(stored.state)["class_version"] == 2
    old = as_version_1(stored, "reason")
    assert b"reason" not in old.state
    loaded = mapper().to_domain_event(old)
    assert type(loaded) is Ticket.Closed
    assert loaded.reason == ""
    abandoned = given(PORT, to_fin, waits)
    abandoned.abandon(actor=sweeper, at=at(900), sla=PORT)
    event = abandoned.collect_events()[-1]
    assert mapper().to_domain_event(mapper().to_stored_event(event)).reason == (
        "abandoned"
    )
