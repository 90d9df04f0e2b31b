"""What-if: replay a period's response clocks against proposed targets.

:func:`simulate_policy` answers "how many of a department's handoffs would
have breached their response promise if the targets had been these?"
without storing anything: it reads the scorecard facts (to know which
stints the department received in the period) and the tickets' stored
events, and writes no event and no row.

Rules of the replay (they are the aggregate's: the replay runs the clock
arithmetic of ``tickets.domain.clocks`` that ``tickets.domain.Ticket`` runs,
so simulating with every clock's own target reproduces the stored verdicts
exactly):

* the cohort is the department's stints received in the period, in its
  own timezone, that have a response clock (as in the scorecards); with a
  ``scenario`` only the stints counted in that scenario's scorecard;
* a clock's priority is the ticket's priority when the clock started;
* a proposed target for a priority *replaces the target the clock was
  started with*, whatever it came from (the priority's target or a
  scenario override); priorities not proposed keep the clock's own target;
* the proposed due time is the clock's start plus the target in business
  time, on the calendar version the clock started with; every
  ``ClockResumed`` moves it by the business seconds the clock was paused,
  exactly as the aggregate moved the stored due time (those seconds do not
  depend on the target);
* a clock is breached if it was paused, or stopped, at an instant later
  than its due time then in force, or if it is still running at ``now``
  later than its due time. (A breach found before a pause stays a breach
  even when the pause moves the due time past the eventual reply.)

"Breached now" is the stored verdict: a recorded ``SLABreached`` or a
breached ``ClockStopped``, and a running clock already past its stored due
time counts as breached. Rates are breaches over clocks (a clock still
running and not past due counts as not breached, so for a period still in
progress the rates are a lower bound).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from departments.models import Department
from sla.models import PRIORITIES, ScorecardHandoff
from sla.scorecards import (
    PERIODS,
    format_rate,
    period_after,
    period_start,
    period_starts,
    ratio,
)
from sla.terms import PolicySLAPort
from tickets import clock as baton_clock
from tickets.application import get_tickets_application
from tickets.domain import ClockKind, Ticket
from tickets.domain.clocks import (
    BusinessTime,
    breached,
    due_time,
    is_paused,
    is_running,
    late,
)

__all__ = [
    "ClockReplay",
    "PriorityFigures",
    "Simulation",
    "WhatIfError",
    "default_start",
    "format_rate",
    "parse_duration",
    "parse_target",
    "parse_targets",
    "simulate_policy",
]


class WhatIfError(ValueError):
    """Raised for a simulation request that cannot be answered (unknown
    department or period, bad target); ``field`` names the input at fault
    and the message says what to write instead."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# ---------------------------------------------------------------------------
# Input parsing
# ---------------------------------------------------------------------------

_NUMBER = r"(\d+(?:\.\d+)?|\.\d+)"
_DURATION_RE = re.compile(rf"^(?:{_NUMBER}h)?(?:{_NUMBER}m)?(?:{_NUMBER}s)?$")
_UNIT_SECONDS = (3600, 60, 1)
#: No response promise is longer than a year; longer ones would only make
#: the business-calendar walk (and the page) slow.
MAX_TARGET_SECONDS = 365 * 24 * 3600


def parse_duration(text: Any) -> float:
    """Seconds in a duration written like ``2h``, ``30m``, ``1h30m``,
    ``90m``, ``1.5h`` or ``45s`` (units in that order, each at most once,
    spaces ignored). Raises :class:`WhatIfError` for anything else and for
    a zero duration."""
    raw = str(text if text is not None else "")
    compact = re.sub(r"\s+", "", raw).lower()
    match = _DURATION_RE.match(compact)
    if not compact or match is None or not any(match.groups()):
        raise WhatIfError(
            f"{raw!r} is not a duration: write hours, minutes and seconds "
            "like 2h, 30m, 1h30m, 1.5h or 45s.",
            field="duration",
        )
    seconds = sum(
        float(value) * unit
        for value, unit in zip(match.groups(), _UNIT_SECONDS, strict=True)
        if value is not None
    )
    # Whole microseconds, as business-time arithmetic counts them.
    seconds = round(seconds, 6)
    if seconds <= 0:
        raise WhatIfError(
            f"{raw!r}: a target must be longer than zero.", field="duration"
        )
    if seconds > MAX_TARGET_SECONDS:
        raise WhatIfError(
            f"{raw!r}: a response target can be at most a year (8760h).",
            field="duration",
        )
    return seconds


def _priority(value: Any) -> str:
    priority = str(value).strip().lower()
    if priority not in PRIORITIES:
        raise WhatIfError(
            f"Unknown priority {value!r}: use {', '.join(PRIORITIES)}.",
            field="priority",
        )
    return priority


def parse_target(text: str) -> tuple[str, float]:
    """``"normal=2h"`` -> ``("normal", 7200.0)``. Raises
    :class:`WhatIfError`."""
    priority, sep, duration = str(text).partition("=")
    if not sep:
        raise WhatIfError(
            f"{text!r}: write a target as PRIORITY=DURATION, e.g. normal=2h.",
            field="response",
        )
    return _priority(priority), parse_duration(duration)


def parse_targets(items: Iterable[str]) -> dict[str, float]:
    """Several ``PRIORITY=DURATION`` items; a priority may appear once."""
    targets: dict[str, float] = {}
    for item in items:
        priority, seconds = parse_target(item)
        if priority in targets:
            raise WhatIfError(
                f"The {priority} target is given twice.", field="response"
            )
        targets[priority] = seconds
    return targets


def _clean_targets(response: Mapping[str, Any]) -> dict[str, float]:
    targets: dict[str, float] = {}
    for key, value in response.items():
        priority = _priority(key)
        if isinstance(value, timedelta):
            seconds = value.total_seconds()
        elif isinstance(value, int | float) and not isinstance(value, bool):
            seconds = float(value)
        else:
            seconds = parse_duration(value)
        if seconds <= 0:
            raise WhatIfError(
                f"The {priority} target must be longer than zero.", field=priority
            )
        targets[priority] = seconds
    return targets


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockReplay:
    """One response clock, as stored and as it would have run."""

    ticket_id: UUID
    stint_id: UUID
    #: The ticket's priority and scenario when the clock started.
    priority: str
    scenario: str
    started_at: datetime
    #: None while the clock runs (or is paused).
    stopped_at: datetime | None
    paused: bool
    stored_target_seconds: float
    proposed_target_seconds: float
    stored_due_at: datetime
    proposed_due_at: datetime
    breached_now: bool
    breached_proposed: bool

    @property
    def flipped(self) -> bool:
        return self.breached_now != self.breached_proposed

    @property
    def change(self) -> str:
        if not self.flipped:
            return "unchanged"
        return "newly breached" if self.breached_proposed else "no longer breached"

    def as_dict(self) -> dict[str, Any]:
        return {
            "ticket_id": str(self.ticket_id),
            "stint_id": str(self.stint_id),
            "priority": self.priority,
            "scenario": self.scenario,
            "started_at": self.started_at.isoformat(),
            "stopped_at": self.stopped_at.isoformat() if self.stopped_at else None,
            "paused": self.paused,
            "stored_target_seconds": self.stored_target_seconds,
            "proposed_target_seconds": self.proposed_target_seconds,
            "stored_due_at": self.stored_due_at.isoformat(),
            "proposed_due_at": self.proposed_due_at.isoformat(),
            "breached_now": self.breached_now,
            "breached_proposed": self.breached_proposed,
            "change": self.change,
        }


@dataclass(frozen=True)
class PriorityFigures:
    """Breach counts and rates for one priority (or ``"total"``)."""

    priority: str
    clocks: int
    breached_now: int
    breached_proposed: int

    @property
    def rate_now(self) -> float | None:
        return ratio(self.breached_now, self.clocks)

    @property
    def rate_proposed(self) -> float | None:
        return ratio(self.breached_proposed, self.clocks)

    @property
    def breach_change(self) -> int:
        return self.breached_proposed - self.breached_now

    @property
    def rate_change(self) -> float | None:
        if not self.clocks:
            return None
        return round((self.breached_proposed - self.breached_now) / self.clocks, 4)

    @classmethod
    def of(cls, priority: str, clocks: list[ClockReplay]) -> PriorityFigures:
        return cls(
            priority=priority,
            clocks=len(clocks),
            breached_now=sum(c.breached_now for c in clocks),
            breached_proposed=sum(c.breached_proposed for c in clocks),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "priority": self.priority,
            "clocks": self.clocks,
            "breached_now": self.breached_now,
            "breached_proposed": self.breached_proposed,
            "breach_change": self.breach_change,
            "rate_now": self.rate_now,
            "rate_proposed": self.rate_proposed,
            "rate_change": self.rate_change,
        }


@dataclass(frozen=True)
class Simulation:
    """What :func:`simulate_policy` found; nothing of it is stored."""

    department: str
    period: str
    start: date
    #: The first day after the period.
    end: date
    scenario: str | None
    now: datetime
    #: Proposed response targets in seconds, by priority.
    proposed: dict[str, float]
    clocks: list[ClockReplay] = field(default_factory=list)

    @property
    def by_priority(self) -> list[PriorityFigures]:
        return [
            PriorityFigures.of(p, [c for c in self.clocks if c.priority == p])
            for p in PRIORITIES
        ]

    @property
    def total(self) -> PriorityFigures:
        return PriorityFigures.of("total", self.clocks)

    @property
    def flips(self) -> list[ClockReplay]:
        return [c for c in self.clocks if c.flipped]

    def as_dict(self) -> dict[str, Any]:
        return {
            "department": self.department,
            "period": self.period,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "scenario": self.scenario,
            "now": self.now.isoformat(),
            "proposed": dict(self.proposed),
            "priorities": [f.as_dict() for f in self.by_priority],
            "total": self.total.as_dict(),
            "flips": [c.as_dict() for c in self.flips],
        }


# ---------------------------------------------------------------------------
# The replay
# ---------------------------------------------------------------------------


@dataclass
class _Run:
    """One clock being replayed (mutable while its events are read)."""

    ticket_id: UUID
    stint_id: UUID
    department: str
    calendar_version: int
    priority: str
    scenario: str
    started_at: datetime
    stored_target: float
    proposed_target: float
    stored_due: datetime
    proposed_due: datetime
    paused_at: datetime | None = None
    stopped_at: datetime | None = None
    stored_breach: bool = False
    proposed_breach: bool = False


class _Replayer:
    """Re-runs clocks with the aggregate's clock arithmetic
    (``tickets.domain.clocks``) on the same port."""

    def __init__(self, proposed: dict[str, float]) -> None:
        self.port = PolicySLAPort()
        self.proposed = proposed

    @contextmanager
    def calendar(self, run: _Run) -> Iterator[BusinessTime]:
        """The calendar the clock started on; a due time it cannot place
        (no working time for years) is the proposal's fault."""
        try:
            yield BusinessTime(self.port, run.department, run.calendar_version)
        except ValueError as error:
            raise WhatIfError(
                f"Cannot place a due time on {run.department}'s calendar "
                f"v{run.calendar_version}: {error}",
                field="response",
            ) from None

    def replay(
        self, ticket_id: UUID, events: Iterable[Any], wanted: set[UUID]
    ) -> list[_Run]:
        """The response clocks with ids in ``wanted`` (stint ids) in one
        ticket's events, replayed under the proposal."""
        priority = scenario = ""
        runs: dict[UUID, _Run] = {}
        for event in events:
            if isinstance(event, Ticket.Opened | Ticket.PriorityChanged):
                priority = event.priority
            if isinstance(event, Ticket.Opened | Ticket.ScenarioChanged):
                scenario = event.scenario
            clock_id = getattr(event, "clock_id", None)
            if clock_id is None:
                continue
            if isinstance(event, Ticket.ClockStarted):
                if event.kind == ClockKind.RESPONSE and clock_id in wanted:
                    runs[clock_id] = self._start(ticket_id, event, priority, scenario)
                continue
            run = runs.get(clock_id)
            if run is not None:
                self._apply(run, event)
        return list(runs.values())

    def _start(self, ticket_id: UUID, e: Any, priority: str, scenario: str) -> _Run:
        target = self.proposed.get(priority, e.target_seconds)
        run = _Run(
            ticket_id=ticket_id,
            stint_id=e.clock_id,
            department=e.department,
            calendar_version=e.calendar_version,
            priority=priority,
            scenario=scenario,
            started_at=e.timestamp,
            stored_target=e.target_seconds,
            proposed_target=target,
            stored_due=e.due_at,
            proposed_due=e.timestamp,
        )
        # Like PolicySLAPort.terms: start plus the target in business time.
        with self.calendar(run) as calendar:
            run.proposed_due = due_time(calendar, e.timestamp, target)
        return run

    @staticmethod
    def _judge(run: _Run, at: datetime) -> None:
        run.proposed_breach = breached(
            already=run.proposed_breach, at=at, due_at=run.proposed_due
        )

    def _apply(self, run: _Run, e: Any) -> None:
        if isinstance(e, Ticket.ClockPaused):
            # Ticket._pause_clocks: already late when the pause starts.
            self._judge(run, e.timestamp)
            run.paused_at = e.timestamp
        elif isinstance(e, Ticket.ClockResumed):
            run.paused_at = None
            run.stopped_at = None
            run.stored_due = e.due_at
            # Ticket._resume_clock: moved by the business seconds paused.
            with self.calendar(run) as calendar:
                run.proposed_due = calendar.shift(run.proposed_due, e.paused_seconds)
        elif isinstance(e, Ticket.ClockStopped):
            # Ticket._stop_clocks: stopped later than due.
            self._judge(run, e.timestamp)
            run.stopped_at = e.timestamp
            run.stored_breach = run.stored_breach or e.breached
        elif isinstance(e, Ticket.SLABreached):
            run.stored_breach = True

    def finish(self, run: _Run, now: datetime) -> ClockReplay:
        running = is_running(paused_at=run.paused_at, stopped_at=run.stopped_at)
        breached_now = run.stored_breach or (running and late(now, run.stored_due))
        if running:
            self._judge(run, now)
        return ClockReplay(
            ticket_id=run.ticket_id,
            stint_id=run.stint_id,
            priority=run.priority,
            scenario=run.scenario,
            started_at=run.started_at,
            stopped_at=run.stopped_at,
            paused=is_paused(paused_at=run.paused_at, stopped_at=run.stopped_at),
            stored_target_seconds=run.stored_target,
            proposed_target_seconds=run.proposed_target,
            stored_due_at=run.stored_due,
            proposed_due_at=run.proposed_due,
            breached_now=breached_now,
            breached_proposed=run.proposed_breach,
        )


def _department(code: str) -> Department:
    department = Department.objects.filter(code=str(code).strip().upper()).first()
    if department is None:
        raise WhatIfError(f"No department with code {code!r}.", field="department")
    return department


def _period(period: str) -> str:
    if period not in PERIODS:
        raise WhatIfError(
            f"Unknown period {period!r}: use {', '.join(PERIODS)}.", field="period"
        )
    return period


def default_start(department: str, period: str, now: datetime | None = None) -> date:
    """The start of the current ``period`` in the department's timezone."""
    dept = _department(department)
    return period_starts(now or baton_clock.now(), dept.timezone)[_period(period)]


def simulate_policy(
    *,
    department: str,
    period: str,
    start: date,
    response: Mapping[str, Any],
    scenario: str | None = None,
    now: datetime | None = None,
) -> Simulation:
    """Replay the response clocks of the stints ``department`` received in
    the ``period`` ("day", "week" or "month") containing ``start`` under
    the proposed ``response`` targets (seconds, a timedelta or a duration
    text such as "2h", by priority), and compare with the stored verdicts.
    ``scenario`` (None or "*" for all) restricts the cohort to that
    scenario's scorecard. ``now`` (default: the Baton clock) judges clocks
    still running. See the module docstring for the rules.

    Reads only: no event is stored and no row is written. Raises
    :class:`WhatIfError` for an unknown department or period, or a bad
    target."""
    dept = _department(department)
    period = _period(period)
    if not isinstance(start, date) or isinstance(start, datetime):
        raise WhatIfError("start must be a date like 2026-11-16.", field="start")
    first = period_start(period, start)
    try:
        period_after(period, first)
    except OverflowError:
        raise WhatIfError(
            "That period ends after the last date there is.", field="start"
        ) from None
    proposed = _clean_targets(response)
    moment = now or baton_clock.now()
    if moment.tzinfo is None:
        raise WhatIfError("now must be a timezone-aware instant.", field="now")
    cohort = ScorecardHandoff.objects.filter(
        department=dept.code, response_clock=True, **{period: first}
    )
    wanted_scenario: str | None = None
    if scenario is not None and scenario.strip() != "*":
        wanted_scenario = scenario.strip().upper()
        cohort = cohort.filter(scenario=wanted_scenario)
    stints: dict[UUID, set[UUID]] = {}
    for stint_id, ticket_id in cohort.order_by("received_position").values_list(
        "id", "ticket_id"
    ):
        stints.setdefault(ticket_id, set()).add(stint_id)
    app = get_tickets_application()
    replayer = _Replayer(proposed)
    clocks: list[ClockReplay] = []
    for ticket_id, wanted in stints.items():
        runs = replayer.replay(ticket_id, app.events.get(ticket_id), wanted)
        clocks.extend(replayer.finish(run, moment) for run in runs)
    clocks.sort(key=lambda c: (c.started_at, str(c.stint_id)))
    return Simulation(
        department=dept.code,
        period=period,
        start=first,
        end=period_after(period, first),
        scenario=wanted_scenario,
        now=moment,
        proposed=proposed,
        clocks=clocks,
    )
