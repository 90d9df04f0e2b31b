"""SLA clocks on the ticket: their events, the commands that record
warnings and breaches, and how the other commands start, pause, resume and
stop clocks.

Each stint has a response clock (id: the stint id); each back-office stint
also a resolution clock (id: :func:`stint_resolution_clock_id`); the ticket
has one resolution clock (id: the ticket id) that runs from opening to
resolution. The arithmetic is in :mod:`tickets.domain.clocks`.
"""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from tickets.domain.actors import Actor
from tickets.domain.clocks import (
    Clock,
    SLAPort,
    breached,
    business_seconds_used,
    late,
    reached,
    resume,
)
from tickets.domain.errors import ClockNotDue, ClockNotFound, SLAAlreadyRecorded
from tickets.domain.state import TicketEvent, TicketState
from tickets.domain.validation import _instant
from tickets.domain.vocabulary import ClockKind, event_topic


def stint_resolution_clock_id(stint_id: UUID) -> UUID:
    """The id of a stint's resolution clock (its response clock has the
    stint's own id; the ticket-level resolution clock has the ticket's)."""
    return uuid5(NAMESPACE_URL, f"baton:stint-resolution:{stint_id}")


def _require_port(sla: SLAPort | None) -> SLAPort:
    if sla is None:
        raise RuntimeError("This ticket has SLA clocks: an SLA port is required.")
    return sla


class ClockKeeping(TicketState):
    """Ticket commands and helpers for SLA clocks."""

    # -- start ----------------------------------------------------------------

    class ClockStarted(TicketEvent):
        """A department's clock started, with its due time fixed here."""

        TOPIC = event_topic("ClockStarted")
        clock_id: UUID
        kind: str
        stint_id: UUID | None
        department: str
        target_seconds: float
        due_at: datetime
        warn_at: datetime
        policy_version: int
        calendar_version: int
        pauses_on_waiting: bool

        def apply(self, ticket: TicketState) -> None:
            ticket.clocks[self.clock_id] = Clock(
                id=self.clock_id,
                kind=self.kind,
                department=self.department,
                stint_id=self.stint_id,
                started_at=self.timestamp,
                target_seconds=self.target_seconds,
                due_at=self.due_at,
                warn_at=self.warn_at,
                policy_version=self.policy_version,
                calendar_version=self.calendar_version,
                pauses_on_waiting=self.pauses_on_waiting,
            )

    def _start_clock(
        self,
        sla: SLAPort | None,
        kind: str,
        clock_id: UUID,
        stint_id: UUID | None,
        department: str,
        actor: Actor,
        at: datetime,
    ) -> None:
        if sla is None:
            return
        terms = sla.terms(
            kind=kind,
            department=department,
            priority=self.priority,
            scenario=self.scenario,
            start=at,
        )
        if terms is None:
            return
        self._trigger(
            self.ClockStarted,
            actor,
            at,
            clock_id=clock_id,
            kind=kind,
            stint_id=stint_id,
            department=department,
            target_seconds=terms.target_seconds,
            due_at=_instant(terms.due_at),
            warn_at=_instant(terms.warn_at),
            policy_version=terms.policy_version,
            calendar_version=terms.calendar_version,
            pauses_on_waiting=terms.pauses_on_waiting,
        )

    def _start_stint_clocks(
        self, sla: SLAPort | None, stint_id: UUID, actor: Actor, at: datetime
    ) -> None:
        """A stint's response clock; for back-office departments also a
        resolution (ownership) clock. The front line's resolution target is
        the ticket-level clock instead."""
        department = self.stints[stint_id].department
        self._start_clock(
            sla, ClockKind.RESPONSE, stint_id, stint_id, department, actor, at
        )
        if department != self.front_line:
            self._start_clock(
                sla,
                ClockKind.RESOLUTION,
                stint_resolution_clock_id(stint_id),
                stint_id,
                department,
                actor,
                at,
            )

    # -- pause and resume -------------------------------------------------------

    class ClockPaused(TicketEvent):
        """Waiting on the customer paused the clock."""

        TOPIC = event_topic("ClockPaused")
        clock_id: UUID

        def apply(self, ticket: TicketState) -> None:
            ticket.clocks[self.clock_id].paused_at = self.timestamp

    def _pause_clocks(self, actor: Actor, at: datetime) -> None:
        """Waiting on the customer pauses every running clock whose policy
        pauses on waiting."""
        for clock in list(self.clocks.values()):
            if clock.is_running and clock.pauses_on_waiting:
                if not clock.breached and late(at, clock.due_at):
                    # Already late: the breach happened before the pause,
                    # whether or not a sweep noticed it in time.
                    self._breach(clock, actor, at)
                self._trigger(self.ClockPaused, actor, at, clock_id=clock.id)

    class ClockResumed(TicketEvent):
        """The clock runs again; its due time moved by the business time it
        was paused (or, after a reopen, stopped)."""

        TOPIC = event_topic("ClockResumed")
        clock_id: UUID
        paused_seconds: float
        due_at: datetime
        warn_at: datetime
        cause: str

        def apply(self, ticket: TicketState) -> None:
            clock = ticket.clocks[self.clock_id]
            clock.paused_at = None
            clock.stopped_at = None
            clock.outcome = None
            clock.paused_seconds += self.paused_seconds
            clock.due_at = self.due_at
            clock.warn_at = self.warn_at

    def _resume_clocks(
        self, sla: SLAPort | None, actor: Actor, at: datetime, *, cause: str
    ) -> None:
        for clock in list(self.clocks.values()):
            if clock.paused_at is not None and clock.stopped_at is None:
                self._resume_clock(sla, clock, actor, at, cause=cause)

    def _resume_clock(
        self,
        sla: SLAPort | None,
        clock: Clock,
        actor: Actor,
        at: datetime,
        *,
        cause: str,
    ) -> None:
        since = clock.paused_at or clock.stopped_at
        assert since is not None
        moved = resume(
            clock.business_time(_require_port(sla)),
            since=since,
            at=at,
            due_at=clock.due_at,
            warn_at=clock.warn_at,
        )
        self._trigger(
            self.ClockResumed,
            actor,
            at,
            clock_id=clock.id,
            paused_seconds=moved.paused_seconds,
            due_at=moved.due_at,
            warn_at=moved.warn_at,
            cause=cause,
        )

    # -- stop -------------------------------------------------------------------

    class ClockStopped(TicketEvent):
        """The clock stopped; the verdict compares event time and due time."""

        TOPIC = event_topic("ClockStopped")
        clock_id: UUID
        outcome: str
        business_seconds_used: float
        breached: bool

        def apply(self, ticket: TicketState) -> None:
            clock = ticket.clocks[self.clock_id]
            clock.stopped_at = self.timestamp
            clock.outcome = self.outcome

    def _stop_stint_clocks(
        self,
        sla: SLAPort | None,
        stint_id: UUID,
        outcome: str,
        actor: Actor,
        at: datetime,
    ) -> None:
        ids = [stint_id, stint_resolution_clock_id(stint_id)]
        self._stop_clocks(sla, ids, outcome, actor, at)

    def _stop_clocks(
        self,
        sla: SLAPort | None,
        clock_ids: list[UUID],
        outcome: str,
        actor: Actor,
        at: datetime,
    ) -> None:
        for clock_id in clock_ids:
            clock = self.clocks.get(clock_id)
            if clock is None or clock.stopped_at is not None:
                continue
            port = _require_port(sla)
            if clock.paused_at is not None:
                self._resume_clock(port, clock, actor, at, cause="stopping")
            used = business_seconds_used(
                clock.business_time(port),
                started_at=clock.started_at,
                at=at,
                paused_seconds=clock.paused_seconds,
            )
            verdict = breached(already=clock.breached, at=at, due_at=clock.due_at)
            if verdict and not clock.breached:
                self._breach(clock, actor, at)
            self._trigger(
                self.ClockStopped,
                actor,
                at,
                clock_id=clock_id,
                outcome=outcome,
                business_seconds_used=used,
                breached=verdict,
            )

    # -- warnings and breaches ----------------------------------------------------

    class SLAWarningIssued(TicketEvent):
        """A running clock passed its warning threshold."""

        TOPIC = event_topic("SLAWarningIssued")
        clock_id: UUID
        kind: str
        department: str
        warn_at: datetime
        due_at: datetime

        def apply(self, ticket: TicketState) -> None:
            ticket.clocks[self.clock_id].warned = True

    def record_sla_warning(self, *, clock_id: UUID, actor: Actor, at: datetime) -> None:
        """Record that a running clock passed its warning threshold; at most
        once per clock, never after its breach."""
        clock = self._clock(clock_id)
        if clock.warned or clock.breached:
            raise SLAAlreadyRecorded("A warning or breach is already recorded.")
        if not clock.is_running or not reached(at, clock.warn_at):
            raise ClockNotDue("The clock is not running past its warning time.")
        self._trigger(
            self.SLAWarningIssued,
            actor,
            at,
            clock_id=clock_id,
            kind=clock.kind,
            department=clock.department,
            warn_at=clock.warn_at,
            due_at=clock.due_at,
        )

    class SLABreached(TicketEvent):
        """A clock passed its due time; ``due_at`` is the true breach time
        even when the breach is found later."""

        TOPIC = event_topic("SLABreached")
        clock_id: UUID
        kind: str
        department: str
        due_at: datetime

        def apply(self, ticket: TicketState) -> None:
            ticket.clocks[self.clock_id].breached = True

    def record_sla_breach(self, *, clock_id: UUID, actor: Actor, at: datetime) -> None:
        """Record that a running clock passed its due time; at most once per
        clock. The event keeps the true due time however late it is found."""
        clock = self._clock(clock_id)
        if clock.breached:
            raise SLAAlreadyRecorded("The breach is already recorded.")
        if not clock.is_running or not reached(at, clock.due_at):
            raise ClockNotDue("The clock is not running past its due time.")
        self._breach(clock, actor, at)

    def _breach(self, clock: Clock, actor: Actor, at: datetime) -> None:
        self._trigger(
            self.SLABreached,
            actor,
            at,
            clock_id=clock.id,
            kind=clock.kind,
            department=clock.department,
            due_at=clock.due_at,
        )

    def _clock(self, clock_id: UUID) -> Clock:
        try:
            return self.clocks[clock_id]
        except KeyError:
            raise ClockNotFound(f"The ticket has no clock {clock_id}.") from None
