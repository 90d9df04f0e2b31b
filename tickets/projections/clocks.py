"""SLA clocks: one row per response or resolution clock."""

from __future__ import annotations

from tickets.bulk_insert import new_row
from tickets.domain import Ticket
from tickets.models import SLAClock
from tickets.projection_runner import Projection, ProjectionSession, handles


class SLAClockProjection(Projection):
    """One :class:`SLAClock` row per clock, from the ticket's clock events
    only: due times and verdicts are read from the events, never
    recomputed, so a rebuild gives the same rows whatever the policies and
    calendars say today."""

    name = "sla_clock"
    models = (SLAClock,)

    @handles(Ticket.ClockStarted)
    def started(
        self, e: Ticket.ClockStarted, position: int, session: ProjectionSession
    ) -> None:
        session.add(
            new_row(
                SLAClock,
                id=e.clock_id,
                ticket_id=e.originator_id,
                handoff_id=e.stint_id,
                department=e.department,
                kind=e.kind,
                state=SLAClock.State.RUNNING,
                started_at=e.timestamp,
                due_at=e.due_at,
                warn_at=e.warn_at,
                target_seconds=e.target_seconds,
                policy_version=e.policy_version,
                calendar_version=e.calendar_version,
                pauses_on_waiting=e.pauses_on_waiting,
                started_position=position,
            )
        )

    def _clock(
        self,
        e: Ticket.ClockPaused
        | Ticket.ClockResumed
        | Ticket.ClockStopped
        | Ticket.SLAWarningIssued
        | Ticket.SLABreached,
        session: ProjectionSession,
    ) -> SLAClock:
        clock = session.require(SLAClock, e.clock_id)
        session.changed(clock)
        return clock

    @handles(Ticket.ClockPaused)
    def paused(
        self, e: Ticket.ClockPaused, position: int, session: ProjectionSession
    ) -> None:
        clock = self._clock(e, session)
        clock.state = SLAClock.State.PAUSED
        clock.paused_since = e.timestamp

    @handles(Ticket.ClockResumed)
    def resumed(
        self, e: Ticket.ClockResumed, position: int, session: ProjectionSession
    ) -> None:
        clock = self._clock(e, session)
        clock.paused_seconds += e.paused_seconds
        clock.due_at = e.due_at
        clock.warn_at = e.warn_at
        clock.paused_since = None
        clock.stopped_at = None
        clock.stopped_position = None
        clock.outcome = ""
        clock.business_seconds_used = None
        clock.state = (
            SLAClock.State.BREACHED_RUNNING
            if clock.breach_recorded
            else SLAClock.State.RUNNING
        )

    @handles(Ticket.ClockStopped)
    def stopped(
        self, e: Ticket.ClockStopped, position: int, session: ProjectionSession
    ) -> None:
        clock = self._clock(e, session)
        clock.stopped_at = e.timestamp
        clock.stopped_position = position
        clock.outcome = e.outcome
        clock.business_seconds_used = e.business_seconds_used
        clock.paused_since = None
        clock.state = SLAClock.State.BREACHED if e.breached else SLAClock.State.MET

    @handles(Ticket.SLAWarningIssued)
    def warned(
        self, e: Ticket.SLAWarningIssued, position: int, session: ProjectionSession
    ) -> None:
        clock = self._clock(e, session)
        clock.warning_recorded = True
        clock.warning_position = position

    @handles(Ticket.SLABreached)
    def breached(
        self, e: Ticket.SLABreached, position: int, session: ProjectionSession
    ) -> None:
        clock = self._clock(e, session)
        clock.breach_recorded = True
        clock.breach_position = position
        if clock.state == SLAClock.State.RUNNING:
            clock.state = SLAClock.State.BREACHED_RUNNING
