"""Disputing a handoff's breach or rating, and a front-line lead deciding.

Finance receives the ticket at 00:05 with a 2h response promise and
answers at 03:05: its response clock is breached.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from tests.domain.support import (
    FIN,
    LOG,
    FakeSLAPort,
    at,
    cs_agent,
    cs_lead,
    customer,
    fin_agent,
    given,
    log_agent,
    rejected,
    when,
)
from tickets.domain import Ticket, dispute_id_for

PORT = FakeSLAPort()


def to_fin(t: Ticket) -> None:
    t.hand_off(to=FIN, reason="Approval", actor=cs_agent, at=at(5), sla=PORT)


def fin_responds_late(t: Ticket) -> None:
    t.respond(body="Sorry", actor=fin_agent, at=at(185), sla=PORT)


def fin_responds_in_time(t: Ticket) -> None:
    t.respond(body="On it", actor=fin_agent, at=at(30), sla=PORT)


def fin_to_log(t: Ticket) -> None:
    t.hand_off(to=LOG, reason="Ship", actor=fin_agent, at=at(190), sla=PORT)


def rated(t: Ticket) -> None:
    t.rate_handoff(handoff_id=fin(t), score=1, actor=customer, at=at(200))


def fin(t: Ticket) -> UUID:
    [stint] = [s.id for s in t.stints.values() if s.department == "FIN"]
    return stint


def dispute(subject: str = "breach", actor: Any = fin_agent, **kw: Any) -> Any:
    def command(t: Ticket) -> UUID:
        return t.dispute(
            handoff_id=kw.get("handoff_id") or fin(t),
            subject=subject,
            reason=kw.get("reason", "The customer sent the papers late"),
            actor=actor,
            at=at(300),
        )

    return command


def decide(decision: str = "waived", actor: Any = cs_lead, **kw: Any) -> Any:
    def command(t: Ticket) -> None:
        t.decide_dispute(
            dispute_id=kw.get("dispute_id") or dispute_id_for(fin(t), "breach"),
            decision=decision,
            reason=kw.get("reason", "Agreed"),
            actor=actor,
            at=at(400),
            is_lead=kw.get("is_lead", True),
        )

    return command


# --- opening a dispute ------------------------------------------------------


def test_the_judged_department_disputes_its_breach() -> None:
    ticket = given(PORT, to_fin, fin_responds_late)
    [event] = when(ticket, dispute())
    assert isinstance(event, Ticket.DisputeOpened)
    assert event.dispute_id == dispute_id_for(fin(ticket), "breach")
    assert (event.subject, event.handoff_id, event.department) == (
        "breach",
        fin(ticket),
        "FIN",
    )
    assert event.reason == "The customer sent the papers late"
    assert ticket.disputes[event.dispute_id].decision is None


def test_a_rating_is_disputed_by_the_front_line_too() -> None:
    ticket = given(PORT, to_fin, fin_responds_in_time, fin_to_log, rated)
    [event] = when(ticket, dispute("rating", actor=cs_agent))
    assert (event.subject, event.department) == ("rating", "FIN")
    assert event.dispute_id == dispute_id_for(fin(ticket), "rating")


def test_a_breach_and_a_rating_of_one_handoff_are_two_disputes() -> None:
    ticket = given(PORT, to_fin, fin_responds_late, fin_to_log, rated, dispute())
    [event] = when(ticket, dispute("rating"))
    assert len(ticket.disputes) == 2
    assert event.dispute_id != dispute_id_for(fin(ticket), "breach")


def test_each_breach_is_disputed_once() -> None:
    ticket = given(PORT, to_fin, fin_responds_late, dispute())
    error = rejected(ticket, dispute(actor=cs_agent))
    assert (error.code, error.field) == ("already_disputed", "handoff_id")


@pytest.mark.parametrize(
    ("steps", "subject"),
    [
        ((to_fin, fin_responds_in_time), "breach"),
        ((to_fin, fin_responds_late, fin_to_log), "rating"),
    ],
)
def test_there_must_be_a_breach_or_a_rating_to_dispute(
    steps: tuple[Any, ...], subject: str
) -> None:
    ticket = given(PORT, *steps)
    error = rejected(ticket, dispute(subject))
    assert (error.code, error.field) == ("nothing_to_dispute", "handoff_id")


def test_an_unknown_handoff_cannot_be_disputed() -> None:
    ticket = given(PORT, to_fin, fin_responds_late)
    error = rejected(ticket, dispute(handoff_id=UUID(int=3)))
    assert error.code == "unknown_handoff"


@pytest.mark.parametrize(
    "actor",
    [customer, log_agent],
    ids=["customers", "another department"],
)
def test_only_staff_of_the_judged_department_or_the_front_line_dispute(
    actor: Any,
) -> None:
    ticket = given(PORT, to_fin, fin_responds_late, fin_to_log)
    assert rejected(ticket, dispute(actor=actor)).code == "not_permitted"


def test_a_dispute_needs_a_reason_and_a_known_subject() -> None:
    ticket = given(PORT, to_fin, fin_responds_late)
    assert rejected(ticket, dispute(reason="  ")).code == "reason_required"
    assert rejected(ticket, dispute("speed")).code == "invalid_choice"


def test_a_closed_ticket_can_still_be_disputed() -> None:
    ticket = given(
        PORT,
        to_fin,
        fin_responds_late,
        lambda t: t.resolve(
            resolution="Paid",
            root_cause="policy",
            actor=fin_agent,
            at=at(200),
            sla=PORT,
        ),
        lambda t: t.close(actor=cs_agent, at=at(210)),
    )
    [event] = when(ticket, dispute())
    assert isinstance(event, Ticket.DisputeOpened)


# --- deciding ------------------------------------------------------------------


@pytest.mark.parametrize("decision", ["accepted", "waived"])
def test_a_front_line_lead_decides_a_dispute(decision: str) -> None:
    ticket = given(PORT, to_fin, fin_responds_late, dispute())
    [event] = when(ticket, decide(decision))
    assert isinstance(event, Ticket.DisputeDecided)
    assert (event.decision, event.subject, event.department) == (
        decision,
        "breach",
        "FIN",
    )
    assert event.handoff_id == fin(ticket)
    assert ticket.disputes[event.dispute_id].decision == decision
    # The breach itself is never changed by the decision.
    assert ticket.clocks[fin(ticket)].breached


def test_a_decision_is_final() -> None:
    ticket = given(PORT, to_fin, fin_responds_late, dispute(), decide("accepted"))
    error = rejected(ticket, decide("waived"))
    assert (error.code, error.field) == ("dispute_already_decided", "dispute_id")


def test_an_unknown_dispute_cannot_be_decided() -> None:
    ticket = given(PORT, to_fin, fin_responds_late)
    error = rejected(ticket, decide())
    assert (error.code, error.field) == ("unknown_dispute", "dispute_id")


@pytest.mark.parametrize(
    ("actor", "is_lead"),
    [(cs_agent, False), (fin_agent, True), (customer, True)],
    ids=["not a lead", "a lead of the judged department", "a customer"],
)
def test_only_a_front_line_lead_decides(actor: Any, is_lead: bool) -> None:
    ticket = given(PORT, to_fin, fin_responds_late, dispute())
    assert rejected(ticket, decide(actor=actor, is_lead=is_lead)).code == (
        "not_permitted"
    )


def test_a_decision_needs_a_reason_and_a_known_outcome() -> None:
    ticket = given(PORT, to_fin, fin_responds_late, dispute())
    assert rejected(ticket, decide(reason="")).code == "reason_required"
    assert rejected(ticket, decide("forgiven")).code == "invalid_choice"
