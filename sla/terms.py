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
from datetime import datetime, timedelta
from typing import Any

from sla.calendar import BusinessCalendar, CalendarSpec
from sla.models import CalendarVersion, SLAPolicyVersion
from tickets.domain import ClockTerms

logger = logging.getLogger(__name__)

ROUND_THE_CLOCK = CalendarSpec(
    timezone="UTC", weekly=dict.fromkeys(range(7), ((0, 1440),))
)


def policy_version_at(department: str, at: datetime) -> SLAPolicyVersion | None:
    return (
        SLAPolicyVersion.objects.filter(
            policy__department__code=department, effective_from__lte=at
        )
        .order_by("-effective_from", "-version")
        .first()
    )


def calendar_version_at(department: str, at: datetime) -> CalendarVersion | None:
    return (
        CalendarVersion.objects.filter(
            calendar__department__code=department, effective_from__lte=at
        )
        .order_by("-effective_from", "-version")
        .first()
    )


class PolicySLAPort:
    """Implements ``tickets.domain.SLAPort`` with Django-stored versions."""

    _cache: dict[tuple[str, int], BusinessCalendar] = {}
    _lock = threading.Lock()

    @classmethod
    def clear_cache(cls) -> None:
        """Forget built calendars (tests: each test has its own versions)."""
        with cls._lock:
            cls._cache.clear()

    def policy_at(self, department: str, at: datetime) -> SLAPolicyVersion | None:
        return policy_version_at(department, at)

    def calendar_at(self, department: str, at: datetime) -> CalendarVersion | None:
        return calendar_version_at(department, at)

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
        policy = self.policy_at(department, start)
        if policy is None:
            return None
        target = policy.target(kind, priority, scenario)
        if target is None:
            return None
        row = self.calendar_at(department, start)
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
    when it is built: for generating long histories in bulk (the demo, the
    benchmarks), where configuration does not change meanwhile. Versions
    in force are then found in memory instead of by a query per clock."""

    def __init__(self) -> None:
        self._policies = self._by_department(
            SLAPolicyVersion.objects.select_related("policy__department"),
            lambda row: row.policy.department.code,
        )
        self._calendars = self._by_department(
            CalendarVersion.objects.select_related("calendar__department"),
            lambda row: row.calendar.department.code,
        )

    @staticmethod
    def _by_department(rows: Any, code: Any) -> dict[str, list[Any]]:
        found: dict[str, list[Any]] = {}
        for row in rows:
            found.setdefault(code(row), []).append(row)
        for versions in found.values():
            # Newest first, the order policy_version_at picks in.
            versions.sort(key=lambda r: (r.effective_from, r.version), reverse=True)
        return found

    @staticmethod
    def _in_force(versions: list[Any], at: datetime) -> Any:
        return next((row for row in versions if row.effective_from <= at), None)

    def policy_at(self, department: str, at: datetime) -> SLAPolicyVersion | None:
        return self._in_force(self._policies.get(department, []), at)  # type: ignore[no-any-return]

    def calendar_at(self, department: str, at: datetime) -> CalendarVersion | None:
        return self._in_force(self._calendars.get(department, []), at)  # type: ignore[no-any-return]
