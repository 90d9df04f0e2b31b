"""Business calendars refuse what they cannot compute (naive instants,
negative durations, calendars with no hours, invalid specs) and read and
write working hours as text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sla.calendar import (
    BusinessCalendar,
    CalendarSpec,
    WorkingInterval,
    add_business_time,
    business_time_between,
    format_hours,
    parse_hours,
)
from tests.sla.test_calendar import (
    CALENDARS,
    NEW_YORK,
    PROPERTY,
    US,
    H,
    local,
)

# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


NAIVE = datetime(2026, 1, 1, 12)
AWARE = datetime(2026, 1, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.add_business_time(NAIVE, H),
        lambda c: c.add_business_time(NAIVE, timedelta(0)),
        lambda c: c.business_time_between(NAIVE, AWARE),
        lambda c: c.business_time_between(AWARE, NAIVE),
        lambda c: c.is_working_time(NAIVE),
        lambda c: c.working_intervals(NAIVE, AWARE),
        lambda c: c.working_intervals(AWARE, NAIVE),
        lambda c: add_business_time(NAIVE, H, c),
        lambda c: business_time_between(NAIVE, AWARE, c),
    ],
)
def test_naive_datetimes_are_rejected(
    call: Callable[[BusinessCalendar], object],
) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call(CALENDARS["utc_24_7"])


def test_negative_durations_are_rejected() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        CALENDARS["utc_24_7"].add_business_time(AWARE, -US)


def test_zero_duration_returns_start_in_utc_even_outside_working_time() -> None:
    saturday = local(NEW_YORK, 2026, 6, 6, 3)
    result = CALENDARS["new_york"].add_business_time(saturday, timedelta(0))
    assert result == saturday
    assert result.tzinfo is UTC


def test_a_calendar_with_no_hours() -> None:
    empty = BusinessCalendar(CalendarSpec("UTC", {d: [] for d in range(7)}))
    with pytest.raises(ValueError, match="no working hours"):
        empty.add_business_time(AWARE, H)
    assert empty.business_time_between(AWARE, AWARE + 1000 * H) == timedelta(0)
    assert not empty.is_working_time(AWARE)
    assert empty.working_intervals(AWARE, AWARE + 1000 * H) == []


def test_a_calendar_with_no_hours_in_the_next_ten_years() -> None:
    # Working hours only on one day in 2020.
    spec = CalendarSpec("UTC", {}, extra_working_days={date(2020, 1, 6): [(540, 600)]})
    calendar = BusinessCalendar(spec)
    assert calendar.add_business_time(
        datetime(2019, 6, 1, tzinfo=UTC), 30 * timedelta(minutes=1)
    ) == datetime(2020, 1, 6, 9, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="no working time within ten years"):
        calendar.add_business_time(AWARE, H)
    # Nor does asking for more than it has loop forever.
    with pytest.raises(ValueError, match="no working time within ten years"):
        calendar.add_business_time(datetime(2019, 6, 1, tzinfo=UTC), 2 * H)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "Unknown time zone"),
        ({"weekly": {7: [(540, 600)]}}, "weekdays are 0"),
        ({"weekly": {0: [(600, 540)]}}, "0 <= start < end <= 2880"),
        ({"weekly": {0: [(0, 2881)]}}, "0 <= start < end <= 2880"),
        ({"weekly": {0: [(9.5, 12)]}}, "whole minutes"),
        ({"weekly": {0: "09:00-12:00"}}, "sequence of working intervals"),
        ({"holiday_country": "XX"}, "No public holidays known"),
        ({"holiday_country": "US", "holiday_subdivision": "ZZ"}, "subdivision"),
        ({"holiday_subdivision": "NY"}, "needs a holiday_country"),
        ({"closures": frozenset({datetime(2026, 1, 1)})}, "datetime.date"),
    ],
)
def test_invalid_specs_are_rejected(kwargs: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"timezone": "UTC", "weekly": {}, **kwargs}
    with pytest.raises(ValueError, match=message):
        CalendarSpec(**fields)  # type: ignore[arg-type]


def test_specs_are_copied_and_hashable() -> None:
    weekly = {0: [(540, 600)]}
    spec = CalendarSpec("UTC", weekly)
    weekly[0].append((700, 800))
    assert spec.weekly[0] == ((540, 600),)
    assert spec == CalendarSpec("UTC", {0: [(540, 600)]})
    assert hash(spec) == hash(CalendarSpec("UTC", {0: ((540, 600),)}))


# ---------------------------------------------------------------------------
# Text forms
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "intervals", "canonical"),
    [
        ("09:00-12:00, 13:00-18:00", [(540, 720), (780, 1080)], None),
        ("22:00-06:00", [(1320, 1800)], None),
        ("00:00-24:00", [(0, 1440)], None),
        ("", [], "closed"),
        ("closed", [], None),
        ("  Closed ", [], "closed"),
        (
            "9:00 - 12:30,13:00-18:00",
            [(540, 750), (780, 1080)],
            "09:00-12:30, 13:00-18:00",
        ),
        ("22:00-00:00", [(1320, 1440)], "22:00-24:00"),
        ("08:00-12:00, 20:00-02:00", [(480, 720), (1200, 1560)], None),
    ],
)
def test_parse_and_format_hours(
    text: str, intervals: list[WorkingInterval], canonical: str | None
) -> None:
    assert parse_hours(text) == intervals
    assert format_hours(intervals) == (canonical or text)
    assert parse_hours(format_hours(intervals)) == intervals


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("9-17", 'expected "HH:MM-HH:MM"'),
        ("09:00-", 'expected "HH:MM-HH:MM"'),
        ("09:00-12:00;13:00-18:00", 'expected "HH:MM-HH:MM"'),
        ("09:00-12:00,", "Cannot read working hours ''"),
        ("25:00-26:00", "Invalid time 25:00"),
        ("09:60-10:00", "Invalid time 09:60"),
        ("24:00-01:00", "times run from 00:00 to 23:59"),
        ("10:00-24:30", "Invalid time 24:30"),
        ("10:00-10:00", "is empty"),
        ("09:00-12:00, 11:00-13:00", "must not overlap"),
        ("13:00-18:00, 09:00-12:00", "must be in order"),
        ("22:00-06:00, 05:00-07:00", "must not overlap"),
    ],
)
def test_parse_hours_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_hours(text)


@pytest.mark.parametrize(
    ("intervals", "message"),
    [
        ([(1500, 1600)], "must start before midnight"),
        ([(600, 2100)], "longer than a day"),
        ([(600, 2040)], "longer than a day"),
        ([(780, 1080), (540, 720)], "must be in order"),
        ([(540, 540)], "0 <= start < end"),
    ],
)
def test_format_hours_errors(intervals: list[WorkingInterval], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        format_hours(intervals)


@st.composite
def day_hours(draw: st.DrawFn) -> list[WorkingInterval]:
    """Valid hours for one day: ordered, not overlapping, the last one
    possibly running past midnight."""
    points = sorted(draw(st.sets(st.integers(min_value=0, max_value=1440), max_size=8)))
    if len(points) % 2:
        points = points[:-1]
    intervals = list(zip(points[::2], points[1::2], strict=True))
    if intervals and draw(st.booleans()):
        start = intervals[-1][0]
        if start >= 2:
            intervals[-1] = (
                start,
                draw(st.integers(min_value=1441, max_value=start + 1439)),
            )
    return intervals


@PROPERTY
@given(intervals=day_hours())
def test_hours_round_trip(intervals: list[WorkingInterval]) -> None:
    text = format_hours(intervals)
    assert parse_hours(text) == intervals
    assert format_hours(parse_hours(text)) == text
