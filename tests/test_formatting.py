"""How figures read (``tickets.formatting`` and the ``baton_format``
template filters): rates as percentages, scores to two decimals, counts
grouped, durations through the one duration rule, instants in a named
timezone; numbers localised for the active language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import translation

from tickets.formatting import (
    NO_VALUE,
    format_count,
    format_duration,
    format_instant,
    format_rate,
    format_score,
    zone_name,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.1667, "16.7%"),
        (0, "0.0%"),
        (1, "100.0%"),
        (0.5, "50.0%"),
        ("0.25", "25.0%"),
        (0.99999, "100.0%"),
        (None, NO_VALUE),
        (float("nan"), NO_VALUE),
        ("", NO_VALUE),
    ],
)
def test_a_rate_reads_as_a_percentage(value: object, text: str) -> None:
    assert format_rate(value) == text  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "text"),
    [(4.5, "4.50"), (3.3333, "3.33"), (5, "5.00"), (None, NO_VALUE)],
)
def test_a_score_reads_with_two_decimals(value: object, text: str) -> None:
    assert format_score(value) == text  # type: ignore[arg-type]


def test_a_count_is_grouped_as_the_language_groups() -> None:
    with translation.override("en"):
        assert format_count(1502) == "1,502"
        assert format_count(7) == "7"
        assert format_count(None) == NO_VALUE
    with translation.override("zh-hans"):
        # Chinese formats group by four digits with no separator.
        assert format_count(1502) == "1502"


def test_durations_are_the_one_duration_rule() -> None:
    assert format_duration(5662.423) == "1h 34m"
    assert format_duration(timedelta(0)) == "0s"
    assert format_duration(None) == NO_VALUE


def test_an_instant_reads_in_the_named_zone() -> None:
    instant = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
    assert (
        format_instant(instant, ZoneInfo("Asia/Shanghai"))
        == "2026-03-03 10:00 (Asia/Shanghai)"
    )
    assert format_instant(instant, "Europe/Paris") == "2026-03-03 03:00 (Europe/Paris)"
    assert format_instant(instant) == "2026-03-03 02:00 (UTC)"
    assert format_instant(instant, "Asia/Shanghai", with_zone=False) == (
        "2026-03-03 10:00"
    )
    assert format_instant(None, "UTC") == NO_VALUE


def test_a_naive_instant_is_taken_as_utc() -> None:
    naive = datetime(2026, 3, 3, 2, 0)
    assert format_instant(naive, "Asia/Shanghai") == "2026-03-03 10:00 (Asia/Shanghai)"


def test_zone_names() -> None:
    assert zone_name(ZoneInfo("Asia/Shanghai")) == "Asia/Shanghai"
    assert zone_name(None) == "UTC"
    assert zone_name(UTC) == "UTC"


def test_the_template_filters_use_the_same_rules() -> None:
    template = Template(
        "{% load baton_format %}"
        "{{ r|rate }}|{{ s|duration }}|{{ a|score }}|{{ n|count }}|"
        "{{ t|instant:zone }}|{{ missing|rate }}|{{ missing|duration }}"
    )
    with translation.override("en"):
        text = template.render(
            Context(
                {
                    "r": 0.1667,
                    "s": 5662.423,
                    "a": 4.5,
                    "n": 1502,
                    "t": datetime(2026, 3, 3, 2, 0, tzinfo=UTC),
                    "zone": ZoneInfo("Asia/Shanghai"),
                    "missing": None,
                }
            )
        )
    assert text == (
        "16.7%|1h 34m|4.50|1,502|2026-03-03 10:00 (Asia/Shanghai)|\u2013|\u2013"
    )
