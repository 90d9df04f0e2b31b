"""Ticket aggregate rules, as narratives: given past events, when a command
is issued, then these events (or this rejection, and no new event).

No database: the aggregate is rebuilt from the given events exactly as the
repository would rebuild it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tickets import domain
from tickets.domain import (
    Actor,
    AgentRef,
    DepartmentRef,
    Principal,
    Status,
    Ticket,
    TicketError,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

CS = DepartmentRef("CS", "Customer Service", active=True, front_line=True)
FIN = DepartmentRef("FIN", "Finance")
LOG = DepartmentRef("LOG", "Logistics")
RISK_INACTIVE = DepartmentRef("RISK", "Risk Control", active=False)

cs_agent = Actor("user", "1", "Cara Smith", "Cara", "CS")
fin_agent = Actor("user", "2", "Finn Jones", "Finn", "FIN")
log_agent = Actor("user", "3", "Lola Brown", "Lola", "LOG")
customer = Actor("customer", "CUST-1", "Dana Customer", "Dana")


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def open_event(**overrides: Any) -> Ticket:
    fields: dict[str, Any] = dict(  # noqa: C408 (reads like the call)
        subject="Refund not received",
        description="Returned two weeks ago",
        customer_ref="CUST-1",
        customer_name="Dana Customer",
        customer_timezone="Europe/Paris",
        channel="web",
        scenario="refund",
        priority="normal",
        front_line=CS,
        actor=cs_agent,
        at=T0,
    )
    fields.update(overrides)
    return Ticket.open(**fields)


def given(*steps: Callable[[Ticket], Any]) -> Ticket:
    """Open a ticket, apply ``steps`` (commands), and return the aggregate
    rebuilt from the resulting events, with nothing pending."""
    ticket = open_event()
    for step in steps:
        step(ticket)
    events = ticket.collect_events()
    rebuilt: Any = None
    for event in events:
        rebuilt = event.mutate(rebuilt)
    assert rebuilt.version == len(events)
    return rebuilt


def when(ticket: Ticket, command: Callable[[Ticket], Any]) -> list[Any]:
    command(ticket)
    return list(ticket.collect_events())


def rejected(ticket: Ticket, command: Callable[[Ticket], Any]) -> TicketError:
    """Run a command that must fail; assert it left no pending event and
    did not change the version."""
    version = ticket.version
    with pytest.raises(TicketError) as info:
        command(ticket)
    assert ticket.pending_events == []
    assert ticket.version == version
    return info.value


def handed_to_fin(t: Ticket) -> None:
    t.hand_off(to=FIN, reason="Refund needs approval", actor=cs_agent, at=at(5))


def fin_responds(t: Ticket) -> None:
    t.respond(body="We are on it", actor=fin_agent, at=at(30))


def fin_resolves(t: Ticket) -> None:
    t.resolve(resolution="Refunded", root_cause="process", actor=fin_agent, at=at(60))


def fin_waits(t: Ticket) -> None:
    t.wait_on_customer(reason="Need bank details", actor=fin_agent, at=at(40))


def closed_by_cs(t: Ticket) -> None:
    t.close(actor=cs_agent, at=at(90))


# --- opening --------------------------------------------------------------


def test_opening_records_the_request_with_the_front_line_as_owner() -> None:
    ticket = open_event()
    [event] = ticket.collect_events()
    assert isinstance(event, Ticket.Opened)
    assert event.department == "CS"
    assert event.department_name == "Customer Service"
    assert event.actor == cs_agent
    assert event.timestamp == T0
    assert event.scenario == "REFUND"
    assert ticket.owner == "CS"
    assert ticket.status == Status.OPEN
    assert ticket.current_stint is not None
    assert ticket.current_stint.department == "CS"


def test_opening_with_a_back_office_department_is_rejected() -> None:
    with pytest.raises(domain.NotPermitted) as info:
        open_event(front_line=FIN)
    assert info.value.code == "not_permitted"


def test_opening_with_an_inactive_front_line_is_rejected() -> None:
    inactive = DepartmentRef("CS", "Customer Service", active=False, front_line=True)
    with pytest.raises(domain.DepartmentInactive) as info:
        open_event(front_line=inactive)
    assert info.value.code == "department_inactive"


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"subject": "   "}, "field_required", "subject"),
        ({"subject": "x" * 201}, "field_too_long", "subject"),
        ({"description": "x" * 10_001}, "field_too_long", "description"),
        ({"customer_ref": ""}, "field_required", "customer_ref"),
        ({"customer_name": "x" * 201}, "field_too_long", "customer_name"),
        ({"channel": "pigeon"}, "invalid_choice", "channel"),
        ({"priority": "critical"}, "invalid_choice", "priority"),
        (
            {"customer_timezone": "Mars/Olympus"},
            "invalid_timezone",
            "customer_timezone",
        ),
        ({"scenario": "bad scenario!"}, "invalid_scenario", "scenario"),
        ({"external_ref": "x" * 129}, "field_too_long", "external_ref"),
        ({"subject": 42}, "invalid_type", "subject"),
    ],
)
def test_opening_with_invalid_input_is_rejected_with_a_code(
    overrides: dict[str, Any], code: str, field: str
) -> None:
    with pytest.raises(domain.InvalidInput) as info:
        open_event(**overrides)
    assert info.value.code == code
    assert info.value.field == field


def test_naive_or_non_utc_times_are_refused() -> None:
    with pytest.raises(ValueError, match="UTC"):
        open_event(at=datetime(2026, 3, 2, 9, 0))
    ticket = given()
    from zoneinfo import ZoneInfo

    with pytest.raises(ValueError, match="UTC"):
        ticket.respond(
            body="hi",
            actor=cs_agent,
            at=datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
        )


# --- handing off ----------------------------------------------------------


def test_handing_off_moves_ownership_and_starts_a_new_stint() -> None:
    ticket = given()
    opening_stint = ticket.current_stint_id
    [event] = when(ticket, handed_to_fin)
    assert isinstance(event, Ticket.HandedOff)
    assert (event.from_department, event.to_department) == ("CS", "FIN")
    assert event.to_department_name == "Finance"
    assert event.reason == "Refund needs approval"
    assert event.from_stint_id == opening_stint
    assert ticket.owner == "FIN"
    assert ticket.current_stint_id == event.handoff_id
    assert ticket.stints[opening_stint].outcome == "handed_on"
    assert ticket.stints[opening_stint].ended_at == at(5)


def test_handing_off_to_the_current_owner_is_rejected() -> None:
    error = rejected(
        given(), lambda t: t.hand_off(to=CS, reason="again", actor=cs_agent, at=at(1))
    )
    assert error.code == "handoff_to_current_owner"


def test_handing_off_to_an_inactive_department_is_rejected() -> None:
    error = rejected(
        given(),
        lambda t: t.hand_off(
            to=RISK_INACTIVE, reason="fraud", actor=cs_agent, at=at(1)
        ),
    )
    assert error.code == "department_inactive"


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_handing_off_without_a_reason_is_rejected(reason: Any) -> None:
    error = rejected(
        given(), lambda t: t.hand_off(to=FIN, reason=reason, actor=cs_agent, at=at(1))
    )
    assert error.code == "reason_required"


def test_handing_off_with_an_overlong_reason_is_rejected() -> None:
    error = rejected(
        given(),
        lambda t: t.hand_off(to=FIN, reason="r" * 1001, actor=cs_agent, at=at(1)),
    )
    assert error.code == "field_too_long"


def test_handing_off_while_waiting_ends_the_wait_first() -> None:
    ticket = given(handed_to_fin, fin_waits)
    events = when(
        ticket,
        lambda t: t.hand_off(to=LOG, reason="Parcel", actor=fin_agent, at=at(50)),
    )
    assert [type(e) for e in events] == [Ticket.WaitingEnded, Ticket.HandedOff]
    assert events[0].cause == "handed_off"
    assert ticket.status == Status.OPEN


# --- owner-only commands --------------------------------------------------

OWNER_ONLY: dict[str, Callable[[Ticket], Any]] = {
    "respond": lambda t: t.respond(body="hello", actor=cs_agent, at=at(10)),
    "hand off": lambda t: t.hand_off(to=LOG, reason="x", actor=cs_agent, at=at(10)),
    "resolve": lambda t: t.resolve(
        resolution="done", root_cause="other", actor=cs_agent, at=at(10)
    ),
    "wait": lambda t: t.wait_on_customer(actor=cs_agent, at=at(10)),
    "assign": lambda t: t.assign(
        agent=AgentRef("1", "Cara Smith", frozenset({"CS"})), actor=cs_agent, at=at(10)
    ),
    "change priority": lambda t: t.change_priority(
        priority="high", actor=log_agent, at=at(10)
    ),
}


@pytest.mark.parametrize("command", OWNER_ONLY.values(), ids=OWNER_ONLY.keys())
def test_only_the_owning_department_may_act(command: Callable[[Ticket], Any]) -> None:
    ticket = given(handed_to_fin)  # Finance owns it; CS and LOG do not
    error = rejected(ticket, command)
    assert error.code == "not_owner"


def test_ending_the_wait_is_for_the_owner_only() -> None:
    ticket = given(handed_to_fin, fin_waits)
    error = rejected(ticket, lambda t: t.end_waiting(actor=cs_agent, at=at(45)))
    assert error.code == "not_owner"


def test_the_front_line_may_change_priority_and_scenario_of_a_ticket_it_handed_on() -> (
    None
):
    ticket = given(handed_to_fin)
    events = when(
        ticket, lambda t: t.change_priority(priority="urgent", actor=cs_agent, at=at(9))
    )
    events += when(
        ticket,
        lambda t: t.change_scenario(scenario="chargeback", actor=cs_agent, at=at(9)),
    )
    assert [type(e) for e in events] == [Ticket.PriorityChanged, Ticket.ScenarioChanged]
    assert (events[0].previous, events[0].priority) == ("normal", "urgent")
    assert (events[1].previous, events[1].scenario) == ("REFUND", "CHARGEBACK")


def test_changing_priority_to_the_same_value_is_rejected() -> None:
    error = rejected(
        given(),
        lambda t: t.change_priority(priority="normal", actor=cs_agent, at=at(1)),
    )
    assert error.code == "no_change"


# --- responses, notes, customers -----------------------------------------


def test_the_first_response_ends_the_stints_response_obligation() -> None:
    ticket = given(handed_to_fin)
    stint_id = ticket.current_stint_id
    [event] = when(ticket, fin_responds)
    assert isinstance(event, Ticket.Responded)
    assert event.stint_id == stint_id
    assert ticket.stints[stint_id].first_response_at == at(30)
    assert ticket.stints[stint_id].outcome == "responded"
    # a second reply keeps the first response time
    when(ticket, lambda t: t.respond(body="more", actor=fin_agent, at=at(35)))
    assert ticket.stints[stint_id].first_response_at == at(30)


def test_a_customer_reply_while_waiting_ends_the_wait() -> None:
    ticket = given(handed_to_fin, fin_waits)
    events = when(
        ticket,
        lambda t: t.record_customer_reply(body="IBAN ...", actor=customer, at=at(45)),
    )
    assert [type(e) for e in events] == [Ticket.CustomerReplied, Ticket.WaitingEnded]
    assert events[1].cause == "customer_replied"
    assert ticket.status == Status.OPEN


def test_a_customer_reply_when_not_waiting_is_just_recorded() -> None:
    ticket = given(handed_to_fin)
    events = when(
        ticket,
        lambda t: t.record_customer_reply(body="Any news?", actor=customer, at=at(9)),
    )
    assert [type(e) for e in events] == [Ticket.CustomerReplied]


def test_waiting_twice_is_rejected_and_ending_a_wait_that_is_not_is_rejected() -> None:
    assert (
        rejected(given(handed_to_fin, fin_waits), fin_waits).code == "already_waiting"
    )
    error = rejected(
        given(handed_to_fin), lambda t: t.end_waiting(actor=fin_agent, at=at(9))
    )
    assert error.code == "not_waiting"


def test_customers_cannot_add_internal_notes() -> None:
    error = rejected(given(), lambda t: t.add_note(body="x", actor=customer, at=at(1)))
    assert error.code == "not_permitted"


def test_departments_that_never_handled_the_ticket_cannot_add_notes() -> None:
    error = rejected(given(), lambda t: t.add_note(body="x", actor=log_agent, at=at(1)))
    assert error.code == "not_permitted"


def test_a_department_that_handed_the_ticket_on_may_still_add_notes() -> None:
    ticket = given(handed_to_fin)
    [event] = when(ticket, lambda t: t.add_note(body="FYI", actor=cs_agent, at=at(8)))
    assert isinstance(event, Ticket.NoteAdded)
    assert event.body == "FYI"


def test_assigning_a_member_of_the_owning_department() -> None:
    ticket = given(handed_to_fin)
    agent = AgentRef("2", "Finn Jones", frozenset({"FIN"}))
    [event] = when(ticket, lambda t: t.assign(agent=agent, actor=fin_agent, at=at(6)))
    assert isinstance(event, Ticket.AgentAssigned)
    assert (event.agent_id, event.department) == ("2", "FIN")
    assert ticket.assignee_id == "2"
    assert ticket.current_stint is not None
    assert ticket.current_stint.agent_id == "2"


def test_assigning_someone_outside_the_owning_department_is_rejected() -> None:
    outsider = AgentRef("3", "Lola Brown", frozenset({"LOG"}))
    error = rejected(
        given(handed_to_fin),
        lambda t: t.assign(agent=outsider, actor=fin_agent, at=at(6)),
    )
    assert error.code == "assignee_not_member"


# --- resolving, reopening, closing -----------------------------------------


def test_resolving_ends_the_stint_and_records_the_root_cause() -> None:
    ticket = given(handed_to_fin, fin_responds)
    stint_id = ticket.current_stint_id
    [event] = when(ticket, fin_resolves)
    assert isinstance(event, Ticket.Resolved)
    assert (event.root_cause, event.stint_id) == ("process", stint_id)
    assert ticket.status == Status.RESOLVED
    assert ticket.stints[stint_id].ended_at == at(60)
    assert ticket.stints[stint_id].outcome == "responded"  # first outcome kept
    assert ticket.current_stint_id is None


def test_resolving_with_an_unknown_root_cause_is_rejected() -> None:
    error = rejected(
        given(handed_to_fin),
        lambda t: t.resolve(
            resolution="x", root_cause="gremlins", actor=fin_agent, at=at(9)
        ),
    )
    assert error.code == "invalid_choice"


AFTER_RESOLUTION: dict[str, Callable[[Ticket], Any]] = {
    "respond": lambda t: t.respond(body="x", actor=fin_agent, at=at(70)),
    "hand off": lambda t: t.hand_off(to=LOG, reason="x", actor=fin_agent, at=at(70)),
    "note": lambda t: t.add_note(body="x", actor=fin_agent, at=at(70)),
    "customer reply": lambda t: t.record_customer_reply(
        body="x", actor=customer, at=at(70)
    ),
    "wait": lambda t: t.wait_on_customer(actor=fin_agent, at=at(70)),
    "resolve": lambda t: t.resolve(
        resolution="x", root_cause="other", actor=fin_agent, at=at(70)
    ),
    "priority": lambda t: t.change_priority(
        priority="high", actor=fin_agent, at=at(70)
    ),
    "scenario": lambda t: t.change_scenario(scenario="X", actor=fin_agent, at=at(70)),
    "assign": lambda t: t.assign(
        agent=AgentRef("2", "Finn", frozenset({"FIN"})), actor=fin_agent, at=at(70)
    ),
}


@pytest.mark.parametrize(
    "command", AFTER_RESOLUTION.values(), ids=AFTER_RESOLUTION.keys()
)
def test_a_resolved_ticket_accepts_nothing_but_reopen_or_close(
    command: Callable[[Ticket], Any],
) -> None:
    error = rejected(given(handed_to_fin, fin_resolves), command)
    assert error.code == "ticket_resolved"


def test_reopening_gives_the_resolving_department_a_fresh_stint() -> None:
    ticket = given(handed_to_fin, fin_resolves)
    [event] = when(
        ticket, lambda t: t.reopen(reason="Still no money", actor=customer, at=at(80))
    )
    assert isinstance(event, Ticket.Reopened)
    assert (event.department, event.department_name) == ("FIN", "Finance")
    assert ticket.status == Status.OPEN
    assert ticket.current_stint_id == event.stint_id
    assert ticket.stints[event.stint_id].department == "FIN"
    assert len(ticket.stints) == 3


@pytest.mark.parametrize("reason", ["", "  "])
def test_reopening_without_a_reason_is_rejected(reason: str) -> None:
    error = rejected(
        given(handed_to_fin, fin_resolves),
        lambda t: t.reopen(reason=reason, actor=customer, at=at(80)),
    )
    assert error.code == "reason_required"


def test_reopening_an_open_ticket_is_rejected() -> None:
    error = rejected(given(), lambda t: t.reopen(reason="x", actor=customer, at=at(1)))
    assert error.code == "ticket_not_resolved"


def test_closing_needs_a_resolved_ticket() -> None:
    error = rejected(given(handed_to_fin), closed_by_cs)
    assert error.code == "ticket_not_resolved"


def test_the_front_line_closes_a_resolved_ticket() -> None:
    ticket = given(handed_to_fin, fin_resolves)
    [event] = when(ticket, closed_by_cs)
    assert isinstance(event, Ticket.Closed)
    assert ticket.status == Status.CLOSED


def test_an_uninvolved_department_cannot_close() -> None:
    error = rejected(
        given(handed_to_fin, fin_resolves),
        lambda t: t.close(actor=log_agent, at=at(91)),
    )
    assert error.code == "not_owner"


AFTER_CLOSE: dict[str, Callable[[Ticket], Any]] = {
    **AFTER_RESOLUTION,
    "reopen": lambda t: t.reopen(reason="again", actor=customer, at=at(99)),
    "close": lambda t: t.close(actor=cs_agent, at=at(99)),
    "end waiting": lambda t: t.end_waiting(actor=fin_agent, at=at(99)),
}


@pytest.mark.parametrize("command", AFTER_CLOSE.values(), ids=AFTER_CLOSE.keys())
def test_a_closed_ticket_accepts_nothing_at_all(
    command: Callable[[Ticket], Any],
) -> None:
    error = rejected(given(handed_to_fin, fin_resolves, closed_by_cs), command)
    assert error.code == "ticket_closed"


# --- principals and topics -------------------------------------------------


def test_a_principal_acts_for_the_owner_when_a_member_else_the_front_line() -> None:
    both = Principal("user", "9", "Multi Person", "Multi", ("CS", "FIN"))
    assert both.actor_for("FIN", "CS").department == "FIN"
    assert both.actor_for("LOG", "CS").department == "CS"
    assert (
        Principal("user", "9", departments=("PROD",)).actor_for("LOG", "CS").department
        == "PROD"
    )
    assert Principal("customer", "C1").actor_for("FIN").department is None


# Stored topics are a contract with every event already in a log: each
# one is written out here, never computed, so renaming or moving a class
# (or changing the prefix) fails this test instead of orphaning history.
PINNED_TOPICS = {
    "Created": "baton.tickets:Ticket.Created",
    "Opened": "baton.tickets:Ticket.Opened",
    "HandedOff": "baton.tickets:Ticket.HandedOff",
    "Responded": "baton.tickets:Ticket.Responded",
    "NoteAdded": "baton.tickets:Ticket.NoteAdded",
    "CustomerReplied": "baton.tickets:Ticket.CustomerReplied",
    "WaitingOnCustomer": "baton.tickets:Ticket.WaitingOnCustomer",
    "WaitingEnded": "baton.tickets:Ticket.WaitingEnded",
    "Resolved": "baton.tickets:Ticket.Resolved",
    "Reopened": "baton.tickets:Ticket.Reopened",
    "Closed": "baton.tickets:Ticket.Closed",
    "PriorityChanged": "baton.tickets:Ticket.PriorityChanged",
    "ScenarioChanged": "baton.tickets:Ticket.ScenarioChanged",
    "AgentAssigned": "baton.tickets:Ticket.AgentAssigned",
    "HandoffRated": "baton.tickets:Ticket.HandoffRated",
    "ExperienceRated": "baton.tickets:Ticket.ExperienceRated",
    "ClockStarted": "baton.tickets:Ticket.ClockStarted",
    "ClockPaused": "baton.tickets:Ticket.ClockPaused",
    "ClockResumed": "baton.tickets:Ticket.ClockResumed",
    "ClockStopped": "baton.tickets:Ticket.ClockStopped",
    "SLAWarningIssued": "baton.tickets:Ticket.SLAWarningIssued",
    "SLABreached": "baton.tickets:Ticket.SLABreached",
    "StintStalled": "baton.tickets:Ticket.StintStalled",
    "DisputeOpened": "baton.tickets:Ticket.DisputeOpened",
    "DisputeDecided": "baton.tickets:Ticket.DisputeDecided",
    "FollowUpOpened": "baton.tickets:Ticket.FollowUpOpened",
    "FollowUpAssigned": "baton.tickets:Ticket.FollowUpAssigned",
    "FollowUpNoteAdded": "baton.tickets:Ticket.FollowUpNoteAdded",
    "FollowUpCustomerContacted": "baton.tickets:Ticket.FollowUpCustomerContacted",
    "FollowUpClosed": "baton.tickets:Ticket.FollowUpClosed",
    "FollowUpReopened": "baton.tickets:Ticket.FollowUpReopened",
}


def ticket_event_classes() -> dict[str, type]:
    """Every event class the Ticket aggregate can store: its nested
    classes that are domain events, except the abstract ``Ticket.Event``
    base (never instantiated, so never stored)."""
    from eventsourcing.domain import CanMutateAggregate

    return {
        name: value
        for name, value in vars(Ticket).items()
        if isinstance(value, type)
        and issubclass(value, CanMutateAggregate)
        and value is not Ticket.Event
    }


def test_every_event_of_the_aggregate_has_a_pinned_topic() -> None:
    """A new event class without a pinned topic fails here."""
    assert set(ticket_event_classes()) == set(PINNED_TOPICS)


@pytest.mark.parametrize("name", sorted(PINNED_TOPICS))
def test_each_event_topic_is_stable_and_resolves_back(name: str) -> None:
    from eventsourcing.utils import get_topic, resolve_topic

    cls = ticket_event_classes()[name]
    topic = PINNED_TOPICS[name]
    assert get_topic(cls) == topic
    assert resolve_topic(topic) is cls


def test_stored_events_carry_the_pinned_topics_and_load_back() -> None:
    from tickets.application import TicketsApplication

    assert Ticket.TOPIC == "baton.tickets:Ticket"
    app = TicketsApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    ticket = open_event()
    handed_to_fin(ticket)
    app.save(ticket)
    stored = app.recorder.select_notifications(start=1, limit=10)
    assert [n.topic for n in stored] == [
        PINNED_TOPICS["Opened"],
        PINNED_TOPICS["HandedOff"],
    ]
    assert app.repository.get(ticket.id).owner == "FIN"
