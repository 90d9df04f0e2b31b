"""SLA clock arithmetic, written once: pure functions of instants and a
department's business calendar.

The :class:`Ticket` aggregate runs its clocks with these functions, and the
what-if replay (``sla.whatif``) re-runs stored clocks under other targets
with the very same ones, so a replay with each clock's own target
reproduces the stored verdicts exactly.

* a clock's due time is its start plus its target in business time
  (:func:`due_time`; the SLA port fixes it, with the warning time, in
  :class:`ClockTerms` when the clock starts);
* a pause (waiting on the customer) or a stop that a reopen undoes moves
  the due and warning times later by the business time it lasted
  (:func:`resume`, :meth:`BusinessTime.shift`);
* a clock is late at an instant strictly after its due time
  (:func:`late`); its verdict when it pauses, stops or is judged is
  "breached" if a breach was already found or it is late then
  (:func:`breached`); a breach found before a pause stays a breach;
* a warning or breach is recorded for a running clock from its warning or
  due time on (:func:`reached`);
* business seconds used are those between start and stop, less the paused
  ones (:func:`business_seconds_used`).

Business time itself (calendars, holidays) lives behind :class:`SLAPort`;
``sla.terms.PolicySLAPort`` implements it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True)
class ClockTerms:
    """What a department promised when one of its clocks starts. Fixed in
    the ClockStarted event, so replaying history never consults today's
    policy or calendar."""

    target_seconds: float
    due_at: datetime
    warn_at: datetime
    policy_version: int
    calendar_version: int
    pauses_on_waiting: bool = True


class SLAPort(Protocol):
    """Business-time services the aggregate needs to run clocks.

    ``terms`` returns None when the department has no target for that kind
    of clock. Business time is measured on the department's calendar at
    the given (immutable) calendar version.
    """

    def terms(
        self,
        *,
        kind: str,
        department: str,
        priority: str,
        scenario: str,
        start: datetime,
    ) -> ClockTerms | None: ...

    def business_seconds(
        self, *, department: str, calendar_version: int, start: datetime, end: datetime
    ) -> float: ...

    def shift(
        self,
        *,
        department: str,
        calendar_version: int,
        instant: datetime,
        seconds: float,
    ) -> datetime: ...


@dataclass(frozen=True)
class BusinessTime:
    """One department's business calendar at one (immutable) version, as
    the port measures it: the calendar a clock started on."""

    port: SLAPort
    department: str
    calendar_version: int

    def seconds_between(self, start: datetime, end: datetime) -> float:
        return self.port.business_seconds(
            department=self.department,
            calendar_version=self.calendar_version,
            start=start,
            end=end,
        )

    def shift(self, instant: datetime, seconds: float) -> datetime:
        """``instant`` moved ``seconds`` of business time later; nothing to
        add (zero or less) leaves the instant exactly as it is."""
        if seconds <= 0:
            return instant
        return self.port.shift(
            department=self.department,
            calendar_version=self.calendar_version,
            instant=instant,
            seconds=seconds,
        )


@dataclass
class Clock:
    """A running or finished SLA clock (state rebuilt from events)."""

    id: UUID
    kind: str
    department: str
    stint_id: UUID | None
    started_at: datetime
    target_seconds: float
    due_at: datetime
    warn_at: datetime
    policy_version: int
    calendar_version: int
    pauses_on_waiting: bool
    paused_at: datetime | None = None
    paused_seconds: float = 0.0
    stopped_at: datetime | None = None
    outcome: str | None = None
    warned: bool = False
    breached: bool = False

    @property
    def is_running(self) -> bool:
        return is_running(paused_at=self.paused_at, stopped_at=self.stopped_at)

    def business_time(self, port: SLAPort) -> BusinessTime:
        return BusinessTime(port, self.department, self.calendar_version)


def is_running(*, paused_at: datetime | None, stopped_at: datetime | None) -> bool:
    """Neither paused nor stopped."""
    return stopped_at is None and paused_at is None


def is_paused(*, paused_at: datetime | None, stopped_at: datetime | None) -> bool:
    """Paused (waiting on the customer) and not stopped."""
    return stopped_at is None and paused_at is not None


def due_time(
    calendar: BusinessTime, start: datetime, target_seconds: float
) -> datetime:
    """The due time of a clock started at ``start`` with a target of
    ``target_seconds``: the start plus the target in business time."""
    return calendar.shift(start, target_seconds)


def late(at: datetime, due_at: datetime) -> bool:
    """Whether ``at`` is past the due time (strictly: a reply at the due
    instant itself is in time)."""
    return at > due_at


def breached(*, already: bool, at: datetime, due_at: datetime) -> bool:
    """The verdict on a clock that pauses, stops or is judged at ``at``: a
    breach once found stays a breach; otherwise it is breached if late."""
    return already or late(at, due_at)


def reached(at: datetime, threshold: datetime) -> bool:
    """Whether a running clock has reached its warning or due time, from
    which on the warning or breach may be recorded."""
    return not at < threshold


@dataclass(frozen=True)
class Resumption:
    """What resuming a paused (or stopped) clock fixes in its event."""

    #: Business seconds the clock was paused (or stopped).
    paused_seconds: float
    due_at: datetime
    warn_at: datetime


def resume(
    calendar: BusinessTime,
    *,
    since: datetime,
    at: datetime,
    due_at: datetime,
    warn_at: datetime,
) -> Resumption:
    """A clock paused (or stopped) ``since`` resumes ``at``: its due and
    warning times move later by the business time in between."""
    paused = calendar.seconds_between(since, at)
    return Resumption(
        paused_seconds=paused,
        due_at=calendar.shift(due_at, paused),
        warn_at=calendar.shift(warn_at, paused),
    )


def business_seconds_used(
    calendar: BusinessTime,
    *,
    started_at: datetime,
    at: datetime,
    paused_seconds: float,
) -> float:
    """Business seconds a clock ran from ``started_at`` to ``at``, less the
    business seconds it was paused (never below zero)."""
    used = calendar.seconds_between(started_at, at)
    return max(0.0, used - paused_seconds)
