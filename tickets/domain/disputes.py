"""Disputes: a department (or the front line) contests a breach of a
handoff's response promise or the customer's rating of it; a front-line
lead accepts or waives it. The breach or rating itself never changes;
adjusted scorecard figures leave out what was waived."""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from tickets.domain.actors import Actor
from tickets.domain.errors import (
    AlreadyDisputed,
    DisputeAlreadyDecided,
    NothingToDispute,
    NotPermitted,
    UnknownDispute,
    UnknownHandoff,
)
from tickets.domain.state import Dispute, TicketEvent, TicketState
from tickets.domain.validation import _choice, _reason
from tickets.domain.vocabulary import (
    ActorKind,
    DisputeDecision,
    DisputeSubject,
    event_topic,
)


def dispute_id_for(handoff_id: UUID, subject: str) -> UUID:
    """A breach or a rating is disputed at most once, so the dispute's id
    is derived from what it disputes."""
    return uuid5(NAMESPACE_URL, f"baton:dispute:{handoff_id}:{subject}")


class Disputes(TicketState):
    """Ticket commands for disputing scorecard figures."""

    class DisputeOpened(TicketEvent):
        """A breach or rating on a department's handoff is contested. The
        recorded breach or rating itself never changes."""

        TOPIC = event_topic("DisputeOpened")
        dispute_id: UUID
        subject: str
        handoff_id: UUID
        department: str
        reason: str

        def apply(self, ticket: TicketState) -> None:
            ticket.disputes[self.dispute_id] = Dispute(
                id=self.dispute_id,
                subject=self.subject,
                handoff_id=self.handoff_id,
                department=self.department,
            )

    def dispute(
        self,
        *,
        handoff_id: UUID,
        subject: str,
        reason: str,
        actor: Actor,
        at: datetime,
    ) -> UUID:
        """Dispute the breach of a handoff's response promise, or the
        customer's rating of it, with a reason. The department judged or
        the front line may dispute (staff only), also on a closed ticket:
        the dispute changes scorecards, not the ticket. Each breach or
        rating is disputed at most once. Returns the dispute id. Raises
        :class:`NotPermitted`, :class:`UnknownHandoff`,
        :class:`NothingToDispute` or :class:`AlreadyDisputed`."""
        if actor.kind not in (ActorKind.USER, ActorKind.INTEGRATION):
            raise NotPermitted("Only staff can dispute a breach or a rating.")
        value = _choice(subject, DisputeSubject, "subject")
        stint = self.stints.get(handoff_id)
        if stint is None:
            raise UnknownHandoff(
                "That handoff is not part of this ticket.", field="handoff_id"
            )
        if actor.department not in (stint.department, self.front_line):
            raise NotPermitted(
                f"Only {stint.department_name} or the front line may dispute "
                "this handoff's figures."
            )
        if value == DisputeSubject.BREACH:
            clock = self.clocks.get(handoff_id)
            if clock is None or not clock.breached:
                raise NothingToDispute(
                    "This handoff's response promise was not breached.",
                    field="handoff_id",
                )
        elif not stint.rated:
            raise NothingToDispute(
                "This handoff has not been rated.", field="handoff_id"
            )
        dispute_id = dispute_id_for(handoff_id, value)
        if dispute_id in self.disputes:
            raise AlreadyDisputed(
                f"This {value} is already disputed.", field="handoff_id"
            )
        self._trigger(
            self.DisputeOpened,
            actor,
            at,
            dispute_id=dispute_id,
            subject=value,
            handoff_id=handoff_id,
            department=stint.department,
            reason=_reason(reason),
        )
        return dispute_id

    class DisputeDecided(TicketEvent):
        """A front-line lead accepted the disputed breach or rating (it
        stands) or waived it (adjusted scorecard figures leave it out)."""

        TOPIC = event_topic("DisputeDecided")
        dispute_id: UUID
        subject: str
        handoff_id: UUID
        department: str
        decision: str
        reason: str

        def apply(self, ticket: TicketState) -> None:
            ticket.disputes[self.dispute_id].decision = self.decision

    def decide_dispute(
        self,
        *,
        dispute_id: UUID,
        decision: str,
        reason: str,
        actor: Actor,
        at: datetime,
        is_lead: bool,
    ) -> None:
        """Accept (the breach or rating stands) or waive (adjusted figures
        leave it out) an open dispute, with a reason. Only a lead of the
        ticket's front-line department (``is_lead``: the actor leads the
        department it acts for) may decide; the decision is final. Raises
        :class:`NotPermitted`, :class:`UnknownDispute` or
        :class:`DisputeAlreadyDecided`."""
        if (
            actor.kind != ActorKind.USER
            or actor.department != self.front_line
            or not is_lead
        ):
            raise NotPermitted("Only a front-line lead may decide a dispute.")
        dispute = self.disputes.get(dispute_id)
        if dispute is None:
            raise UnknownDispute("This ticket has no such dispute.", field="dispute_id")
        if dispute.decision is not None:
            raise DisputeAlreadyDecided(
                f"This dispute was already {dispute.decision}.", field="dispute_id"
            )
        self._trigger(
            self.DisputeDecided,
            actor,
            at,
            dispute_id=dispute_id,
            subject=dispute.subject,
            handoff_id=dispute.handoff_id,
            department=dispute.department,
            decision=_choice(decision, DisputeDecision, "decision"),
            reason=_reason(reason),
        )
