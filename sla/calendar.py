"""Business-time arithmetic: pure functions over working calendars.

No Django here (an import-linter contract keeps it so): only the standard
library, :mod:`zoneinfo` and the ``holidays`` package.

A calendar is described by a :class:`CalendarSpec`: an IANA time zone, the
weekly working hours, public holidays (a ``holidays`` country and optional
subdivision), extra closed days and extra working days. Working hours are
:data:`WorkingInterval` pairs of minutes after *local* midnight of the date
they belong to; an interval may run past midnight (``end > 1440``), and then
still belongs to the date it starts on.

Business time is *real elapsed time* inside working intervals. An interval
on local date ``d`` covers the instants from
``datetime.combine(d, time(0), tzinfo=tz) + timedelta(minutes=start)`` to the
same with ``end`` (wall-clock arithmetic, each converted to UTC), so on a
daylight-saving change a 01:00-04:00 shift lasts 2 hours (spring forward) or
4 hours (fall back). Intervals that collapse to nothing after conversion are
dropped; intervals that touch or overlap are merged. Working time is
half-open: an interval ``[start, end)`` contains its start, not its end.

:class:`BusinessCalendar` builds, lazily and one local year at a time (in
either direction), sorted arrays of interval starts and ends in integer
microseconds since the Unix epoch plus a running total of business time, so
that every query is a binary search and every result is exact. It is safe
to share between threads.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import MAXYEAR, MINYEAR, UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = [
    "BusinessCalendar",
    "CalendarSpec",
    "WorkingInterval",
    "add_business_time",
    "business_time_between",
    "format_hours",
    "parse_hours",
]

WorkingInterval = tuple[int, int]
"""Minutes after local midnight, ``0 <= start < end <= 2880``; ``end > 1440``
means the interval ends on the next local day (22:00-06:00 is
``(1320, 1800)``)."""

MINUTES_PER_DAY: Final = 1440
MAX_INTERVAL_END: Final = 2 * MINUTES_PER_DAY

# Give up looking for working time this far after the start of an addition.
SEARCH_LIMIT: Final = timedelta(days=3653)  # ten years

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)
_ONE_DAY: Final = timedelta(days=1)
# Local years are built whole. Intervals of other local years cannot reach
# closer than this to the edges of the built UTC years: an interval ends at
# most one local day after its date ends, and UTC offsets stay within a day.
_MARGIN: Final = timedelta(days=3)
_MARGIN_US: Final = _MARGIN // _MICROSECOND
# Keep clear of datetime's limits, margins and overnight intervals included.
_FIRST_YEAR: Final = MINYEAR + 1
_LAST_YEAR: Final = MAXYEAR - 1
_US_PER_YEAR: Final = timedelta(days=365) // _MICROSECOND


# ---------------------------------------------------------------------------
# Calendar description
# ---------------------------------------------------------------------------


def _check_interval(interval: object, where: str) -> WorkingInterval:
    if (
        not isinstance(interval, tuple | list)
        or len(interval) != 2
        or not all(type(m) is int for m in interval)
    ):
        raise ValueError(
            f"{where}: a working interval is a pair of whole minutes after "
            f"local midnight, got {interval!r}."
        )
    start, end = interval
    if not 0 <= start < end <= MAX_INTERVAL_END:
        raise ValueError(
            f"{where}: working interval {start}-{end} must satisfy "
            f"0 <= start < end <= {MAX_INTERVAL_END} (minutes after local "
            "midnight; an end past 1440 runs into the next day)."
        )
    return (start, end)


def _check_intervals(
    intervals: Sequence[WorkingInterval], where: str
) -> tuple[WorkingInterval, ...]:
    if isinstance(intervals, str) or not isinstance(intervals, Sequence):
        raise ValueError(
            f"{where}: expected a sequence of working intervals, got {intervals!r}."
        )
    return tuple(sorted(_check_interval(i, where) for i in intervals))


def _check_date(day: object, where: str) -> date:
    # datetime is a subclass of date, but would never match a local date.
    if type(day) is not date:
        raise ValueError(f"{where}: expected a datetime.date, got {day!r}.")
    return day


@dataclass(frozen=True)
class CalendarSpec:
    """What a working calendar is made of.

    ``weekly`` maps a weekday (0 = Monday .. 6 = Sunday) to its working
    intervals; a missing or empty weekday is closed. A local date uses
    ``extra_working_days[date]`` if present (even an empty list, which
    closes it); otherwise it is closed if it is a public holiday of
    ``holiday_country`` (and ``holiday_subdivision``) or is in
    ``closures``; otherwise it follows ``weekly``.

    The spec is validated and copied on creation (mappings become read-only
    and intervals sorted tuples), so later changes to the arguments do not
    affect it, and it is hashable.
    """

    timezone: str
    weekly: Mapping[int, Sequence[WorkingInterval]]
    holiday_country: str = ""
    holiday_subdivision: str = ""
    closures: frozenset[date] = frozenset()
    extra_working_days: Mapping[date, Sequence[WorkingInterval]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise ValueError(f"Unknown time zone {self.timezone!r}.") from exc

        if not isinstance(self.weekly, Mapping):
            raise ValueError(
                f"weekly must map weekdays (0-6) to intervals, got {self.weekly!r}."
            )
        weekly: dict[int, tuple[WorkingInterval, ...]] = {}
        for weekday, intervals in sorted(self.weekly.items()):
            if type(weekday) is not int or not 0 <= weekday <= 6:
                raise ValueError(
                    f"weekly: weekdays are 0 (Monday) to 6 (Sunday), got {weekday!r}."
                )
            weekly[weekday] = _check_intervals(intervals, f"weekly[{weekday}]")
        object.__setattr__(self, "weekly", MappingProxyType(weekly))

        if not isinstance(self.extra_working_days, Mapping):
            raise ValueError(
                "extra_working_days must map dates to intervals, "
                f"got {self.extra_working_days!r}."
            )
        extra: dict[date, tuple[WorkingInterval, ...]] = {}
        for day, intervals in sorted(self.extra_working_days.items()):
            where = f"extra_working_days[{day!r}]"
            extra[_check_date(day, where)] = _check_intervals(intervals, where)
        object.__setattr__(self, "extra_working_days", MappingProxyType(extra))

        closures = frozenset(
            _check_date(day, "closures") for day in self.closures or ()
        )
        object.__setattr__(self, "closures", closures)

        if self.holiday_subdivision and not self.holiday_country:
            raise ValueError("holiday_subdivision needs a holiday_country.")
        if self.holiday_country:
            try:
                holidays.country_holidays(
                    self.holiday_country, subdiv=self.holiday_subdivision or None
                )
            except NotImplementedError as exc:
                raise ValueError(
                    f"No public holidays known for country "
                    f"{self.holiday_country!r}, subdivision "
                    f"{self.holiday_subdivision!r}: {exc}"
                ) from exc

    def __hash__(self) -> int:
        return hash(
            (
                self.timezone,
                tuple(self.weekly.items()),
                self.holiday_country,
                self.holiday_subdivision,
                self.closures,
                tuple(self.extra_working_days.items()),
            )
        )

    @property
    def has_working_hours(self) -> bool:
        """Whether any weekday or extra working day has working intervals."""
        return any(self.weekly.values()) or any(self.extra_working_days.values())


# ---------------------------------------------------------------------------
# Instants as integer microseconds
# ---------------------------------------------------------------------------


def _to_us(at: datetime, name: str = "datetime") -> int:
    if not isinstance(at, datetime):
        raise ValueError(f"{name} must be a datetime, got {at!r}.")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {at!r}.")
    return (at - _EPOCH) // _MICROSECOND


def _from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _year_start_us(year: int) -> int:
    return (datetime(year, 1, 1, tzinfo=UTC) - _EPOCH) // _MICROSECOND


def _utc_year(us: int) -> int:
    """The UTC year of the instant ``us``; ValueError outside the years a
    calendar supports."""
    if not _year_start_us(_FIRST_YEAR) <= us < _year_start_us(_LAST_YEAR + 1):
        raise ValueError(
            f"Business time is only computed for the years {_FIRST_YEAR} to "
            f"{_LAST_YEAR}."
        )
    return _from_us(us).year


# ---------------------------------------------------------------------------
# The calendar
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Timeline:
    """Merged working intervals of the local years ``first_year`` to
    ``last_year``; correct for instants in ``[lo, hi]``.

    ``cum[i]`` is the business time before interval ``i`` (from the first
    interval of the timeline), ``cum_end[i]`` the business time at its end.
    Never mutated once built.
    """

    first_year: int
    last_year: int
    lo: int
    hi: int
    starts: list[int]
    ends: list[int]
    cum: list[int]
    cum_end: list[int]

    def covers(self, lo: int, hi: int) -> bool:
        return self.lo <= lo and hi <= self.hi

    def elapsed(self, t: int) -> int:
        """Business time from the timeline's origin to ``t``."""
        i = bisect_right(self.starts, t) - 1
        if i < 0:
            return 0
        return self.cum[i] + min(t, self.ends[i]) - self.starts[i]

    def last_working(self, t: int) -> int:
        """The end of the last working time at or before ``t`` (``t`` itself
        if that is working time), or the timeline's first instant."""
        i = bisect_left(self.starts, t) - 1
        if i < 0:
            return self.lo
        return min(t, self.ends[i])

    @property
    def total(self) -> int:
        return self.cum_end[-1] if self.cum_end else 0


def _merge(raw: Iterable[tuple[int, int]]) -> tuple[list[int], list[int]]:
    starts: list[int] = []
    ends: list[int] = []
    for start, end in sorted(raw):
        if ends and start <= ends[-1]:
            if end > ends[-1]:
                ends[-1] = end
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


class BusinessCalendar:
    """Business-time arithmetic over a :class:`CalendarSpec`.

    All arguments must be timezone-aware datetimes (ValueError otherwise);
    all results are in UTC.
    """

    def __init__(self, spec: CalendarSpec) -> None:
        if not isinstance(spec, CalendarSpec):
            raise ValueError(f"Expected a CalendarSpec, got {spec!r}.")
        self.spec: Final = spec
        self._tz = ZoneInfo(spec.timezone)
        self._lock = threading.Lock()
        self._years: dict[int, list[tuple[int, int]]] = {}  # under _lock
        self._timeline: _Timeline | None = None  # replaced whole, under _lock

    def __repr__(self) -> str:
        return f"BusinessCalendar({self.spec!r})"

    # -- queries ------------------------------------------------------------

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which ``duration`` of business time has elapsed
        since ``start``.

        A zero duration returns ``start`` (in UTC) as it is. Otherwise the
        result lies in a working interval ``(start, end]``: it may equal an
        interval's end, never its start. ValueError for a negative duration
        or when there is no working time within ten years.
        """
        t0 = _to_us(start, "start")
        if not isinstance(duration, timedelta):
            raise ValueError(f"duration must be a timedelta, got {duration!r}.")
        if duration < timedelta(0):
            raise ValueError(f"duration must not be negative, got {duration}.")
        if duration == timedelta(0):
            return _from_us(t0)
        if not self.spec.has_working_hours:
            raise ValueError("The calendar has no working hours at all.")
        amount = duration // _MICROSECOND
        timeline = self._ensure(t0, t0)
        while True:
            target = timeline.elapsed(t0) + amount
            i = bisect_left(timeline.cum_end, target)
            if i < len(timeline.cum_end):
                result = timeline.starts[i] + (target - timeline.cum[i])
                if result <= timeline.hi:
                    return _from_us(result)
            # Give up once ten years pass without any working time, from the
            # start or from the last working time found after it.
            since = max(t0, timeline.last_working(timeline.hi))
            if timeline.hi - since >= SEARCH_LIMIT // _MICROSECOND:
                raise ValueError(
                    "The calendar has no working time within ten years after "
                    f"{_from_us(since).isoformat()}."
                )
            timeline = self._extend_forward(timeline, target)

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Business time from ``a`` to ``b``; zero if ``b <= a``."""
        ta = _to_us(a, "a")
        tb = _to_us(b, "b")
        if tb <= ta:
            return timedelta(0)
        timeline = self._ensure(ta, tb)
        return timedelta(microseconds=timeline.elapsed(tb) - timeline.elapsed(ta))

    def is_working_time(self, at: datetime) -> bool:
        """Whether ``at`` is inside a working interval (which contains its
        start, not its end)."""
        t = _to_us(at, "at")
        timeline = self._ensure(t, t)
        i = bisect_right(timeline.starts, t) - 1
        return i >= 0 and t < timeline.ends[i]

    def working_intervals(
        self, start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime]]:
        """The (merged) working intervals overlapping ``[start, end)``,
        clipped to it, in UTC; empty if ``end <= start``."""
        lo = _to_us(start, "start")
        hi = _to_us(end, "end")
        if hi <= lo:
            return []
        timeline = self._ensure(lo, hi)
        result: list[tuple[datetime, datetime]] = []
        i = bisect_right(timeline.ends, lo)
        starts, ends = timeline.starts, timeline.ends
        while i < len(starts) and starts[i] < hi:
            result.append((_from_us(max(starts[i], lo)), _from_us(min(ends[i], hi))))
            i += 1
        return result

    # -- building -----------------------------------------------------------

    def _ensure(self, lo: int, hi: int) -> _Timeline:
        """A timeline correct for every instant in ``[lo, hi]``."""
        timeline = self._timeline
        if timeline is not None and timeline.covers(lo, hi):
            return timeline
        first = _utc_year(lo - _MARGIN_US)
        last = _utc_year(hi + _MARGIN_US)
        return self._build(first, last)

    def _extend_forward(self, timeline: _Timeline, target: int) -> _Timeline:
        """A timeline reaching further into the future: far enough for
        ``target`` at the average rate of business time seen so far."""
        years = timeline.last_year - timeline.first_year + 1
        missing = target - timeline.total
        more = 1
        if timeline.total > 0 and missing > 0:
            more = max(1, min(10, missing * years // timeline.total + 1))
        last = timeline.last_year + more
        if last > _LAST_YEAR:
            if timeline.last_year >= _LAST_YEAR:
                raise ValueError(
                    f"The result would be after the last supported year ({_LAST_YEAR})."
                )
            last = _LAST_YEAR
        return self._build(timeline.first_year, last)

    def _build(self, first: int, last: int) -> _Timeline:
        with self._lock:
            current = self._timeline
            if current is not None:
                if current.first_year <= first and last <= current.last_year:
                    return current
                first = min(first, current.first_year)
                last = max(last, current.last_year)
            raw: list[tuple[int, int]] = []
            for year in range(first, last + 1):
                if year not in self._years:
                    self._years[year] = self._year_intervals(year)
                raw.extend(self._years[year])
            starts, ends = _merge(raw)
            cum: list[int] = []
            cum_end: list[int] = []
            total = 0
            for s, e in zip(starts, ends, strict=True):
                cum.append(total)
                total += e - s
                cum_end.append(total)
            timeline = _Timeline(
                first_year=first,
                last_year=last,
                lo=_year_start_us(first) + _MARGIN_US,
                hi=_year_start_us(last + 1) - _MARGIN_US,
                starts=starts,
                ends=ends,
                cum=cum,
                cum_end=cum_end,
            )
            self._timeline = timeline
            return timeline

    def _year_intervals(self, year: int) -> list[tuple[int, int]]:
        """Working intervals, in microseconds, of the local dates of
        ``year`` (unsorted, unmerged)."""
        spec = self.spec
        closed = {day for day in spec.closures if day.year == year}
        if spec.holiday_country:
            public = holidays.country_holidays(
                spec.holiday_country,
                subdiv=spec.holiday_subdivision or None,
                years=year,
            )
            closed.update(day for day in public if day.year == year)
        tz = self._tz
        raw: list[tuple[int, int]] = []
        day = date(year, 1, 1)
        while day.year == year:
            intervals = spec.extra_working_days.get(day)
            if intervals is None:
                intervals = () if day in closed else spec.weekly.get(day.weekday(), ())
            if intervals:
                midnight = datetime.combine(day, time(0), tzinfo=tz)
                for start, end in intervals:
                    s = _to_us(midnight + timedelta(minutes=start))
                    e = _to_us(midnight + timedelta(minutes=end))
                    if e > s:
                        raw.append((s, e))
            day += _ONE_DAY
        return raw


# ---------------------------------------------------------------------------
# Module-level shortcuts
# ---------------------------------------------------------------------------


def add_business_time(
    start: datetime, duration: timedelta, calendar: BusinessCalendar
) -> datetime:
    """See :meth:`BusinessCalendar.add_business_time`."""
    return calendar.add_business_time(start, duration)


def business_time_between(
    a: datetime, b: datetime, calendar: BusinessCalendar
) -> timedelta:
    """See :meth:`BusinessCalendar.business_time_between`."""
    return calendar.business_time_between(a, b)


# ---------------------------------------------------------------------------
# Text forms
# ---------------------------------------------------------------------------

_HOURS_RE: Final = re.compile(
    r"^(?P<sh>\d{1,2}):(?P<sm>\d{2})\s*[-\u2013]\s*(?P<eh>\d{1,2}):(?P<em>\d{2})$"
)


def _clock_minutes(hours: str, minutes: str, text: str, *, is_end: bool) -> int:
    h, m = int(hours), int(minutes)
    if m > 59 or h > 24 or (h == 24 and (m != 0 or not is_end)):
        allowed = "00:00 to 24:00" if is_end else "00:00 to 23:59"
        raise ValueError(
            f"Invalid time {hours}:{minutes} in {text!r}: times run from {allowed}."
        )
    return h * 60 + m


def _check_day(intervals: Sequence[WorkingInterval], text: str) -> None:
    """Intervals that ``format_hours`` can write and ``parse_hours`` read:
    starting before midnight, at most 24 hours long (one ending at 24:00 is
    the only 24-hour one), in order and not overlapping."""
    previous_end = 0
    for index, (start, end) in enumerate(intervals):
        if not 0 <= start < MINUTES_PER_DAY or not start < end <= MAX_INTERVAL_END:
            raise ValueError(
                f"Working interval {start}-{end} in {text!r} must start before "
                "midnight and end after its start."
            )
        if end - start > MINUTES_PER_DAY or (
            end - start == MINUTES_PER_DAY and start != 0
        ):
            raise ValueError(
                f"Working interval {_clock(start)}-{_clock(end)} in {text!r} is "
                "longer than a day (only 00:00-24:00 may last 24 hours)."
            )
        if index and start < previous_end:
            raise ValueError(
                f"Working intervals in {text!r} must be in order and must not "
                f"overlap: {_clock(start)} starts before the previous interval "
                f"ends at {_clock(previous_end)}."
            )
        previous_end = end


def _clock(minutes: int) -> str:
    if minutes == MINUTES_PER_DAY:
        return "24:00"
    minutes %= MINUTES_PER_DAY
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_hours(text: str) -> list[WorkingInterval]:
    """Parse one day's working hours.

    ``"09:00-12:00, 13:00-18:00"`` gives ``[(540, 720), (780, 1080)]``; an
    end at or before its start runs into the next day (``"22:00-06:00"``
    gives ``[(1320, 1800)]``); ``"00:00-24:00"`` is the whole day; ``""`` and
    ``"closed"`` give ``[]``. Intervals must be in order and must not
    overlap. ValueError, with the reason, on anything else.
    """
    if not isinstance(text, str):
        raise ValueError(f"Working hours must be text, got {text!r}.")
    stripped = text.strip()
    if not stripped or stripped.lower() == "closed":
        return []
    intervals: list[WorkingInterval] = []
    for part in stripped.split(","):
        part = part.strip()
        match = _HOURS_RE.match(part)
        if match is None:
            raise ValueError(
                f"Cannot read working hours {part!r} in {text!r}: expected "
                '"HH:MM-HH:MM", several separated by commas (e.g. '
                '"09:00-12:00, 13:00-18:00"), or "closed".'
            )
        start = _clock_minutes(match["sh"], match["sm"], text, is_end=False)
        end = _clock_minutes(match["eh"], match["em"], text, is_end=True)
        if end == start:
            raise ValueError(
                f"Working interval {part!r} in {text!r} is empty: start and "
                'end are the same time (write "00:00-24:00" for a whole day).'
            )
        if end < start:
            end += MINUTES_PER_DAY  # runs past midnight into the next day
        intervals.append((start, end))
    _check_day(intervals, text)
    return intervals


def format_hours(intervals: Sequence[WorkingInterval]) -> str:
    """Write one day's working hours as :func:`parse_hours` reads them:
    ``[(540, 720), (780, 1080)]`` gives ``"09:00-12:00, 13:00-18:00"`` and
    ``[]`` gives ``"closed"``. ValueError for intervals it cannot read back
    the same (out of order, overlapping, starting after midnight, longer
    than a day)."""
    checked = [_check_interval(i, "format_hours") for i in intervals]
    if not checked:
        return "closed"
    _check_day(checked, repr(list(intervals)))
    return ", ".join(f"{_clock(start)}-{_clock(end)}" for start, end in checked)
