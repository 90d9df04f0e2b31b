"""How a duration reads, written once.

Every page, email, report, export and command that shows a length of time
to a person goes through :func:`format_duration`: a customer's "took 2h
5m", a policy target, a scorecard's median response, a what-if verdict.
Machine interfaces (the API, CSV and JSON exports) keep seconds.

The rule: the largest non-zero unit of days (24 hours), hours and minutes,
and the unit below it when that is not zero, so the figure stays short and
comparable ("1d 2h", "2h 5m", "45m", "1d" for a day and five minutes);
seconds only under a minute ("45s"); rounding towards zero; a
negative duration (time left on an overdue clock) gets a leading minus
sign; nothing to measure reads as an en dash. Unit letters are
translatable.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import pgettext

NO_DURATION = "\u2013"


def _units() -> tuple[tuple[int, str], ...]:
    return (
        (86_400, pgettext("duration unit: days", "%(n)sd")),
        (3_600, pgettext("duration unit: hours", "%(n)sh")),
        (60, pgettext("duration unit: minutes", "%(n)sm")),
    )


def format_duration(value: timedelta | float | int | None) -> str:
    """``timedelta(hours=26, minutes=5)`` or ``94_000`` -> ``"1d 2h"``;
    ``5_400`` -> ``"1h 30m"``; ``45`` -> ``"45s"``; ``None`` -> an en dash."""
    if value is None:
        return NO_DURATION
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds != seconds:  # NaN: nothing was measured
        return NO_DURATION
    total = int(abs(seconds))
    sign = "-" if seconds < 0 and total else ""
    if total < 60:
        return sign + pgettext("duration unit: seconds", "%(n)ss") % {"n": total}
    parts: list[str] = []
    rest = total
    for size, unit in _units():
        count, rest = divmod(rest, size)
        if count or parts:
            parts.append(unit % {"n": count} if count else "")
        if len(parts) == 2:
            break
    return sign + " ".join(part for part in parts if part)
