"""SLA clocks on the Ticket aggregate, as narratives, with a fake SLA port.

CS (front line) promises a response in 1h and a resolution in 8h; Finance
a response in 2h and a resolution in 4h; Risk a response in 1h that keeps
running while waiting; Logistics promises nothing. Round-the-clock business
time unless a test says otherwise.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from tests.domain.support import (
    FIN,
    LOG,
    RISK,
    FakeSLAPort,
    H,
    M,
    at,
    cs_agent,
    customer,
    fin_agent,
    given,
    names,
    of_type,
    open_ticket,
    rejected,
    risk_agent,
    sweeper,
    when,
)
from tickets.domain import Ticket, stint_resolution_clock_id

PORT = FakeSLAPort()


def to_fin(t: Ticket, minutes: float = 5, sla: FakeSLAPort | None = PORT) -> UUID:
    return t.hand_off(
        to=FIN, reason="Approval", actor=cs_agent, at=at(minutes), sla=sla
    )


def fin_stint(t: Ticket) -> UUID:
    [stint] = [s.id for s in t.stints.values() if s.department == "FIN"]
    return stint


# --- starting -------------------------------------------------------------


def test_opening_starts_the_front_line_response_clock_and_the_ticket_clock() -> None:
    ticket = open_ticket(PORT)
    events = ticket.collect_events()
    stint = ticket.current_stint_id
    started = of_type(list(events), Ticket.ClockStarted)
    assert [(e.clock_id, e.kind, e.stint_id, e.department) for e in started] == [
        (stint, "response", stint, "CS"),
        (ticket.id, "resolution", None, "CS"),
    ]
    response, resolution = started
    assert (response.due_at, response.warn_at) == (at(60), at(45))
    assert resolution.due_at == at(8 * 60)
    assert (response.policy_version, response.calendar_version) == (3, 7)
    assert response.target_seconds == 1 * H
    assert ticket.clocks[ticket.id].is_running


def test_a_handoff_stops_the_senders_clock_and_starts_the_receivers_two() -> None:
    ticket = given(PORT)
    cs_stint = ticket.current_stint_id
    events = when(ticket, to_fin)
    handoff = ticket.current_stint_id
    assert names(events) == [
        "HandedOff",
        "ClockStopped",
        "ClockStarted",
        "ClockStarted",
    ]
    stopped = events[1]
    assert (stopped.clock_id, stopped.outcome, stopped.breached) == (
        cs_stint,
        "handed_on",
        False,
    )
    assert stopped.business_seconds_used == 5 * M
    response, resolution = events[2:]
    assert (response.clock_id, response.kind, response.due_at) == (
        handoff,
        "response",
        at(5 + 120),
    )
    assert resolution.clock_id == stint_resolution_clock_id(handoff)
    assert (resolution.kind, resolution.stint_id) == ("resolution", handoff)
    assert resolution.due_at == at(5 + 240)


def test_a_department_without_a_promise_runs_no_clock() -> None:
    ticket = given(PORT)
    events = when(
        ticket,
        lambda t: t.hand_off(
            to=LOG, reason="Shipping", actor=cs_agent, at=at(5), sla=PORT
        ),
    )
    assert of_type(events, Ticket.ClockStarted) == []


def test_without_a_port_no_clock_runs_and_commands_still_work() -> None:
    ticket = given(None, lambda t: to_fin(t, sla=None))
    assert ticket.clocks == {}
    events = when(ticket, lambda t: t.respond(body="On it", actor=fin_agent, at=at(9)))
    assert names(events) == ["Responded"]


def test_a_ticket_with_clocks_needs_the_port_to_stop_them() -> None:
    ticket = given(PORT, to_fin)
    with pytest.raises(RuntimeError, match="SLA port"):
        ticket.respond(body="On it", actor=fin_agent, at=at(30))


# --- stopping -------------------------------------------------------------


def fin_responds(minutes: float) -> Any:
    return lambda t: t.respond(body="On it", actor=fin_agent, at=at(minutes), sla=PORT)


def test_a_response_in_time_stops_the_clock_as_met() -> None:
    ticket = given(PORT, to_fin)
    events = when(ticket, fin_responds(5 + 90))
    assert names(events) == ["Responded", "ClockStopped"]
    stopped = events[1]
    assert (stopped.clock_id, stopped.outcome, stopped.breached) == (
        fin_stint(ticket),
        "responded",
        False,
    )
    assert stopped.business_seconds_used == 90 * M


def test_a_response_at_the_due_instant_is_in_time() -> None:
    [stopped] = of_type(
        when(given(PORT, to_fin), fin_responds(5 + 120)), Ticket.ClockStopped
    )
    assert stopped.breached is False


def test_a_late_response_records_the_breach_at_the_true_due_time() -> None:
    ticket = given(PORT, to_fin)
    events = when(ticket, fin_responds(5 + 150))
    assert names(events) == ["Responded", "SLABreached", "ClockStopped"]
    breach, stopped = events[1:]
    assert (breach.clock_id, breach.due_at, breach.timestamp) == (
        fin_stint(ticket),
        at(5 + 120),
        at(5 + 150),
    )
    assert (breach.kind, breach.department) == ("response", "FIN")
    assert stopped.breached is True
    assert stopped.business_seconds_used == 150 * M
    assert ticket.clocks[fin_stint(ticket)].breached


def test_resolving_stops_the_stints_clocks_and_the_ticket_clock() -> None:
    ticket = given(PORT, to_fin)
    events = when(
        ticket,
        lambda t: t.resolve(
            resolution="Refunded",
            root_cause="process",
            actor=fin_agent,
            at=at(65),
            sla=PORT,
        ),
    )
    stopped = of_type(events, Ticket.ClockStopped)
    handoff = fin_stint(ticket)
    assert [(e.clock_id, e.outcome) for e in stopped] == [
        (handoff, "resolved"),
        (stint_resolution_clock_id(handoff), "resolved"),
        (ticket.id, "resolved"),
    ]
    assert [e.business_seconds_used for e in stopped] == [60 * M, 60 * M, 65 * M]
    assert not any(c.is_running for c in ticket.clocks.values())


# --- pausing and resuming -------------------------------------------------


def fin_waits(minutes: float) -> Any:
    return lambda t: t.wait_on_customer(
        reason="Bank details", actor=fin_agent, at=at(minutes)
    )


def test_waiting_pauses_every_clock_that_pauses_on_waiting() -> None:
    ticket = given(PORT, to_fin)
    events = when(ticket, fin_waits(35))
    handoff = fin_stint(ticket)
    assert names(events) == ["WaitingOnCustomer"] + ["ClockPaused"] * 3
    assert {e.clock_id for e in events[1:]} == {
        ticket.id,
        handoff,
        stint_resolution_clock_id(handoff),
    }
    assert all(
        c.paused_at == at(35) for c in ticket.clocks.values() if not c.stopped_at
    )


def test_a_clock_whose_policy_does_not_pause_keeps_running_while_waiting() -> None:
    ticket = given(
        PORT,
        lambda t: t.hand_off(
            to=RISK, reason="Fraud?", actor=cs_agent, at=at(5), sla=PORT
        ),
    )
    risk_clock = ticket.current_stint_id
    assert risk_clock is not None
    events = when(ticket, lambda t: t.wait_on_customer(actor=risk_agent, at=at(20)))
    assert risk_clock not in {e.clock_id for e in of_type(events, Ticket.ClockPaused)}
    assert ticket.clocks[risk_clock].is_running
    # ... so it can breach while waiting, and the sweep may record it.
    events = when(
        ticket,
        lambda t: t.record_sla_breach(clock_id=risk_clock, actor=sweeper, at=at(70)),
    )
    assert names(events) == ["SLABreached"]


def test_a_reply_resumes_the_clocks_with_due_times_moved_by_the_pause() -> None:
    ticket = given(PORT, to_fin, fin_waits(35))
    handoff = fin_stint(ticket)
    events = when(
        ticket,
        lambda t: t.record_customer_reply(
            body="Here", actor=customer, at=at(35 + 60), sla=PORT
        ),
    )
    assert names(events) == ["CustomerReplied", "WaitingEnded"] + ["ClockResumed"] * 3
    assert events[1].cause == "customer_replied"
    resumed = {e.clock_id: e for e in events[2:]}
    assert resumed[handoff].paused_seconds == 60 * M
    assert (resumed[handoff].due_at, resumed[handoff].warn_at) == (
        at(5 + 120 + 60),
        at(5 + 90 + 60),
    )
    assert resumed[ticket.id].due_at == at(8 * 60 + 60)
    assert {e.cause for e in events[2:]} == {"waiting_ended"}
    assert ticket.clocks[handoff].is_running
    # Paused time is not used time.
    [stopped] = of_type(when(ticket, fin_responds(35 + 60 + 30)), Ticket.ClockStopped)
    assert stopped.business_seconds_used == (30 + 30) * M
    assert stopped.breached is False


def test_a_pause_moves_the_due_time_only_by_business_time() -> None:
    """09:00-17:00 calendar. Finance receives the ticket Monday 15:00 (due
    17:00, warning 16:30), waits from 16:00 to Tuesday 10:00: two business
    hours (16-17, 9-10), so due Tuesday 11:00 and warning Tuesday 10:30."""
    office = FakeSLAPort(opens=9, closes=17)
    mon = at(0).replace(hour=0)

    def hour(h: float) -> Any:
        return mon + timedelta(hours=h)

    ticket = given(
        office,
        lambda t: t.hand_off(
            to=FIN, reason="Approval", actor=cs_agent, at=hour(15), sla=office
        ),
        lambda t: t.wait_on_customer(actor=fin_agent, at=hour(16)),
    )
    handoff = fin_stint(ticket)
    events = when(
        ticket, lambda t: t.end_waiting(actor=fin_agent, at=hour(34), sla=office)
    )
    assert events[0].cause == "ended_by_staff"
    [moved] = [e for e in of_type(events, Ticket.ClockResumed) if e.clock_id == handoff]
    assert moved.paused_seconds == 2 * H
    assert (moved.due_at, moved.warn_at) == (hour(24 + 11), hour(24 + 10.5))


def test_a_clock_already_late_when_it_pauses_is_breached_first() -> None:
    ticket = given(PORT, to_fin)
    handoff = fin_stint(ticket)
    events = when(ticket, fin_waits(5 + 180))
    breaches = of_type(events, Ticket.SLABreached)
    assert [(e.clock_id, e.due_at) for e in breaches] == [(handoff, at(5 + 120))]
    # Breached before it paused: the breach is followed by its pause.
    after = events[events.index(breaches[0]) + 1]
    assert isinstance(after, Ticket.ClockPaused)
    assert after.clock_id == handoff
    # The verdict stays when it stops later, and the breach is not repeated.
    ticket.record_customer_reply(body="Here", actor=customer, at=at(300), sla=PORT)
    ticket.collect_events()
    events = when(ticket, fin_responds(301))
    assert of_type(events, Ticket.SLABreached) == []
    [stopped] = of_type(events, Ticket.ClockStopped)
    assert stopped.breached is True


def test_stopping_a_paused_clock_resumes_it_first_and_leaves_the_pause_out() -> None:
    ticket = given(PORT, to_fin, fin_waits(35))
    handoff = fin_stint(ticket)
    events = when(
        ticket,
        lambda t: t.resolve(
            resolution="Refunded",
            root_cause="process",
            actor=fin_agent,
            at=at(95),
            sla=PORT,
        ),
    )
    response = [e for e in events if getattr(e, "clock_id", None) == handoff]
    assert names(response) == ["ClockResumed", "ClockStopped"]
    assert response[0].cause == "stopping"
    assert response[0].paused_seconds == 60 * M
    assert response[1].business_seconds_used == 30 * M


def test_reopening_resumes_the_ticket_clock_moved_by_the_time_it_was_stopped() -> None:
    ticket = given(
        PORT,
        lambda t: t.resolve(
            resolution="Done",
            root_cause="process",
            actor=cs_agent,
            at=at(120),
            sla=PORT,
        ),
    )
    events = when(
        ticket,
        lambda t: t.reopen(reason="Back again", actor=customer, at=at(300), sla=PORT),
    )
    [resumed] = of_type(events, Ticket.ClockResumed)
    assert (resumed.clock_id, resumed.cause) == (ticket.id, "reopened")
    assert resumed.paused_seconds == 180 * M
    assert resumed.due_at == at(8 * 60 + 180)
    [started] = of_type(events, Ticket.ClockStarted)
    assert started.clock_id == ticket.current_stint_id
    assert ticket.clocks[ticket.id].is_running


# --- warnings and breaches found by the sweep ------------------------------


def warn(clock: Any, minutes: float) -> Any:
    return lambda t: t.record_sla_warning(
        clock_id=clock(t), actor=sweeper, at=at(minutes)
    )


def breach(clock: Any, minutes: float) -> Any:
    return lambda t: t.record_sla_breach(
        clock_id=clock(t), actor=sweeper, at=at(minutes)
    )


def test_a_warning_is_recorded_from_the_warning_time_on_once() -> None:
    ticket = given(PORT, to_fin)
    assert rejected(ticket, warn(fin_stint, 5 + 89)).code == "clock_not_due"
    [event] = when(ticket, warn(fin_stint, 5 + 90))
    assert isinstance(event, Ticket.SLAWarningIssued)
    assert (event.warn_at, event.due_at, event.kind) == (
        at(5 + 90),
        at(5 + 120),
        "response",
    )
    assert rejected(ticket, warn(fin_stint, 5 + 100)).code == "sla_already_recorded"


def test_a_breach_is_recorded_from_the_due_time_on_once_keeping_the_due_time() -> None:
    ticket = given(PORT, to_fin)
    assert rejected(ticket, breach(fin_stint, 5 + 119)).code == "clock_not_due"
    [event] = when(ticket, breach(fin_stint, 5 + 600))
    assert isinstance(event, Ticket.SLABreached)
    assert (event.due_at, event.timestamp) == (at(5 + 120), at(5 + 600))
    assert rejected(ticket, breach(fin_stint, 5 + 700)).code == "sla_already_recorded"
    # No warning after the breach.
    assert rejected(ticket, warn(fin_stint, 5 + 700)).code == "sla_already_recorded"


def test_a_breach_may_be_recorded_at_the_due_instant() -> None:
    [event] = when(given(PORT, to_fin), breach(fin_stint, 5 + 120))
    assert isinstance(event, Ticket.SLABreached)


def test_paused_or_stopped_clocks_are_not_due() -> None:
    paused = given(PORT, to_fin, fin_waits(35))
    assert rejected(paused, breach(fin_stint, 5 + 600)).code == "clock_not_due"
    assert rejected(paused, warn(fin_stint, 5 + 600)).code == "clock_not_due"
    stopped = given(PORT, to_fin, fin_responds(30))
    assert rejected(stopped, breach(fin_stint, 5 + 600)).code == "clock_not_due"


def test_an_unknown_clock_is_rejected() -> None:
    ticket = given(PORT)
    error = rejected(ticket, breach(lambda t: UUID(int=1), 600))
    assert error.code == "clock_not_found"
