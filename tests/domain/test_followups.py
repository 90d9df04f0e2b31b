"""Following up the dissatisfied few: a rating of 1 or 2 opens a follow-up
in the same command; the service team works it step by step."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest

from tests.domain.support import (
    FIN,
    LOG,
    at,
    cs_agent,
    cs_lead,
    customer,
    fin_agent,
    given,
    log_agent,
    of_type,
    rejected,
    when,
)
from tickets.domain import AgentRef, Ticket, follow_up_id_for

CS_LEAD = AgentRef(cs_lead.id, cs_lead.name, frozenset({"CS"}))
FINN = AgentRef(fin_agent.id, fin_agent.name, frozenset({"FIN"}))


def to_fin_then_log(t: Ticket) -> None:
    t.hand_off(to=FIN, reason="Approval", actor=cs_agent, at=at(5))
    t.hand_off(to=LOG, reason="Ship it", actor=fin_agent, at=at(30))


def fin_stint(t: Ticket) -> Any:
    return next(s.id for s in t.stints.values() if s.department == "FIN")


def rate_fin(score: int, hours: float = 24) -> Any:
    return lambda t: t.rate_handoff(
        handoff_id=fin_stint(t),
        score=score,
        comment="Nobody called back",
        actor=customer,
        at=at(70),
        follow_up_hours=hours,
    )


def rated_low() -> Ticket:
    return given(None, to_fin_then_log, rate_fin(1))


def the_follow_up(t: Ticket) -> Any:
    [follow_up_id] = t.follow_ups
    return follow_up_id


def step(name: str, actor: Any = cs_lead, team: bool = True, **kw: Any) -> Any:
    def run(t: Ticket) -> None:
        getattr(t, name)(
            follow_up_id=kw.pop("follow_up_id", None) or the_follow_up(t),
            actor=actor,
            at=at(90),
            service_team=team,
            **kw,
        )

    return run


def test_a_low_rating_opens_one_follow_up_in_the_same_command() -> None:
    ticket = given(None, to_fin_then_log)
    events = when(ticket, rate_fin(2, hours=8))
    rated, opened = events
    assert isinstance(rated, Ticket.HandoffRated)
    assert isinstance(opened, Ticket.FollowUpOpened)
    assert opened.follow_up_id == follow_up_id_for(ticket.id, fin_stint(ticket))
    assert (opened.department, opened.score, opened.comment) == (
        "FIN",
        2,
        "Nobody called back",
    )
    assert opened.due_at == at(70) + timedelta(hours=8)
    assert opened.actor == customer


@pytest.mark.parametrize("score", [3, 4, 5])
def test_a_fair_or_good_rating_opens_nothing(score: int) -> None:
    events = when(given(None, to_fin_then_log), rate_fin(score))
    assert of_type(events, Ticket.FollowUpOpened) == []


def test_a_low_experience_rating_follows_up_the_resolving_department() -> None:
    def resolve_and_rate(t: Ticket) -> None:
        t.resolve(resolution="Sent", root_cause="process", actor=log_agent, at=at(60))

    ticket = given(None, to_fin_then_log, resolve_and_rate)
    events = when(
        ticket,
        lambda t: t.rate_experience(score=1, comment="", actor=customer, at=at(80)),
    )
    [opened] = of_type(events, Ticket.FollowUpOpened)
    assert (opened.department, opened.handoff_id) == ("LOG", None)
    assert opened.due_at == at(80) + timedelta(hours=24)


def test_the_service_team_works_a_follow_up_step_by_step() -> None:
    ticket = rated_low()
    [assigned] = when(ticket, step("assign_follow_up", owner=CS_LEAD))
    assert (assigned.owner_id, assigned.owner_name) == (CS_LEAD.id, CS_LEAD.name)
    [noted] = when(ticket, step("note_follow_up", note="Called Finance"))
    assert noted.note == "Called Finance"
    [contacted] = when(
        ticket, step("record_follow_up_contact", method="phone", note="Apologised")
    )
    assert contacted.method == "phone"
    follow_up = ticket.follow_ups[the_follow_up(ticket)]
    assert follow_up.contacted and follow_up.owner_id == CS_LEAD.id
    [closed] = when(
        ticket,
        step("close_follow_up", outcome="product_fix", problem_ref="BUG-7"),
    )
    assert (closed.outcome, closed.problem_ref) == ("product_fix", "BUG-7")
    assert follow_up.status == "closed"
    [reopened] = when(ticket, step("reopen_follow_up", reason="Customer wrote again"))
    assert reopened.reason == "Customer wrote again"
    assert follow_up.status == "open"


def test_every_step_is_replayed_into_the_same_state() -> None:
    ticket = given(
        None,
        to_fin_then_log,
        rate_fin(1),
        step("assign_follow_up", owner=CS_LEAD),
        step("close_follow_up", outcome="resolved"),
    )
    follow_up = ticket.follow_ups[the_follow_up(ticket)]
    assert (follow_up.status, follow_up.outcome, follow_up.owner_id) == (
        "closed",
        "resolved",
        CS_LEAD.id,
    )


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (
            step("note_follow_up", actor=fin_agent, team=False, note="x"),
            "not_permitted",
        ),
        (step("note_follow_up", actor=customer, note="x"), "not_permitted"),
        (step("note_follow_up", follow_up_id=uuid4(), note="x"), "unknown_follow_up"),
        (step("note_follow_up", note="  "), "field_required"),
        (step("assign_follow_up", owner=FINN), "assignee_not_member"),
        (step("record_follow_up_contact", method="pigeon"), "invalid_choice"),
        (step("close_follow_up", outcome="shrug"), "invalid_choice"),
        (step("reopen_follow_up", reason="again"), "no_change"),
    ],
)
def test_invalid_steps_are_refused_and_store_nothing(command: Any, code: str) -> None:
    assert rejected(rated_low(), command).code == code


def test_a_closed_follow_up_is_closed_once_and_reopened_with_a_reason() -> None:
    ticket = given(
        None, to_fin_then_log, rate_fin(1), step("close_follow_up", outcome="resolved")
    )
    assert (
        rejected(ticket, step("close_follow_up", outcome="resolved")).code
        == "follow_up_closed"
    )
    assert (
        rejected(ticket, step("assign_follow_up", owner=CS_LEAD)).code
        == "follow_up_closed"
    )
    assert rejected(ticket, step("reopen_follow_up", reason=" ")).code == (
        "reason_required"
    )
    # What was done may still be noted after closing.
    [noted] = when(ticket, step("note_follow_up", note="Refund confirmed"))
    assert isinstance(noted, Ticket.FollowUpNoteAdded)


def test_follow_ups_are_worked_on_a_closed_ticket() -> None:
    def resolve_close(t: Ticket) -> None:
        t.resolve(resolution="Sent", root_cause="process", actor=log_agent, at=at(60))

    def close(t: Ticket) -> None:
        t.close(actor=cs_agent, at=at(75))

    ticket = given(None, to_fin_then_log, resolve_close, rate_fin(2), close)
    [closed] = when(ticket, step("close_follow_up", outcome="no_action"))
    assert isinstance(closed, Ticket.FollowUpClosed)


def test_assigning_the_same_owner_again_changes_nothing() -> None:
    ticket = given(
        None, to_fin_then_log, rate_fin(1), step("assign_follow_up", owner=CS_LEAD)
    )
    assert rejected(ticket, step("assign_follow_up", owner=CS_LEAD)).code == "no_change"
