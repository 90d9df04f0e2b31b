"""The ticket summary: one row per ticket, as the queue, the API and the
customer page read it."""

from __future__ import annotations

from typing import Any

from tickets.bulk_insert import new_row
from tickets.domain import Status, Ticket
from tickets.models import TicketSummary
from tickets.projection_runner import Projection, ProjectionSession, handles


class TicketSummaryProjection(Projection):
    """Maintains one :class:`TicketSummary` row per ticket."""

    name = "ticket_summary"
    models = (TicketSummary,)

    @handles(Ticket.Opened)
    def opened(
        self, e: Ticket.Opened, position: int, session: ProjectionSession
    ) -> None:
        session.add(
            new_row(
                TicketSummary,
                ticket_id=e.originator_id,
                subject=e.subject,
                description=e.description,
                customer_ref=e.customer_ref,
                customer_name=e.customer_name,
                customer_contact=e.customer_contact,
                customer_timezone=e.customer_timezone,
                language=e.language,
                channel=e.channel,
                external_ref=e.external_ref,
                scenario=e.scenario,
                priority=e.priority,
                status=Status.OPEN,
                front_line=e.department,
                owner=e.department,
                owner_name=e.department_name,
                owner_since=e.timestamp,
                current_stint_id=e.stint_id,
                last_public_at=e.timestamp,
                opened_at=e.timestamp,
                updated_at=e.timestamp,
                version=e.originator_version,
                position=position,
            )
        )

    def _touch(
        self, e: Any, position: int, session: ProjectionSession, **changes: Any
    ) -> TicketSummary:
        row = session.require(TicketSummary, e.originator_id)
        for name, value in changes.items():
            setattr(row, name, value)
        row.updated_at = e.timestamp
        row.version = e.originator_version
        row.position = position
        session.changed(row)
        return row

    @handles(
        Ticket.NoteAdded,
        Ticket.ClockStarted,
        Ticket.ClockPaused,
        Ticket.ClockResumed,
        Ticket.ClockStopped,
        Ticket.SLAWarningIssued,
        Ticket.SLABreached,
        Ticket.DisputeOpened,
        Ticket.DisputeDecided,
        Ticket.FollowUpOpened,
        Ticket.FollowUpAssigned,
        Ticket.FollowUpNoteAdded,
        Ticket.FollowUpCustomerContacted,
        Ticket.FollowUpClosed,
        Ticket.FollowUpReopened,
    )
    def touched(
        self,
        e: Any,
        position: int,
        session: ProjectionSession,
    ) -> None:
        self._touch(e, position, session)

    @handles(Ticket.Responded, Ticket.CustomerReplied)
    def public(
        self,
        e: Ticket.Responded | Ticket.CustomerReplied,
        position: int,
        session: ProjectionSession,
    ) -> None:
        """Public activity: the stint's quiet period starts again."""
        self._touch(e, position, session, last_public_at=e.timestamp, stalled_at=None)

    @handles(Ticket.StintStalled)
    def stalled(
        self, e: Ticket.StintStalled, position: int, session: ProjectionSession
    ) -> None:
        self._touch(e, position, session, stalled_at=e.stalled_at)

    @handles(Ticket.HandedOff)
    def handed_off(
        self, e: Ticket.HandedOff, position: int, session: ProjectionSession
    ) -> None:
        row = self._touch(
            e,
            position,
            session,
            owner=e.to_department,
            owner_name=e.to_department_name,
            owner_since=e.timestamp,
            current_stint_id=e.handoff_id,
            assignee_id="",
            assignee_name="",
            last_public_at=e.timestamp,
            stalled_at=None,
        )
        row.handoff_count += 1

    @handles(Ticket.WaitingOnCustomer)
    def waiting(
        self, e: Ticket.WaitingOnCustomer, position: int, session: ProjectionSession
    ) -> None:
        self._touch(
            e,
            position,
            session,
            status=Status.WAITING,
            waiting_since=e.timestamp,
            stalled_at=None,
        )

    @handles(Ticket.HandoffRated)
    def handoff_rated(
        self, e: Ticket.HandoffRated, position: int, session: ProjectionSession
    ) -> None:
        self._touch(e, position, session)

    @handles(Ticket.ExperienceRated)
    def experience_rated(
        self, e: Ticket.ExperienceRated, position: int, session: ProjectionSession
    ) -> None:
        self._touch(
            e, position, session, experience_score=e.score, experience_comment=e.comment
        )

    @handles(Ticket.WaitingEnded)
    def waiting_ended(
        self, e: Ticket.WaitingEnded, position: int, session: ProjectionSession
    ) -> None:
        # The quiet period starts again: waiting is the customer's time.
        self._touch(
            e,
            position,
            session,
            status=Status.OPEN,
            waiting_since=None,
            last_public_at=e.timestamp,
        )

    @handles(Ticket.Resolved)
    def resolved(
        self, e: Ticket.Resolved, position: int, session: ProjectionSession
    ) -> None:
        self._touch(
            e,
            position,
            session,
            status=Status.RESOLVED,
            resolved_at=e.timestamp,
            current_stint_id=None,
            stalled_at=None,
        )

    @handles(Ticket.Reopened)
    def reopened(
        self, e: Ticket.Reopened, position: int, session: ProjectionSession
    ) -> None:
        row = self._touch(
            e,
            position,
            session,
            status=Status.OPEN,
            resolved_at=None,
            current_stint_id=e.stint_id,
            owner_since=e.timestamp,
            last_public_at=e.timestamp,
            stalled_at=None,
        )
        row.reopen_count += 1

    @handles(Ticket.Closed)
    def closed(
        self, e: Ticket.Closed, position: int, session: ProjectionSession
    ) -> None:
        self._touch(
            e,
            position,
            session,
            status=Status.CLOSED,
            closed_at=e.timestamp,
            current_stint_id=None,
            waiting_since=None,
            stalled_at=None,
        )

    @handles(Ticket.PriorityChanged)
    def priority(
        self, e: Ticket.PriorityChanged, position: int, session: ProjectionSession
    ) -> None:
        self._touch(e, position, session, priority=e.priority)

    @handles(Ticket.ScenarioChanged)
    def scenario(
        self, e: Ticket.ScenarioChanged, position: int, session: ProjectionSession
    ) -> None:
        self._touch(e, position, session, scenario=e.scenario)

    @handles(Ticket.AgentAssigned)
    def assigned(
        self, e: Ticket.AgentAssigned, position: int, session: ProjectionSession
    ) -> None:
        self._touch(
            e, position, session, assignee_id=e.agent_id, assignee_name=e.agent_name
        )
