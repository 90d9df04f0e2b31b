"""Business-time arithmetic (``sla.calendar``): properties over several
calendars, checked against a slow reference built straight from the rules,
and hand-checked edge cases (daylight saving, holidays, overnight shifts,
adjusted working days, closures).

Pure unit tests: no database.
"""

from __future__ import annotations

import functools
import itertools
import operator
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import holidays
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla.calendar import (
    BusinessCalendar,
    CalendarSpec,
    WorkingInterval,
    add_business_time,
    business_time_between,
)

# The autouse ``tickets_app`` fixture is function-scoped but does nothing
# for tests without the database, so it is safe to share across examples.
PROPERTY = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

US = timedelta(microseconds=1)
H = timedelta(hours=1)

NEW_YORK = ZoneInfo("America/New_York")
SHANGHAI_TZ = ZoneInfo("Asia/Shanghai")
LONDON = ZoneInfo("Europe/London")

WEEKDAYS = range(5)
SHANGHAI_HOURS: list[WorkingInterval] = [(540, 720), (780, 1080)]  # 9-12, 13-18

# China's adjusted working days of 2026 (weekend days worked to make up for
# long holidays), as published by the State Council.
CN_WORKING_WEEKENDS_2026 = [
    date(2026, 1, 4),  # Sunday
    date(2026, 2, 14),  # Saturday
    date(2026, 2, 28),  # Saturday
    date(2026, 5, 9),  # Saturday
    date(2026, 9, 20),  # Sunday
    date(2026, 10, 10),  # Saturday
]

SPECS = {
    "utc_24_7": CalendarSpec("UTC", {d: [(0, 1440)] for d in range(7)}),
    "shanghai": CalendarSpec(
        "Asia/Shanghai", dict.fromkeys(WEEKDAYS, SHANGHAI_HOURS), "CN"
    ),
    "new_york": CalendarSpec(
        "America/New_York", {d: [(540, 1020)] for d in WEEKDAYS}, "US"
    ),
    # Night shifts starting Monday to Friday at 22:00, ending 06:00.
    "london_nights": CalendarSpec(
        "Europe/London", {d: [(1320, 1800)] for d in WEEKDAYS}
    ),
    "shanghai_adjusted": CalendarSpec(
        "Asia/Shanghai",
        dict.fromkeys(WEEKDAYS, SHANGHAI_HOURS),
        "CN",
        closures=frozenset({date(2026, 3, 2), date(2026, 12, 24), date(2027, 6, 1)}),
        extra_working_days={
            **dict.fromkeys(CN_WORKING_WEEKENDS_2026, SHANGHAI_HOURS),
            date(2026, 10, 1): [(540, 720)],  # a holiday, worked in the morning
            date(2026, 3, 3): [],  # a Tuesday, closed
            date(2027, 1, 9): [(1200, 1560)],  # Saturday 20:00 to Sunday 02:00
        },
    ),
    # Overlapping and touching intervals across midnight, DST-sensitive
    # hours on Sundays (US clocks change on Sundays at 02:00), a 24-hour day.
    "new_york_mixed": CalendarSpec(
        "America/New_York",
        {
            6: [(60, 240), (1380, 1500)],  # Sun 01-04, Sun 23 - Mon 01
            0: [(60, 120), (1320, 1800)],  # Mon 01-02 (touches), Mon 22 - Tue 06
            1: [(300, 540), (600, 1020)],  # Tue 05-09 (overlaps), 10-17
            2: [(0, 1440)],
            3: [],
        },
        "US",
        closures=frozenset({date(2026, 7, 1)}),
        extra_working_days={
            date(2026, 7, 4): [(600, 660)],
            date(2027, 11, 7): [(0, 2880)],  # fall-back Sunday, 48 local hours
        },
    ),
}
CALENDARS = {name: BusinessCalendar(spec) for name, spec in SPECS.items()}


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def local(
    tz: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0
) -> datetime:
    """A local wall-clock time (the first one if ambiguous)."""
    return datetime(year, month, day, hour, minute, tzinfo=tz)


# ---------------------------------------------------------------------------
# Reference: the rules applied date by date, nothing cached
# ---------------------------------------------------------------------------


@functools.cache
def public_holidays(country: str, subdivision: str, year: int) -> frozenset[date]:
    if not country:
        return frozenset()
    found = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    return frozenset(found)


def intervals_of_date(spec: CalendarSpec, day: date) -> list[tuple[datetime, datetime]]:
    if day in spec.extra_working_days:
        minutes = spec.extra_working_days[day]
    elif day in spec.closures or day in public_holidays(
        spec.holiday_country, spec.holiday_subdivision, day.year
    ):
        minutes = []
    else:
        minutes = spec.weekly.get(day.weekday(), [])
    midnight = datetime.combine(day, time(0), tzinfo=ZoneInfo(spec.timezone))
    result = []
    for start, end in minutes:
        a = utc(midnight + timedelta(minutes=start))
        b = utc(midnight + timedelta(minutes=end))
        if b > a:
            result.append((a, b))
    return result


def reference_between(spec: CalendarSpec, a: datetime, b: datetime) -> timedelta:
    """Measure of the union of the working intervals within [a, b]."""
    tz = ZoneInfo(spec.timezone)
    day = a.astimezone(tz).date() - timedelta(days=3)
    last = b.astimezone(tz).date() + timedelta(days=1)
    clipped = []
    while day <= last:
        for start, end in intervals_of_date(spec, day):
            start, end = max(start, a), min(end, b)
            if end > start:
                clipped.append((start, end))
        day += timedelta(days=1)
    total = timedelta(0)
    covered_until = a
    for start, end in sorted(clipped):
        start = max(start, covered_until)
        if end > start:
            total += end - start
            covered_until = end
    return total


# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------

calendar_names = st.sampled_from(sorted(CALENDARS))
zones = st.sampled_from([UTC, NEW_YORK, SHANGHAI_TZ, LONDON])


# Days on which the calendars above are most likely to go wrong: new year
# (where the timeline is built one local year at a time) and the daylight
# saving changes of New York and London.
TRICKY_DAYS = [
    *(datetime(year, 1, 1) for year in range(2026, 2029)),
    datetime(2025, 3, 9),
    datetime(2025, 11, 2),
    datetime(2026, 3, 8),
    datetime(2026, 11, 1),
    datetime(2027, 3, 14),
    datetime(2027, 11, 7),
    datetime(2028, 3, 12),
    datetime(2028, 11, 5),
    datetime(2026, 3, 29),
    datetime(2026, 10, 25),
    datetime(2027, 3, 28),
    datetime(2027, 10, 31),
]


def _as_instant(moment: datetime, tz: tzinfo, on_the_hour: bool) -> datetime:
    if on_the_hour:  # hit interval boundaries (all on whole hours) often
        moment = moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(tzinfo=UTC).astimezone(tz)


# Instants from 2025 to 2028, expressed in various zones, a third of them
# within three days of a tricky day.
instants = st.builds(
    _as_instant,
    st.one_of(
        st.datetimes(
            min_value=datetime(2025, 1, 1),
            max_value=datetime(2028, 12, 31, 23, 59, 59, 999999),
        ),
        st.datetimes(
            min_value=datetime(2025, 1, 1),
            max_value=datetime(2028, 12, 31, 23, 59, 59, 999999),
        ),
        st.builds(
            operator.add,
            st.sampled_from(TRICKY_DAYS),
            st.timedeltas(min_value=timedelta(days=-3), max_value=timedelta(days=3)),
        ),
    ),
    zones,
    st.booleans(),
)
durations = st.one_of(
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)),
    st.integers(min_value=0, max_value=200).map(lambda h: timedelta(hours=h)),
    st.integers(min_value=0, max_value=3000).map(lambda m: timedelta(minutes=m)),
)


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------


@PROPERTY
@given(name=calendar_names, start=instants, duration=durations)
def test_adding_then_measuring_gives_the_duration_back(
    name: str, start: datetime, duration: timedelta
) -> None:
    calendar = CALENDARS[name]
    end = calendar.add_business_time(start, duration)
    assert end.tzinfo is UTC
    assert calendar.business_time_between(start, end) == duration


@PROPERTY
@given(name=calendar_names, start=instants, duration=durations)
def test_results_end_inside_working_time(
    name: str, start: datetime, duration: timedelta
) -> None:
    """For a positive duration the result r lies in a working interval
    (start, end]: the microsecond before r is working time, and r itself is
    working time or the end of the interval. It is the first such instant:
    a microsecond earlier, a microsecond of business time is missing."""
    calendar = CALENDARS[name]
    result = calendar.add_business_time(start, duration)
    if duration == timedelta(0):
        assert result == utc(start)
        return
    assert result > utc(start)
    assert calendar.is_working_time(result - US)
    if not calendar.is_working_time(result):
        around = calendar.working_intervals(result - US, result + US)
        assert around == [(result - US, result)]
    assert calendar.business_time_between(start, result - US) == duration - US


@PROPERTY
@given(
    name=calendar_names,
    starts=st.lists(instants, min_size=2, max_size=2),
    lengths=st.lists(durations, min_size=2, max_size=2),
)
def test_add_is_monotonic_in_start_and_duration(
    name: str, starts: list[datetime], lengths: list[timedelta]
) -> None:
    calendar = CALENDARS[name]
    early, late = sorted(starts, key=utc)
    short, long = sorted(lengths)
    assert calendar.add_business_time(early, short) <= calendar.add_business_time(
        late, short
    )
    assert calendar.add_business_time(early, short) <= calendar.add_business_time(
        early, long
    )


@PROPERTY
@given(name=calendar_names, moments=st.lists(instants, min_size=3, max_size=3))
def test_between_is_monotonic_and_additive(name: str, moments: list[datetime]) -> None:
    calendar = CALENDARS[name]
    a, b, c = sorted(moments, key=utc)
    between = calendar.business_time_between
    # Non-decreasing in the end, non-increasing in the start.
    assert between(a, b) <= between(a, c)
    assert between(b, c) <= between(a, c)
    # Additive.
    assert between(a, c) == between(a, b) + between(b, c)
    # Empty or backwards spans measure nothing.
    assert between(b, b) == timedelta(0)
    assert between(c, a) == timedelta(0)


@PROPERTY
@given(
    name=calendar_names,
    start=instants,
    span=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)),
)
def test_between_matches_the_reference(
    name: str, start: datetime, span: timedelta
) -> None:
    calendar = CALENDARS[name]
    end = start + span  # wall-clock arithmetic: fine, any later instant will do
    expected = reference_between(calendar.spec, utc(start), utc(end))
    assert calendar.business_time_between(start, end) == expected
    intervals = calendar.working_intervals(start, end)
    assert sum((b - a for a, b in intervals), timedelta(0)) == expected
    for (_, end_1), (start_2, _) in itertools.pairwise(intervals):
        assert end_1 < start_2  # merged: no two intervals touch
    for a, b in intervals:
        assert utc(start) <= a < b <= utc(end)
        assert calendar.is_working_time(a)
        assert calendar.is_working_time(b - US)


@PROPERTY
@given(name=calendar_names, moment=instants)
def test_is_working_time_matches_working_intervals(name: str, moment: datetime) -> None:
    calendar = CALENDARS[name]
    working = calendar.working_intervals(moment, moment + US) != []
    assert calendar.is_working_time(moment) == working
    assert calendar.is_working_time(moment) == (
        reference_between(calendar.spec, utc(moment), utc(moment) + US) == US
    )


@PROPERTY
@given(name=calendar_names, start=instants, duration=durations)
def test_module_functions_delegate(
    name: str, start: datetime, duration: timedelta
) -> None:
    calendar = CALENDARS[name]
    end = add_business_time(start, duration, calendar)
    assert end == calendar.add_business_time(start, duration)
    assert business_time_between(start, end, calendar) == duration


@settings(PROPERTY, max_examples=100)
@given(
    name=calendar_names,
    start=instants,
    duration=durations,
    span=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
)
def test_cold_calendars_agree_with_warm_ones_and_the_reference(
    name: str, start: datetime, duration: timedelta, span: timedelta
) -> None:
    """A fresh calendar builds only the years around its first question:
    answers near the edges of what it has built must not differ."""
    warm = CALENDARS[name]
    spec = warm.spec
    end = utc(start) + span
    expected = reference_between(spec, utc(start), end)
    assert BusinessCalendar(spec).business_time_between(start, end) == expected
    assert BusinessCalendar(spec).is_working_time(start) == warm.is_working_time(start)
    assert BusinessCalendar(spec).working_intervals(
        start, end
    ) == warm.working_intervals(start, end)
    assert BusinessCalendar(spec).add_business_time(
        start, duration
    ) == warm.add_business_time(start, duration)
    # Built from the end backwards.
    backwards = BusinessCalendar(spec)
    backwards.is_working_time(end + timedelta(days=400))
    assert backwards.business_time_between(start, end) == expected


# ---------------------------------------------------------------------------
# Daylight saving time
# ---------------------------------------------------------------------------

ALWAYS_NEW_YORK = BusinessCalendar(
    CalendarSpec("America/New_York", {d: [(0, 1440)] for d in range(7)})
)
NIGHT_SHIFT_1_TO_4_NEW_YORK = BusinessCalendar(
    CalendarSpec("America/New_York", {d: [(60, 240)] for d in range(7)})
)


def test_24_7_local_days_last_23_and_25_hours_on_dst_changes() -> None:
    between = ALWAYS_NEW_YORK.business_time_between
    # 2026-03-08 00:00 EST = 05:00Z to 2026-03-09 00:00 EDT = 04:00Z: 23h.
    assert between(
        local(NEW_YORK, 2026, 3, 8), local(NEW_YORK, 2026, 3, 9)
    ) == timedelta(hours=23)
    # 2026-11-01 00:00 EDT = 04:00Z to 2026-11-02 00:00 EST = 05:00Z: 25h.
    assert between(
        local(NEW_YORK, 2026, 11, 1), local(NEW_YORK, 2026, 11, 2)
    ) == timedelta(hours=25)
    # An ordinary day: 24h.
    assert between(
        local(NEW_YORK, 2026, 3, 9), local(NEW_YORK, 2026, 3, 10)
    ) == timedelta(hours=24)
    # 24 real hours after 2026-03-08 00:00 EST (05:00Z) is 05:00Z on the
    # 9th, which is 01:00 EDT.
    assert ALWAYS_NEW_YORK.add_business_time(
        local(NEW_YORK, 2026, 3, 8), 24 * H
    ) == datetime(2026, 3, 9, 5, tzinfo=UTC)


def test_a_01_to_04_shift_lasts_2h_on_spring_forward_and_4h_on_fall_back() -> None:
    calendar = NIGHT_SHIFT_1_TO_4_NEW_YORK
    # Spring forward: 01:00 EST = 06:00Z to 04:00 EDT = 08:00Z.
    assert calendar.working_intervals(
        local(NEW_YORK, 2026, 3, 8), local(NEW_YORK, 2026, 3, 9)
    ) == [(datetime(2026, 3, 8, 6, tzinfo=UTC), datetime(2026, 3, 8, 8, tzinfo=UTC))]
    # Fall back: 01:00 EDT = 05:00Z to 04:00 EST = 09:00Z.
    assert calendar.working_intervals(
        local(NEW_YORK, 2026, 11, 1), local(NEW_YORK, 2026, 11, 2)
    ) == [(datetime(2026, 11, 1, 5, tzinfo=UTC), datetime(2026, 11, 1, 9, tzinfo=UTC))]
    assert calendar.business_time_between(
        local(NEW_YORK, 2026, 11, 1), local(NEW_YORK, 2026, 11, 2)
    ) == timedelta(hours=4)
    # 3h after the fall-back shift starts (05:00Z) is 08:00Z = 03:00 EST, the
    # same day, where an ordinary day's shift would already be over.
    assert calendar.add_business_time(local(NEW_YORK, 2026, 11, 1), 3 * H) == datetime(
        2026, 11, 1, 8, tzinfo=UTC
    )
    # 3h after the spring-forward shift starts: 2h that night, then 1h from
    # 01:00 EDT (05:00Z) on 2026-03-09, so 06:00Z.
    assert calendar.add_business_time(local(NEW_YORK, 2026, 3, 8), 3 * H) == datetime(
        2026, 3, 9, 6, tzinfo=UTC
    )


def test_an_interval_inside_the_spring_forward_gap_is_dropped() -> None:
    # Sundays 02:30-03:00. On 2026-03-08, 02:30 does not exist: zoneinfo
    # reads it as EST (07:30Z), after 03:00 EDT (07:00Z), so nothing remains.
    calendar = BusinessCalendar(CalendarSpec("America/New_York", {6: [(150, 180)]}))
    assert calendar.business_time_between(
        local(NEW_YORK, 2026, 3, 8), local(NEW_YORK, 2026, 3, 9)
    ) == timedelta(0)
    assert calendar.business_time_between(
        local(NEW_YORK, 2026, 3, 15), local(NEW_YORK, 2026, 3, 16)
    ) == timedelta(minutes=30)


def test_overnight_shift_across_both_london_dst_changes() -> None:
    calendar = BusinessCalendar(
        CalendarSpec("Europe/London", {d: [(1320, 1800)] for d in range(7)})
    )
    # Sat 2026-03-28 22:00 GMT = 22:00Z to Sun 06:00 BST = 05:00Z: 7h.
    assert calendar.working_intervals(
        local(LONDON, 2026, 3, 28, 12), local(LONDON, 2026, 3, 29, 12)
    ) == [(datetime(2026, 3, 28, 22, tzinfo=UTC), datetime(2026, 3, 29, 5, tzinfo=UTC))]
    # Sat 2026-10-24 22:00 BST = 21:00Z to Sun 06:00 GMT = 06:00Z: 9h.
    assert calendar.business_time_between(
        local(LONDON, 2026, 10, 24, 12), local(LONDON, 2026, 10, 25, 12)
    ) == timedelta(hours=9)


# ---------------------------------------------------------------------------
# Holidays, closed days, overnight shifts, adjusted working days
# ---------------------------------------------------------------------------


def test_us_memorial_day_is_skipped() -> None:
    calendar = CALENDARS["new_york"]
    # Fri 2026-05-22 16:00 EDT: 1h on Friday, Monday 25th is Memorial Day,
    # 3h on Tuesday from 09:00: Tue 2026-05-26 12:00 EDT = 16:00Z.
    friday = local(NEW_YORK, 2026, 5, 22, 16)
    assert calendar.add_business_time(friday, 4 * H) == datetime(
        2026, 5, 26, 16, tzinfo=UTC
    )
    assert calendar.business_time_between(
        friday, local(NEW_YORK, 2026, 5, 26, 12)
    ) == timedelta(hours=4)
    assert not calendar.is_working_time(local(NEW_YORK, 2026, 5, 25, 10))


def test_us_labor_day_is_skipped() -> None:
    # Fri 2026-09-04 16:00 EDT + 4h: Mon 7th is Labor Day, so Tue 2026-09-08
    # 12:00 EDT = 16:00Z.
    assert CALENDARS["new_york"].add_business_time(
        local(NEW_YORK, 2026, 9, 4, 16), 4 * H
    ) == datetime(2026, 9, 8, 16, tzinfo=UTC)


def test_holiday_subdivision() -> None:
    # Lincoln's Birthday, Thu 2026-02-12, is a New York State holiday only.
    state = BusinessCalendar(
        CalendarSpec(
            "America/New_York", {d: [(540, 1020)] for d in WEEKDAYS}, "US", "NY"
        )
    )
    thursday = local(NEW_YORK, 2026, 2, 12, 10)
    assert CALENDARS["new_york"].is_working_time(thursday)
    assert not state.is_working_time(thursday)


def test_closed_weekdays_and_weekends_are_skipped() -> None:
    # No hours on Wednesdays (missing) nor Thursdays (empty).
    calendar = BusinessCalendar(
        CalendarSpec(
            "UTC", {0: [(540, 1020)], 1: [(540, 1020)], 3: [], 4: [(540, 1020)]}
        )
    )
    # Tue 2026-06-09 16:00Z + 2h: 1h on Tuesday, Wednesday and Thursday
    # closed, Fri 2026-06-12 09:00-10:00.
    assert calendar.add_business_time(
        datetime(2026, 6, 9, 16, tzinfo=UTC), 2 * H
    ) == datetime(2026, 6, 12, 10, tzinfo=UTC)
    # Fri 2026-06-12 16:00Z + 2h: weekend closed, Mon 2026-06-15 10:00Z.
    assert calendar.add_business_time(
        datetime(2026, 6, 12, 16, tzinfo=UTC), 2 * H
    ) == datetime(2026, 6, 15, 10, tzinfo=UTC)


def test_overnight_shift_across_midnight() -> None:
    calendar = CALENDARS["london_nights"]  # Mon-Fri 22:00-06:00, GMT in January
    friday_23 = local(LONDON, 2026, 1, 9, 23)
    # Fri 23:00 to Sat 06:00 is 7h; the 8th hour starts Mon 2026-01-12 22:00.
    assert calendar.add_business_time(friday_23, 8 * H) == datetime(
        2026, 1, 12, 23, tzinfo=UTC
    )
    # Exactly 7h ends at the end of Friday's shift, Sat 06:00.
    assert calendar.add_business_time(friday_23, 7 * H) == datetime(
        2026, 1, 10, 6, tzinfo=UTC
    )
    assert calendar.is_working_time(local(LONDON, 2026, 1, 10, 5, 59))
    assert not calendar.is_working_time(local(LONDON, 2026, 1, 10, 6))
    # Sunday night has no shift: Sat 06:00 to Mon 22:00 is empty.
    assert calendar.business_time_between(
        local(LONDON, 2026, 1, 10, 6), local(LONDON, 2026, 1, 12, 22)
    ) == timedelta(0)


def test_overnight_shift_belongs_to_the_date_it_starts_on() -> None:
    # Saturday closed: Friday's night shift still runs into Saturday morning.
    saturday_closed = BusinessCalendar(
        CalendarSpec(
            "Europe/London",
            {d: [(1320, 1800)] for d in WEEKDAYS},
            closures=frozenset({date(2026, 1, 10)}),
        )
    )
    assert saturday_closed.is_working_time(local(LONDON, 2026, 1, 10, 3))
    # Friday closed: no shift from Fri 22:00 to Sat 06:00, though Thursday's
    # shift still ends Friday 06:00.
    friday_closed = BusinessCalendar(
        CalendarSpec(
            "Europe/London",
            {d: [(1320, 1800)] for d in WEEKDAYS},
            closures=frozenset({date(2026, 1, 9)}),
        )
    )
    assert friday_closed.is_working_time(local(LONDON, 2026, 1, 9, 3))
    assert not friday_closed.is_working_time(local(LONDON, 2026, 1, 10, 3))


def test_overlapping_and_touching_intervals_are_merged() -> None:
    # Monday 22:00-06:00 overlaps Tuesday 05:00-09:00 (UTC): one interval,
    # Mon 22:00 to Tue 09:00 = 11h, not 12h.
    overlapping = BusinessCalendar(
        CalendarSpec("UTC", {0: [(1320, 1800)], 1: [(300, 540)]})
    )
    monday = datetime(2026, 6, 1, tzinfo=UTC)
    assert overlapping.working_intervals(monday, monday + 7 * 24 * H) == [
        (monday + 22 * H, monday + 33 * H)
    ]
    assert overlapping.business_time_between(monday, monday + 7 * 24 * H) == timedelta(
        hours=11
    )
    # Monday 22:00-05:00 touches Tuesday 05:00-09:00: also one interval.
    touching = BusinessCalendar(
        CalendarSpec("UTC", {0: [(1320, 1740)], 1: [(300, 540)]})
    )
    assert touching.working_intervals(monday, monday + 7 * 24 * H) == [
        (monday + 22 * H, monday + 33 * H)
    ]
    assert touching.is_working_time(monday + 29 * H)  # Tue 05:00


def test_china_adjusted_working_saturday_and_a_closure() -> None:
    plain = CALENDARS["shanghai"]
    adjusted = CALENDARS["shanghai_adjusted"]
    friday_17 = local(SHANGHAI_TZ, 2026, 2, 13, 17)
    # Plain: 1h Fri 17-18; Sat 14 and Sun 15 weekend; Mon 16 to Thu 19
    # Spring Festival; Fri 20 and Mon 23 days off in lieu; Tue 2026-02-24
    # 09:00-10:00 +08 = 02:00Z.
    assert plain.add_business_time(friday_17, 2 * H) == datetime(
        2026, 2, 24, 2, tzinfo=UTC
    )
    # Adjusted: Sat 2026-02-14 is a working day: 10:00 +08 = 02:00Z.
    assert adjusted.add_business_time(friday_17, 2 * H) == datetime(
        2026, 2, 14, 2, tzinfo=UTC
    )
    # Closure Mon 2026-03-02, and Tue 3rd closed by an empty extra day:
    # Fri 2026-02-27 17:00 + 2h = 1h Friday, Sat 28 (adjusted working day,
    # 8h) gets the rest: Sat 2026-02-28 10:00 +08 = 02:00Z.
    friday = local(SHANGHAI_TZ, 2026, 2, 27, 17)
    assert adjusted.add_business_time(friday, 2 * H) == datetime(
        2026, 2, 28, 2, tzinfo=UTC
    )
    # 1h Fri + 8h Sat + 1h more: Mon 2nd and Tue 3rd closed, Wed 2026-03-04
    # 10:00 +08 = 02:00Z. The plain calendar works Mon 2nd instead:
    # 1h Fri + 2h Mon 09:00-11:00 +08 = 03:00Z.
    assert adjusted.add_business_time(friday, 10 * H) == datetime(
        2026, 3, 4, 2, tzinfo=UTC
    )
    assert plain.add_business_time(friday, 3 * H) == datetime(2026, 3, 2, 3, tzinfo=UTC)
    # National Day (a holiday) worked 09:00-12:00 by the extra day.
    assert adjusted.business_time_between(
        local(SHANGHAI_TZ, 2026, 10, 1), local(SHANGHAI_TZ, 2026, 10, 2)
    ) == timedelta(hours=3)
    assert plain.business_time_between(
        local(SHANGHAI_TZ, 2026, 10, 1), local(SHANGHAI_TZ, 2026, 10, 2)
    ) == timedelta(0)


def test_china_adjusted_days_agree_with_the_holidays_package() -> None:
    # Our list of 2026 working weekends is the one the package knows.
    known = holidays.country_holidays("CN", years=2026).weekend_workdays
    assert {d for d in known if d.year == 2026} == set(CN_WORKING_WEEKENDS_2026)


def working_days(year: int, country: str) -> int:
    """Monday-to-Friday dates of ``year`` that are not public holidays."""
    public = holidays.country_holidays(country, years=year)
    day, count = date(year, 1, 1), 0
    while day.year == year:
        if day.weekday() < 5 and day not in public:
            count += 1
        day += timedelta(days=1)
    return count


def test_a_year_on_the_shanghai_calendar() -> None:
    days = working_days(2026, "CN")
    assert days == 242  # 261 weekdays, 19 of them holidays or days off
    start = local(SHANGHAI_TZ, 2026, 1, 1)
    end = local(SHANGHAI_TZ, 2027, 1, 1)
    assert CALENDARS["shanghai"].business_time_between(start, end) == days * 8 * H


def test_a_one_year_add_on_a_cold_then_warm_calendar() -> None:
    days = working_days(2026, "CN")
    start = local(SHANGHAI_TZ, 2026, 1, 1)
    # All of 2026's business time ends on Thu 2026-12-31 at 18:00 +08 (10:00Z).
    expected = datetime(2026, 12, 31, 10, tzinfo=UTC)
    cold = BusinessCalendar(SPECS["shanghai"])
    assert cold.add_business_time(start, days * 8 * H) == expected
    assert cold.add_business_time(start, days * 8 * H) == expected  # warm
    assert cold.business_time_between(start, expected) == days * 8 * H
    # The same from a cold calendar first asked about a later year, so the
    # timeline is extended backwards.
    backwards = BusinessCalendar(SPECS["shanghai"])
    assert backwards.is_working_time(local(SHANGHAI_TZ, 2028, 6, 1, 10))
    assert backwards.add_business_time(start, days * 8 * H) == expected
    # And a long add that has to extend the timeline forwards several times:
    # ten years (3652 days, 2028 and 2032 being leap years) on a fresh 24/7
    # calendar.
    always = BusinessCalendar(SPECS["utc_24_7"])
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    assert always.add_business_time(t0, timedelta(days=3652)) == datetime(
        2036, 1, 1, tzinfo=UTC
    )


def test_concurrent_readers_on_a_cold_calendar() -> None:
    calendar = BusinessCalendar(SPECS["shanghai_adjusted"])
    serial = BusinessCalendar(SPECS["shanghai_adjusted"])
    starts = [
        datetime(2025 + i % 4, 1 + i % 12, 1 + i % 28, tzinfo=UTC) for i in range(64)
    ]
    barrier = threading.Barrier(8)

    def work(index: int) -> tuple[datetime, timedelta]:
        start = starts[index]
        if index < 8:
            barrier.wait(timeout=30)  # the first eight start together
        end = calendar.add_business_time(start, 300 * H)
        return end, calendar.business_time_between(start - 900 * H, end)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(len(starts))))
    for start, (end, measured) in zip(starts, results, strict=True):
        assert end == serial.add_business_time(start, 300 * H)
        assert measured == serial.business_time_between(start - 900 * H, end)
