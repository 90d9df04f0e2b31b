"""The customer's ratings: each finished handoff once, and the whole
ticket once it is resolved. Ratings are the customer's voice: given by the
customer or relayed by the front line, never by a department judging
itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from tickets.domain.actors import Actor
from tickets.domain.errors import (
    AlreadyRated,
    HandoffNotFinished,
    NotPermitted,
    TicketNotResolved,
    UnknownHandoff,
)
from tickets.domain.state import TicketEvent, TicketState
from tickets.domain.validation import _score, _text
from tickets.domain.vocabulary import MAX_COMMENT, ActorKind, Status, event_topic


class Ratings(TicketState):
    """Ticket commands for the customer's ratings."""

    class HandoffRated(TicketEvent):
        """The customer rated one department's part of the journey. The
        department and agent are those of the stint, fixed when it ran."""

        TOPIC = event_topic("HandoffRated")
        handoff_id: UUID
        department: str
        department_name: str
        agent_id: str
        score: int
        comment: str

        def apply(self, ticket: TicketState) -> None:
            ticket.stints[self.handoff_id].rated = True

    def rate_handoff(
        self,
        *,
        handoff_id: UUID,
        score: Any,
        comment: str = "",
        actor: Actor,
        at: datetime,
    ) -> None:
        """Rate a finished stint (the department handed the ticket on or
        resolved it), once. Attributed to that stint's department and the
        agent who handled it. Raises :class:`UnknownHandoff`,
        :class:`HandoffNotFinished`, :class:`AlreadyRated` or
        :class:`InvalidScore`."""
        self._require_not_closed()
        self._require_customer_voice(actor)
        stint = self.stints.get(handoff_id)
        if stint is None:
            raise UnknownHandoff(
                "That handoff is not part of this ticket.", field="handoff_id"
            )
        if not stint.is_finished:
            raise HandoffNotFinished(
                f"{stint.department_name} is still working on this; rate it "
                "once it has handed the ticket on or resolved it.",
                field="handoff_id",
            )
        if stint.rated:
            raise AlreadyRated("This handoff is already rated.", field="handoff_id")
        self._trigger(
            self.HandoffRated,
            actor,
            at,
            handoff_id=handoff_id,
            department=stint.department,
            department_name=stint.department_name,
            agent_id=stint.agent_id or "",
            score=_score(score),
            comment=_text(comment, "comment", MAX_COMMENT, required=False),
        )

    class ExperienceRated(TicketEvent):
        """The customer rated the ticket as a whole, after resolution."""

        TOPIC = event_topic("ExperienceRated")
        score: int
        comment: str

        def apply(self, ticket: TicketState) -> None:
            ticket.experience_rated = True

    def rate_experience(
        self, *, score: Any, comment: str = "", actor: Actor, at: datetime
    ) -> None:
        """Rate the whole ticket once, after it is resolved. Raises
        :class:`TicketNotResolved`, :class:`AlreadyRated` or
        :class:`InvalidScore`."""
        self._require_not_closed()
        self._require_customer_voice(actor)
        if self.status != Status.RESOLVED:
            raise TicketNotResolved("The ticket can be rated once it is resolved.")
        if self.experience_rated:
            raise AlreadyRated("The ticket is already rated.")
        self._trigger(
            self.ExperienceRated,
            actor,
            at,
            score=_score(score),
            comment=_text(comment, "comment", MAX_COMMENT, required=False),
        )

    def _require_customer_voice(self, actor: Actor) -> None:
        """Ratings are the customer's: given by the customer, or relayed by
        the front line's channel, never by a department judging itself."""
        if actor.kind == ActorKind.CUSTOMER or actor.department == self.front_line:
            return
        raise NotPermitted(
            "Ratings come from the customer (or the front line relaying them)."
        )
