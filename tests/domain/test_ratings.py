"""The customer's ratings of handoffs and of the whole ticket."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from tests.domain.support import (
    FIN,
    LOG,
    at,
    cs_agent,
    customer,
    fin_agent,
    given,
    log_agent,
    rejected,
    when,
)
from tickets.domain import AgentRef, Ticket


def to_fin(t: Ticket) -> None:
    t.hand_off(to=FIN, reason="Approval", actor=cs_agent, at=at(5))


def fin_assigns_finn(t: Ticket) -> None:
    finn = AgentRef(fin_agent.id, fin_agent.name, frozenset({"FIN"}))
    t.assign(agent=finn, actor=fin_agent, at=at(6))


def fin_to_log(t: Ticket) -> None:
    t.hand_off(to=LOG, reason="Ship it", actor=fin_agent, at=at(30))


def log_resolves(t: Ticket) -> None:
    t.resolve(resolution="Shipped", root_cause="process", actor=log_agent, at=at(60))


def stint_of(t: Ticket, department: str) -> UUID:
    [stint] = [s.id for s in t.stints.values() if s.department == department]
    return stint


def rate(department: str, score: Any = 4, actor: Any = customer) -> Any:
    return lambda t: t.rate_handoff(
        handoff_id=stint_of(t, department),
        score=score,
        comment="Quick",
        actor=actor,
        at=at(70),
    )


def test_a_finished_handoff_is_rated_for_its_department_and_agent() -> None:
    ticket = given(None, to_fin, fin_assigns_finn, fin_to_log)
    event, opened = when(ticket, rate("FIN", 2))
    assert isinstance(event, Ticket.HandoffRated)
    assert isinstance(opened, Ticket.FollowUpOpened)
    assert (event.handoff_id, event.department, event.department_name) == (
        stint_of(ticket, "FIN"),
        "FIN",
        "Finance",
    )
    assert (event.agent_id, event.score, event.comment) == (fin_agent.id, 2, "Quick")
    assert ticket.stints[event.handoff_id].rated


def test_an_unassigned_stint_is_rated_with_no_agent() -> None:
    [event] = when(given(None, to_fin, fin_to_log), rate("FIN"))
    assert event.agent_id == ""


def test_a_handoff_is_rated_once() -> None:
    ticket = given(None, to_fin, fin_to_log, rate("FIN"))
    error = rejected(ticket, rate("FIN", 5))
    assert (error.code, error.field) == ("already_rated", "handoff_id")


def test_a_handoff_still_being_worked_cannot_be_rated() -> None:
    ticket = given(None, to_fin)
    error = rejected(ticket, rate("FIN"))
    assert (error.code, error.field) == ("handoff_not_finished", "handoff_id")


def test_a_handoff_of_another_ticket_cannot_be_rated() -> None:
    ticket = given(None, to_fin, fin_to_log)
    error = rejected(
        ticket,
        lambda t: t.rate_handoff(
            handoff_id=UUID(int=7), score=3, actor=customer, at=at(70)
        ),
    )
    assert (error.code, error.field) == ("unknown_handoff", "handoff_id")


@pytest.mark.parametrize("score", [0, 6, -1, 2.5, True, "5", None])
def test_a_score_is_a_whole_number_from_1_to_5(score: Any) -> None:
    ticket = given(None, to_fin, fin_to_log)
    error = rejected(ticket, rate("FIN", score))
    assert (error.code, error.field) == ("invalid_score", "score")


@pytest.mark.parametrize("score", [1, 5])
def test_the_ends_of_the_scale_are_scores(score: int) -> None:
    [event, *_] = when(given(None, to_fin, fin_to_log), rate("FIN", score))
    assert event.score == score


def test_a_department_cannot_rate_itself_but_the_front_line_may_relay() -> None:
    ticket = given(None, to_fin, fin_to_log)
    assert rejected(ticket, rate("FIN", actor=fin_agent)).code == "not_permitted"
    [event] = when(ticket, rate("FIN", actor=cs_agent))
    assert event.actor == cs_agent


def test_the_experience_is_rated_once_after_resolution() -> None:
    def experience(t: Ticket) -> None:
        t.rate_experience(score=5, comment="Great", actor=customer, at=at(80))

    open_ticket = given(None, to_fin)
    assert rejected(open_ticket, experience).code == "ticket_not_resolved"
    resolved = given(None, to_fin, fin_to_log, log_resolves)
    [event] = when(resolved, experience)
    assert isinstance(event, Ticket.ExperienceRated)
    assert (event.score, event.comment) == (5, "Great")
    assert resolved.experience_rated
    assert rejected(resolved, experience).code == "already_rated"


def test_an_invalid_experience_score_is_rejected() -> None:
    resolved = given(None, to_fin, fin_to_log, log_resolves)
    error = rejected(
        resolved,
        lambda t: t.rate_experience(score=9, actor=customer, at=at(80)),
    )
    assert error.code == "invalid_score"


def test_nothing_is_rated_on_a_closed_ticket() -> None:
    closed = given(
        None,
        to_fin,
        fin_to_log,
        log_resolves,
        lambda t: t.close(actor=cs_agent, at=at(90)),
    )
    assert rejected(closed, rate("FIN")).code == "ticket_closed"
