"""Handoffs: one row per department stint, with the log positions that
started and ended it, its first response and its rating."""

from __future__ import annotations

from typing import Any

from tickets.bulk_insert import new_row
from tickets.domain import Ticket
from tickets.models import Handoff
from tickets.projection_runner import Projection, ProjectionSession, handles


class HandoffProjection(Projection):
    """Maintains one :class:`Handoff` row per department stint, with the
    log positions of the events that started and ended it."""

    name = "handoff"
    models = (Handoff,)

    def _start(
        self,
        session: ProjectionSession,
        *,
        stint_id: Any,
        e: Any,
        position: int,
        kind: str,
        department: str,
        department_name: str,
        from_department: str = "",
        reason: str = "",
    ) -> None:
        session.add(
            new_row(
                Handoff,
                id=stint_id,
                ticket_id=e.originator_id,
                kind=kind,
                from_department=from_department,
                department=department,
                department_name=department_name,
                reason=reason,
                started_at=e.timestamp,
                started_position=position,
            )
        )

    def _end(
        self,
        session: ProjectionSession,
        stint_id: Any,
        e: Any,
        position: int,
        outcome: str,
    ) -> None:
        stint = session.require(Handoff, stint_id)
        if not stint.outcome:
            stint.outcome = outcome
            stint.outcome_at = e.timestamp
            stint.outcome_position = position
        stint.ended_at = e.timestamp
        stint.ended_position = position
        session.changed(stint)

    @handles(Ticket.Opened)
    def opened(
        self, e: Ticket.Opened, position: int, session: ProjectionSession
    ) -> None:
        self._start(
            session,
            stint_id=e.stint_id,
            e=e,
            position=position,
            kind=Handoff.Kind.OPENED,
            department=e.department,
            department_name=e.department_name,
        )

    @handles(Ticket.HandedOff)
    def handed_off(
        self, e: Ticket.HandedOff, position: int, session: ProjectionSession
    ) -> None:
        self._end(session, e.from_stint_id, e, position, Handoff.Outcome.HANDED_ON)
        self._start(
            session,
            stint_id=e.handoff_id,
            e=e,
            position=position,
            kind=Handoff.Kind.HANDOFF,
            department=e.to_department,
            department_name=e.to_department_name,
            from_department=e.from_department,
            reason=e.reason,
        )

    @handles(Ticket.Reopened)
    def reopened(
        self, e: Ticket.Reopened, position: int, session: ProjectionSession
    ) -> None:
        self._start(
            session,
            stint_id=e.stint_id,
            e=e,
            position=position,
            kind=Handoff.Kind.REOPEN,
            department=e.department,
            department_name=e.department_name,
            reason=e.reason,
        )

    @handles(Ticket.Responded)
    def responded(
        self, e: Ticket.Responded, position: int, session: ProjectionSession
    ) -> None:
        stint = session.require(Handoff, e.stint_id)
        if stint.first_response_at is not None:
            return
        stint.first_response_at = e.timestamp
        if not stint.outcome:
            stint.outcome = Handoff.Outcome.RESPONDED
            stint.outcome_at = e.timestamp
            stint.outcome_position = position
        if not stint.agent_id:
            stint.agent_id = e.actor.id
            stint.agent_name = e.actor.name
        session.changed(stint)

    @handles(Ticket.Resolved)
    def resolved(
        self, e: Ticket.Resolved, position: int, session: ProjectionSession
    ) -> None:
        self._end(session, e.stint_id, e, position, Handoff.Outcome.RESOLVED)

    @handles(Ticket.Closed)
    def closed(
        self, e: Ticket.Closed, position: int, session: ProjectionSession
    ) -> None:
        """Closed as abandoned ends the stint that waited on the customer."""
        if e.stint_id is not None:
            self._end(session, e.stint_id, e, position, Handoff.Outcome.ABANDONED)

    @handles(Ticket.HandoffRated)
    def rated(
        self, e: Ticket.HandoffRated, position: int, session: ProjectionSession
    ) -> None:
        stint = session.require(Handoff, e.handoff_id)
        stint.rating_score = e.score
        stint.rating_comment = e.comment
        stint.rated_at = e.timestamp
        stint.rating_position = position
        session.changed(stint)

    @handles(Ticket.AgentAssigned)
    def assigned(
        self, e: Ticket.AgentAssigned, position: int, session: ProjectionSession
    ) -> None:
        stint = session.require(Handoff, e.stint_id)
        stint.agent_id = e.agent_id
        stint.agent_name = e.agent_name
        session.changed(stint)
