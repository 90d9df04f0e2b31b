"""The dissatisfied few, followed up: every rating of 1 or 2 opens a
follow-up for the service team, in the same command as the rating.

A follow-up belongs to the ticket (its events are ticket events, so the
rating and its follow-up are stored atomically and the log says who did
what): it names the rated department, the score and comment, and a due
time fixed when it opens (``FOLLOWUP_DUE_HOURS`` after the rating). The
service team (leads of a front-line department) works it: assigns an
owner from the front line, notes what was done, records that the customer
was contacted (how), closes it with an outcome (resolved, no action,
product fix with an optional problem reference) and may reopen it.
Follow-ups are worked on closed tickets too: they change nothing of the
ticket itself.

Rules (each refusal raises a ``TicketError``; nothing is stored):

* exactly one follow-up per rating of 1 or 2 (its id derives from what
  was rated, and each handoff or ticket is rated once);
* only a lead of a front-line department (``service_team``) works a
  follow-up; a note, a contact or a closing needs text where it says so;
* the owner is an active member of the ticket's front line
  (``assignee_not_member``);
* a closed follow-up takes notes and a reopen only (``follow_up_closed``);
  reopening an open one changes nothing (``no_change``);
* an unknown follow-up id is ``unknown_follow_up`` (field
  ``follow_up_id``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from tickets.domain.actors import Actor, AgentRef
from tickets.domain.errors import (
    AssigneeNotMember,
    InvalidInput,
    NoChange,
    NotPermitted,
)
from tickets.domain.ratings import Ratings
from tickets.domain.state import TicketEvent, TicketState
from tickets.domain.validation import _choice, _reason, _text
from tickets.domain.vocabulary import (
    MAX_REASON,
    MAX_SHORT,
    MAX_TEXT,
    ActorKind,
    event_topic,
)

#: Ratings at or below this score open a follow-up.
DISSATISFIED_AT_MOST = 2
#: Hours a follow-up may stay open before it is overdue, when the caller
#: does not say (``FOLLOWUP_DUE_HOURS``).
DEFAULT_DUE_HOURS = 24.0


class FollowUpStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class FollowUpOutcome(StrEnum):
    RESOLVED = "resolved"
    NO_ACTION = "no_action"
    PRODUCT_FIX = "product_fix"


class ContactMethod(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    CHAT = "chat"
    OTHER = "other"


def follow_up_id_for(ticket_id: UUID, handoff_id: UUID | None) -> UUID:
    """One follow-up per rating: its id derives from what was rated (a
    handoff, or the whole ticket)."""
    rated = handoff_id or "experience"
    return uuid5(NAMESPACE_URL, f"baton:follow-up:{ticket_id}:{rated}")


@dataclass
class FollowUp:
    """A follow-up's state, rebuilt from its events."""

    id: UUID
    department: str
    score: int
    due_at: datetime
    status: str = FollowUpStatus.OPEN
    owner_id: str = ""
    contacted: bool = False
    outcome: str = ""


class FollowUps(Ratings):
    """Ticket commands for following up low ratings. Extends the rating
    commands: a rating of 1 or 2 also opens a follow-up, in the same
    command (so in the same save)."""

    @property
    def follow_ups(self) -> dict[UUID, FollowUp]:
        """The ticket's follow-ups (read them here; ``FollowUpOpened`` adds
        them). Kept only once the first opens, so the state needs nothing
        from the events that predate follow-ups, and reading never changes
        it (a ticket that was asked equals one that was not)."""
        found: dict[UUID, FollowUp] | None = self.__dict__.get("_follow_ups")
        return found if found is not None else {}

    def _add_follow_up(self, follow_up: FollowUp) -> None:
        self.__dict__.setdefault("_follow_ups", {})[follow_up.id] = follow_up

    # -- opened by a low rating ----------------------------------------------

    class FollowUpOpened(TicketEvent):
        """A customer rated a department 1 or 2: the service team owes the
        customer a follow-up by ``due_at``. ``handoff_id`` is the rated
        handoff (None: the whole ticket was rated)."""

        TOPIC = event_topic("FollowUpOpened")
        follow_up_id: UUID
        handoff_id: UUID | None
        department: str
        department_name: str
        agent_id: str
        score: int
        comment: str
        due_at: datetime

        def apply(self, ticket: TicketState) -> None:
            ticket._add_follow_up(  # type: ignore[attr-defined]
                FollowUp(
                    id=self.follow_up_id,
                    department=self.department,
                    score=self.score,
                    due_at=self.due_at,
                )
            )

    def rate_handoff(
        self, *, follow_up_hours: float = DEFAULT_DUE_HOURS, **rating: Any
    ) -> None:
        """:meth:`Ratings.rate_handoff`; a score of 1 or 2 also opens a
        follow-up due ``follow_up_hours`` after the rating."""
        super().rate_handoff(**rating)
        self._follow_up_if_dissatisfied(follow_up_hours)

    def rate_experience(
        self, *, follow_up_hours: float = DEFAULT_DUE_HOURS, **rating: Any
    ) -> None:
        """:meth:`Ratings.rate_experience`; a score of 1 or 2 also opens a
        follow-up for the department that resolved the ticket."""
        super().rate_experience(**rating)
        self._follow_up_if_dissatisfied(follow_up_hours)

    def _follow_up_if_dissatisfied(self, hours: float) -> None:
        rated = self.pending_events[-1]
        if rated.score > DISSATISFIED_AT_MOST:  # type: ignore[attr-defined]
            return
        if isinstance(rated, self.HandoffRated):
            handoff_id: UUID | None = rated.handoff_id
            department, name = rated.department, rated.department_name
            agent_id = rated.agent_id
        else:
            handoff_id = None
            department, name = self.owner, self.owner_name
            last = list(self.stints.values())[-1] if self.stints else None
            agent_id = (last.agent_id or "") if last else ""
        self._trigger(
            self.FollowUpOpened,
            rated.actor,  # type: ignore[attr-defined]
            rated.timestamp,
            follow_up_id=follow_up_id_for(self.id, handoff_id),
            handoff_id=handoff_id,
            department=department,
            department_name=name,
            agent_id=agent_id,
            score=rated.score,  # type: ignore[attr-defined]
            comment=rated.comment,  # type: ignore[attr-defined]
            due_at=rated.timestamp + timedelta(hours=float(hours)),
        )

    # -- the service team's steps ---------------------------------------------

    def _follow_up(
        self, follow_up_id: Any, actor: Actor, service_team: bool
    ) -> FollowUp:
        if actor.kind != ActorKind.USER or not service_team:
            raise NotPermitted(
                "Only the service team (a front-line lead) works follow-ups."
            )
        found = self.follow_ups.get(follow_up_id)
        if found is None:
            raise InvalidInput(
                "This ticket has no such follow-up.",
                field="follow_up_id",
                code="unknown_follow_up",
            )
        return found

    @staticmethod
    def _require_open(follow_up: FollowUp) -> None:
        if follow_up.status == FollowUpStatus.CLOSED:
            raise InvalidInput(
                "This follow-up is closed; reopen it first.",
                field="follow_up_id",
                code="follow_up_closed",
            )

    class FollowUpAssigned(TicketEvent):
        """Someone of the front line now owns the follow-up."""

        TOPIC = event_topic("FollowUpAssigned")
        follow_up_id: UUID
        owner_id: str
        owner_name: str

        def apply(self, ticket: TicketState) -> None:
            ticket.follow_ups[self.follow_up_id].owner_id = self.owner_id  # type: ignore[attr-defined]

    def assign_follow_up(
        self,
        *,
        follow_up_id: UUID,
        owner: AgentRef,
        actor: Actor,
        at: datetime,
        service_team: bool,
    ) -> None:
        """Give an open follow-up an owner from the ticket's front line.
        Raises ``NotPermitted``, ``unknown_follow_up``, ``follow_up_closed``,
        :class:`AssigneeNotMember` or :class:`NoChange`."""
        follow_up = self._follow_up(follow_up_id, actor, service_team)
        self._require_open(follow_up)
        if self.front_line not in owner.departments:
            raise AssigneeNotMember(
                f"{owner.name} is not a member of the front line.", field="owner_id"
            )
        if follow_up.owner_id == owner.id:
            raise NoChange(f"{owner.name} already owns this follow-up.")
        self._trigger(
            self.FollowUpAssigned,
            actor,
            at,
            follow_up_id=follow_up.id,
            owner_id=owner.id,
            owner_name=owner.name,
        )

    class FollowUpNoteAdded(TicketEvent):
        """What was done (or found) for the follow-up; internal."""

        TOPIC = event_topic("FollowUpNoteAdded")
        follow_up_id: UUID
        note: str

        def apply(self, ticket: TicketState) -> None:
            pass

    def note_follow_up(
        self,
        *,
        follow_up_id: UUID,
        note: str,
        actor: Actor,
        at: datetime,
        service_team: bool,
    ) -> None:
        """Record what was done, open or closed. Raises ``NotPermitted``,
        ``unknown_follow_up`` or ``field_required``."""
        follow_up = self._follow_up(follow_up_id, actor, service_team)
        self._trigger(
            self.FollowUpNoteAdded,
            actor,
            at,
            follow_up_id=follow_up.id,
            note=_text(note, "note", MAX_TEXT),
        )

    class FollowUpCustomerContacted(TicketEvent):
        """The service team reached the customer (how, and what was said)."""

        TOPIC = event_topic("FollowUpCustomerContacted")
        follow_up_id: UUID
        method: str
        note: str

        def apply(self, ticket: TicketState) -> None:
            ticket.follow_ups[self.follow_up_id].contacted = True  # type: ignore[attr-defined]

    def record_follow_up_contact(
        self,
        *,
        follow_up_id: UUID,
        method: str,
        note: str = "",
        actor: Actor,
        at: datetime,
        service_team: bool,
    ) -> None:
        """The customer was contacted (``method``: phone, email, chat,
        other) at ``at``. Raises ``NotPermitted``, ``unknown_follow_up``,
        ``follow_up_closed`` or ``invalid_choice``."""
        follow_up = self._follow_up(follow_up_id, actor, service_team)
        self._require_open(follow_up)
        self._trigger(
            self.FollowUpCustomerContacted,
            actor,
            at,
            follow_up_id=follow_up.id,
            method=_choice(method, ContactMethod, "method"),
            note=_text(note, "note", MAX_TEXT, required=False),
        )

    class FollowUpClosed(TicketEvent):
        """The follow-up is done: ``outcome`` resolved, no_action or
        product_fix (``problem_ref``: the problem or bug it went to)."""

        TOPIC = event_topic("FollowUpClosed")
        follow_up_id: UUID
        outcome: str
        problem_ref: str
        note: str

        def apply(self, ticket: TicketState) -> None:
            follow_up = ticket.follow_ups[self.follow_up_id]  # type: ignore[attr-defined]
            follow_up.status = FollowUpStatus.CLOSED
            follow_up.outcome = self.outcome

    def close_follow_up(
        self,
        *,
        follow_up_id: UUID,
        outcome: str,
        problem_ref: str = "",
        note: str = "",
        actor: Actor,
        at: datetime,
        service_team: bool,
    ) -> None:
        """Close an open follow-up with an outcome. Raises ``NotPermitted``,
        ``unknown_follow_up``, ``follow_up_closed`` or ``invalid_choice``."""
        follow_up = self._follow_up(follow_up_id, actor, service_team)
        self._require_open(follow_up)
        self._trigger(
            self.FollowUpClosed,
            actor,
            at,
            follow_up_id=follow_up.id,
            outcome=_choice(outcome, FollowUpOutcome, "outcome"),
            problem_ref=_text(problem_ref, "problem_ref", MAX_SHORT, required=False),
            note=_text(note, "note", MAX_REASON, required=False),
        )

    class FollowUpReopened(TicketEvent):
        """A closed follow-up needs more work (the reason says why)."""

        TOPIC = event_topic("FollowUpReopened")
        follow_up_id: UUID
        reason: str

        def apply(self, ticket: TicketState) -> None:
            follow_up = ticket.follow_ups[self.follow_up_id]  # type: ignore[attr-defined]
            follow_up.status = FollowUpStatus.OPEN
            follow_up.outcome = ""

    def reopen_follow_up(
        self,
        *,
        follow_up_id: UUID,
        reason: str,
        actor: Actor,
        at: datetime,
        service_team: bool,
    ) -> None:
        """Reopen a closed follow-up, with a reason. Raises
        ``NotPermitted``, ``unknown_follow_up``, :class:`NoChange` (it is
        open) or ``reason_required``."""
        follow_up = self._follow_up(follow_up_id, actor, service_team)
        if follow_up.status != FollowUpStatus.CLOSED:
            raise NoChange("This follow-up is open.", field="follow_up_id")
        self._trigger(
            self.FollowUpReopened,
            actor,
            at,
            follow_up_id=follow_up.id,
            reason=_reason(reason),
        )
