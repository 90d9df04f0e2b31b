"""Follow-ups of dissatisfied ratings: one :class:`FollowUp` row each, as
it stands, and one :class:`FollowUpEntry` per step (its history). Rows are
derived from the events alone, so a rebuild equals the incremental build."""

from __future__ import annotations

from typing import Any

from tickets.bulk_insert import new_row
from tickets.domain import Ticket
from tickets.models import FollowUp, FollowUpEntry
from tickets.projection_runner import Projection, ProjectionSession, handles


class FollowUpProjection(Projection):
    """Maintains the follow-up read models (core group: the inbox shows a
    step as soon as it is taken)."""

    name = "follow_up"
    models = (FollowUpEntry, FollowUp)

    def _entry(
        self,
        e: Any,
        position: int,
        session: ProjectionSession,
        step: str,
        *,
        detail: str = "",
        note: str = "",
    ) -> None:
        session.append(
            new_row(
                FollowUpEntry,
                follow_up_id=e.follow_up_id,
                position=position,
                occurred_at=e.timestamp,
                step=step,
                actor_id=e.actor.id,
                actor_name=e.actor.name,
                detail=detail[:300],
                note=note,
            )
        )

    def _touch(
        self, e: Any, position: int, session: ProjectionSession, **changes: Any
    ) -> None:
        row = session.require(FollowUp, e.follow_up_id)
        for name, value in changes.items():
            setattr(row, name, value)
        row.updated_at = e.timestamp
        row.position = position
        session.changed(row)

    @handles(Ticket.FollowUpOpened)
    def opened(
        self, e: Ticket.FollowUpOpened, position: int, session: ProjectionSession
    ) -> None:
        session.add(
            new_row(
                FollowUp,
                id=e.follow_up_id,
                ticket_id=e.originator_id,
                handoff_id=e.handoff_id,
                department=e.department,
                department_name=e.department_name,
                agent_id=e.agent_id,
                score=e.score,
                comment=e.comment,
                opened_at=e.timestamp,
                due_at=e.due_at,
                status=FollowUp.Status.OPEN,
                owner_id="",
                owner_name="",
                contacted_at=None,
                contact_method="",
                outcome="",
                problem_ref="",
                closed_at=None,
                updated_at=e.timestamp,
                position=position,
            )
        )
        self._entry(
            e,
            position,
            session,
            "opened",
            detail=f"{e.department_name}: {e.score}/5",
            note=e.comment,
        )

    @handles(Ticket.FollowUpAssigned)
    def assigned(
        self, e: Ticket.FollowUpAssigned, position: int, session: ProjectionSession
    ) -> None:
        self._touch(e, position, session, owner_id=e.owner_id, owner_name=e.owner_name)
        self._entry(e, position, session, "assign", detail=e.owner_name)

    @handles(Ticket.FollowUpNoteAdded)
    def noted(
        self, e: Ticket.FollowUpNoteAdded, position: int, session: ProjectionSession
    ) -> None:
        self._touch(e, position, session)
        self._entry(e, position, session, "note", note=e.note)

    @handles(Ticket.FollowUpCustomerContacted)
    def contacted(
        self,
        e: Ticket.FollowUpCustomerContacted,
        position: int,
        session: ProjectionSession,
    ) -> None:
        self._touch(
            e, position, session, contacted_at=e.timestamp, contact_method=e.method
        )
        self._entry(e, position, session, "contact", detail=e.method, note=e.note)

    @handles(Ticket.FollowUpClosed)
    def closed(
        self, e: Ticket.FollowUpClosed, position: int, session: ProjectionSession
    ) -> None:
        self._touch(
            e,
            position,
            session,
            status=FollowUp.Status.CLOSED,
            outcome=e.outcome,
            problem_ref=e.problem_ref,
            closed_at=e.timestamp,
        )
        detail = f"{e.outcome} {e.problem_ref}".strip()
        self._entry(e, position, session, "close", detail=detail, note=e.note)

    @handles(Ticket.FollowUpReopened)
    def reopened(
        self, e: Ticket.FollowUpReopened, position: int, session: ProjectionSession
    ) -> None:
        self._touch(
            e,
            position,
            session,
            status=FollowUp.Status.OPEN,
            outcome="",
            problem_ref="",
            closed_at=None,
        )
        self._entry(e, position, session, "reopen", note=e.reason)
