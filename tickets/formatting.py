"""How a figure reads to a person, written once.

Every page, email and report that shows a rate, a score, a count, a
duration or an instant goes through this module; machine interfaces (the
API, CSV and JSON exports) keep raw numbers and UTC ISO instants.

- a rate (a fraction in 0..1) reads as a percentage with one decimal:
  ``0.1667`` -> ``"16.7%"``;
- a score (an average rating) reads with two decimals: ``4.5`` -> ``"4.50"``;
- a count reads as a whole number, grouped as the language groups it;
- a duration reads through :func:`tickets.durations.format_duration`
  (re-exported here; ``5_662`` -> ``"1h 34m"``);
- an instant reads in a named timezone: ``"2026-03-03 10:00 (Asia/Shanghai)"``.

Numbers are localised through Django's number formatting for the active
language. Nothing to show (``None``, NaN) reads as an en dash.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timezone
from zoneinfo import ZoneInfo

from django.utils import formats
from django.utils.translation import gettext

from tickets.durations import NO_DURATION, format_duration

__all__ = [
    "NO_VALUE",
    "format_count",
    "format_duration",
    "format_instant",
    "format_rate",
    "format_score",
    "zone_name",
]

NO_VALUE = NO_DURATION  # en dash


def _missing(value: object) -> bool:
    if value is None or value == "":
        return True
    try:
        return math.isnan(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True


def format_rate(value: float | int | str | None, decimals: int = 1) -> str:
    """A fraction in 0..1 as a percentage: ``0.1667`` -> ``"16.7%"``."""
    if _missing(value):
        return NO_VALUE
    number = round(float(value) * 100, decimals)  # type: ignore[arg-type]
    text = formats.number_format(number, decimal_pos=decimals, use_l10n=True)
    return gettext("%(number)s%%") % {"number": text}


def format_score(value: float | int | str | None, decimals: int = 2) -> str:
    """An average rating: ``4.5`` -> ``"4.50"``."""
    if _missing(value):
        return NO_VALUE
    return formats.number_format(
        round(float(value), decimals),  # type: ignore[arg-type]
        decimal_pos=decimals,
        use_l10n=True,
    )


def format_count(value: float | int | str | None) -> str:
    """A count: ``1502`` -> ``"1,502"`` (grouped as the language groups)."""
    if _missing(value):
        return NO_VALUE
    return formats.number_format(
        int(float(value)),  # type: ignore[arg-type]
        use_l10n=True,
        force_grouping=True,
    )


def zone_name(tz: ZoneInfo | timezone | str | None) -> str:
    """The zone's IANA name (``"Asia/Shanghai"``); ``None`` is UTC."""
    if tz is None:
        return "UTC"
    if isinstance(tz, str):
        return tz
    key = getattr(tz, "key", None)
    if key:
        return str(key)
    return str(tz.tzname(None) or "UTC")


def _zone(tz: ZoneInfo | timezone | str | None) -> ZoneInfo | timezone:
    if tz is None:
        return UTC
    if isinstance(tz, str):
        return ZoneInfo(tz)
    return tz


def format_instant(
    value: datetime | None,
    tz: ZoneInfo | timezone | str | None = None,
    *,
    with_zone: bool = True,
) -> str:
    """An aware instant in ``tz`` with the zone named:
    ``"2026-03-03 10:00 (Asia/Shanghai)"``. A naive value is taken as UTC
    (every stored instant is UTC)."""
    if value is None:
        return NO_VALUE
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(_zone(tz))
    text = local.strftime("%Y-%m-%d %H:%M")
    if not with_zone:
        return text
    return gettext("%(instant)s (%(zone)s)") % {"instant": text, "zone": zone_name(tz)}
