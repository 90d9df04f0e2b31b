"""The one rule for how a duration reads (``tickets.durations``): the two
largest units of days, hours and minutes, seconds only under a minute,
rounding towards zero, a minus sign for a negative duration and an en
dash for nothing measured. Every page, email, report and command goes
through it, so this table is the whole rule."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tickets.durations import NO_DURATION, format_duration


@pytest.mark.parametrize(
    ("value", "text"),
    [
        # Nothing to measure.
        (None, "\u2013"),
        (float("nan"), "\u2013"),
        # Under a minute: seconds, rounded towards zero.
        (0, "0s"),
        (timedelta(0), "0s"),
        (0.9, "0s"),
        (45, "45s"),
        (59.999, "59s"),
        (timedelta(seconds=59, microseconds=999_999), "59s"),
        # Minutes: seconds are dropped.
        (60, "1m"),
        (timedelta(minutes=45), "45m"),
        (timedelta(minutes=45, seconds=59), "45m"),
        # Hours: exact hours read as hours alone.
        (3_600, "1h"),
        (timedelta(hours=2), "2h"),
        (timedelta(hours=2, seconds=30), "2h"),
        (5_400, "1h 30m"),
        (timedelta(hours=2, minutes=5), "2h 5m"),
        (timedelta(hours=23, minutes=59, seconds=59), "23h 59m"),
        # Days: the two largest units, so minutes go once there are days.
        (86_400, "1d"),
        (94_000, "1d 2h"),
        (timedelta(days=1, hours=2, minutes=5, seconds=30), "1d 2h"),
        (timedelta(days=1, minutes=5), "1d"),
        (timedelta(days=10), "10d"),
        (timedelta(days=400, hours=3), "400d 3h"),
        # Negative (time left on an overdue clock): a leading minus sign.
        (-30, "-30s"),
        (-0.5, "0s"),
        (timedelta(seconds=-59), "-59s"),
        (-timedelta(minutes=45), "-45m"),
        (-timedelta(hours=1, minutes=30, seconds=20), "-1h 30m"),
        (-timedelta(days=2, hours=3), "-2d 3h"),
    ],
)
def test_format_duration(value: timedelta | float | None, text: str) -> None:
    assert format_duration(value) == text


@pytest.mark.parametrize(
    "seconds", [0, 1, 59, 60, 61, 3_599, 3_600, 5_400, 86_399, 86_400, 94_000]
)
def test_seconds_and_timedeltas_read_the_same(seconds: int) -> None:
    as_float = format_duration(float(seconds))
    assert format_duration(seconds) == as_float
    assert format_duration(timedelta(seconds=seconds)) == as_float
    assert format_duration(-seconds) == (f"-{as_float}" if seconds else as_float)


def test_nothing_measured_is_the_en_dash() -> None:
    assert NO_DURATION == "\u2013"
