"""The SLA port used by TicketsApplication: due times from the departments'
policy and calendar versions in force when a clock starts.

Calendar versions are immutable, so built calendars are cached per
(department, version) for the life of the process. Version 0 is the
built-in calendar of a department that has none: 24 hours a day, 7 days a
week.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, TypeVar
from uuid import uuid4

from django.core.cache import cache

from sla.calendar import BusinessCalendar, CalendarSpec
from sla.models import CalendarVersion, SLAPolicyVersion
from tickets.domain import ClockTerms

logger = logging.getLogger(__name__)

_V = TypeVar("_V", SLAPolicyVersion, CalendarVersion)

ROUND_THE_CLOCK = CalendarSpec(
    timezone="UTC", weekly=dict.fromkeys(range(7), ((0, 1440),))
)


#: The shared cache key whose value changes whenever a policy or calendar
#: version is added (``versions_changed``); every process compares it with
#: the one its in-memory versions were read at.
GENERATION_KEY = "baton:sla-versions-generation"
#: Seconds a process keeps versions it read even when told nothing: bounds
#: how long a lost change notice (the cache down at that moment) can last.
VERSIONS_MAX_AGE = 30.0


def versions_changed() -> None:
    """Tell every process that a policy or calendar version was added (call
    once it is committed): each re-reads the versions on its next clock."""
    try:
        cache.set(GENERATION_KEY, uuid4().hex, timeout=None)
    except Exception:  # the cache is down: processes re-read every time
        logger.exception("Could not publish an SLA versions change")


def _generation() -> object:
    try:
        value = cache.get(GENERATION_KEY)
        if value is None:
            cache.add(GENERATION_KEY, uuid4().hex, timeout=None)
            value = cache.get(GENERATION_KEY)
    except Exception:
        logger.exception("Could not read the SLA versions generation")
        value = None
    # No shared value (cache down, or evicted meanwhile): never a match.
    return value if value is not None else object()


@dataclass(frozen=True)
class Versions:
    """Every policy and calendar version, per department newest first (the
    order in force is decided in): small, and immutable once written."""

    policies: dict[str, list[SLAPolicyVersion]]
    calendars: dict[str, list[CalendarVersion]]

    @classmethod
    def load(cls) -> Versions:
        return cls(
            policies=_by_department(
                SLAPolicyVersion.objects.select_related("policy__department"),
                lambda row: row.policy.department.code,
            ),
            calendars=_by_department(
                CalendarVersion.objects.select_related("calendar__department"),
                lambda row: row.calendar.department.code,
            ),
        )

    def policy_at(self, department: str, at: datetime) -> SLAPolicyVersion | None:
        return _in_force(self.policies.get(department, []), at)

    def calendar_at(self, department: str, at: datetime) -> CalendarVersion | None:
        return _in_force(self.calendars.get(department, []), at)


def _by_department(rows: Any, code: Callable[[Any], str]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for row in rows:
        found.setdefault(code(row), []).append(row)
    for versions in found.values():
        # Newest first: the latest effective_from at or before an instant
        # wins, and among equal ones the highest version.
        versions.sort(key=lambda r: (r.effective_from, r.version), reverse=True)
    return found


def _in_force(versions: list[_V], at: datetime) -> _V | None:
    return next((row for row in versions if row.effective_from <= at), None)


class StallTerms(NamedTuple):
    """When a quiet stint stalls, and the limit (business seconds) used."""

    stalled_at: datetime
    stall_after_seconds: float


class PolicySLAPort:
    """Implements ``tickets.domain.SLAPort`` with Django-stored versions.

    The versions are read once per process and kept until another version
    is added anywhere (``versions_changed``), so starting a clock costs one
    shared-cache read, not two queries."""

    _cache: dict[tuple[str, int], BusinessCalendar] = {}
    _lock = threading.Lock()
    _versions: tuple[object, float, Versions] | None = None

    @classmethod
    def clear_cache(cls) -> None:
        """Forget built calendars and read versions (tests: each test has
        its own versions)."""
        with cls._lock:
            cls._cache.clear()
            PolicySLAPort._versions = None

    def versions(self) -> Versions:
        generation = _generation()
        held = PolicySLAPort._versions
        if (
            held is not None
            and held[0] == generation
            and time.monotonic() - held[1] < VERSIONS_MAX_AGE
        ):
            return held[2]
        versions = Versions.load()
        PolicySLAPort._versions = (generation, time.monotonic(), versions)
        return versions

    def calendar(
        self, department: str, version: int, row: CalendarVersion | None = None
    ) -> BusinessCalendar:
        key = (department, version)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if version == 0:
            spec = ROUND_THE_CLOCK
        else:
            row = row or CalendarVersion.objects.get(
                calendar__department__code=department, version=version
            )
            spec = row.spec()
        built = BusinessCalendar(spec)
        with self._lock:
            return self._cache.setdefault(key, built)

    def terms(
        self,
        *,
        kind: str,
        department: str,
        priority: str,
        scenario: str,
        start: datetime,
    ) -> ClockTerms | None:
        versions = self.versions()  # policy and calendar from one reading
        policy = versions.policy_at(department, start)
        if policy is None:
            return None
        target = policy.target(kind, priority, scenario)
        if target is None:
            return None
        row = versions.calendar_at(department, start)
        number = row.version if row is not None else 0
        calendar = self.calendar(department, number, row)
        try:
            due_at = calendar.add_business_time(start, target)
            warn_at = calendar.add_business_time(
                start, target * policy.warn_percent / 100
            )
        except ValueError:
            # No working time for years ahead (closures): no promise can be
            # made, so no clock runs rather than the command failing.
            logger.exception(
                "No SLA clock for %s: calendar v%s has no time", department, number
            )
            return None
        return ClockTerms(
            target_seconds=target.total_seconds(),
            due_at=due_at,
            warn_at=warn_at,
            policy_version=policy.version,
            calendar_version=number,
            pauses_on_waiting=policy.pause_on_waiting,
        )

    def stall_at(self, department: str, quiet_since: datetime) -> StallTerms | None:
        """When a stint of ``department`` quiet since ``quiet_since`` stalls:
        its policy's ``stall_after`` in business time on the calendar in
        force then (None: the department sets no limit)."""
        versions = self.versions()
        policy = versions.policy_at(department, quiet_since)
        if policy is None or policy.stall_after is None:
            return None
        row = versions.calendar_at(department, quiet_since)
        calendar = self.calendar(department, row.version if row else 0, row)
        try:
            stalled_at = calendar.add_business_time(quiet_since, policy.stall_after)
        except ValueError:
            return None  # no working time ahead: it cannot stall
        return StallTerms(stalled_at, policy.stall_after.total_seconds())

    def abandon_after(
        self, department: str, waiting_since: datetime
    ) -> timedelta | None:
        """How long (calendar time) a ticket of ``department`` may wait on
        the customer, under the policy in force when waiting began."""
        policy = self.versions().policy_at(department, waiting_since)
        return policy.abandon_after if policy is not None else None

    def business_seconds(
        self, *, department: str, calendar_version: int, start: datetime, end: datetime
    ) -> float:
        calendar = self.calendar(department, calendar_version)
        return calendar.business_time_between(start, end).total_seconds()

    def shift(
        self,
        *,
        department: str,
        calendar_version: int,
        instant: datetime,
        seconds: float,
    ) -> datetime:
        calendar = self.calendar(department, calendar_version)
        return calendar.add_business_time(instant, timedelta(seconds=seconds))


class SnapshotSLAPort(PolicySLAPort):
    """A PolicySLAPort that reads every policy and calendar version once,
    when it is built, and never checks for new ones: for generating long
    histories in bulk (the demo, the benchmarks), where configuration does
    not change meanwhile."""

    def __init__(self) -> None:
        self._snapshot = Versions.load()

    def versions(self) -> Versions:
        return self._snapshot
