"""The report's charts: hand-written SVG (line and grouped-bar charts)
with titles, descriptions and axis labels; every text in them is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.utils import dateformat
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from tickets.formatting import format_rate, format_score

if TYPE_CHECKING:
    from sla.reports.data import ReportData

PERIOD_NOUNS = {
    "day": gettext_lazy("day"),
    "week": gettext_lazy("week"),
    "month": gettext_lazy("month"),
}
PERIOD_PLURALS = {
    "day": gettext_lazy("days"),
    "week": gettext_lazy("weeks"),
    "month": gettext_lazy("months"),
}
X_TITLES = {
    "day": gettext_lazy("Day (each department's own timezone)"),
    "week": gettext_lazy("Week starting (each department's own timezone)"),
    "month": gettext_lazy("Month (each department's own timezone)"),
}

#: Okabe-Ito colours (distinguishable with colour-vision deficiencies).
PALETTE = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#000000",
    "#999999",
)
WIDTH, HEIGHT = 660, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 150, 16, 56


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    values: Sequence[float | None]


def _join(parts: Iterable[SafeString]) -> SafeString:
    # Every part was built by format_html (its arguments escaped).
    return SafeString("".join(parts))


def _fmt(number: float) -> str:
    return f"{number:.1f}"


def _x(index: int, count: int) -> float:
    return LEFT + (index + 0.5) * (WIDTH - LEFT - RIGHT) / count


def _y(value: float, low: float, high: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - (value - low) / (high - low))


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value``
    (at least 1)."""
    if value <= 1:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return float(step * magnitude)
    return float(10 * magnitude)  # pragma: no cover


def _frame(
    *,
    chart_id: str,
    kind: str,
    title: str,
    description: str,
    x_labels: Sequence[tuple[date, str]],
    x_title: str,
    y_title: str,
    y_ticks: Sequence[tuple[float, str]],
    low: float,
    high: float,
    series: Sequence[Series],
) -> list[SafeString]:
    bottom = HEIGHT - BOTTOM
    parts = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{}" '
            'data-chart="{}" role="img" aria-labelledby="{}-title {}-desc" '
            'viewBox="0 0 {} {}" width="{}" height="{}" '
            'font-family="Helvetica, Arial, sans-serif" font-size="11">',
            chart_id,
            kind,
            chart_id,
            chart_id,
            WIDTH,
            HEIGHT,
            WIDTH,
            HEIGHT,
        ),
        format_html(
            '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>',
            chart_id,
            title,
            chart_id,
            description,
        ),
        format_html('<rect width="{}" height="{}" fill="#ffffff"/>', WIDTH, HEIGHT),
    ]
    for value, label in y_ticks:
        y = _fmt(_y(value, low, high))
        parts.append(
            format_html(
                '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}" '
                'stroke="#e5e5e5"/>'
                '<text class="tick-y" x="{}" y="{}" text-anchor="end" '
                'dominant-baseline="middle" fill="#444">{}</text>',
                LEFT,
                WIDTH - RIGHT,
                y,
                y,
                LEFT - 6,
                y,
                label,
            )
        )
    for index, (start, label) in enumerate(x_labels):
        parts.append(
            format_html(
                '<text class="tick-x" data-period="{}" x="{}" y="{}" '
                'text-anchor="middle" fill="#444">{}</text>',
                start.isoformat(),
                _fmt(_x(index, len(x_labels))),
                bottom + 16,
                label,
            )
        )
    parts.append(
        format_html(
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#444"/>'
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#444"/>'
            '<text class="axis-label" x="{}" y="{}" text-anchor="middle" '
            'fill="#222">{}</text>'
            '<text class="axis-label" transform="rotate(-90)" x="{}" y="{}" '
            'text-anchor="middle" fill="#222">{}</text>',
            LEFT,
            WIDTH - RIGHT,
            bottom,
            bottom,
            LEFT,
            LEFT,
            TOP,
            bottom,
            _fmt((LEFT + WIDTH - RIGHT) / 2),
            HEIGHT - 10,
            x_title,
            _fmt(-(TOP + bottom) / 2),
            16,
            y_title,
        )
    )
    for index, s in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        row = TOP + 8 + index * 18
        parts.append(
            format_html(
                '<g class="legend" data-series="{}">'
                '<rect x="{}" y="{}" width="12" height="12" fill="{}"/>'
                '<text x="{}" y="{}" dominant-baseline="middle" fill="#222">{}</text>'
                "</g>",
                s.key,
                WIDTH - RIGHT + 12,
                row - 6,
                colour,
                WIDTH - RIGHT + 30,
                row,
                s.label,
            )
        )
    return parts


def line_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    x_labels: Sequence[tuple[date, str]],
    x_title: str,
    y_title: str,
    y_ticks: Sequence[tuple[float, str]],
    low: float,
    high: float,
    series: Sequence[Series],
    value_text: Callable[[float], str],
) -> SafeString:
    """A line per series; a marker (with a tooltip title) for each period
    that has a value, and a gap where it has none."""
    parts = _frame(
        chart_id=chart_id,
        kind="line",
        title=title,
        description=description,
        x_labels=x_labels,
        x_title=x_title,
        y_title=y_title,
        y_ticks=y_ticks,
        low=low,
        high=high,
        series=series,
    )
    count = len(x_labels)
    for index, s in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(format_html('<g class="series" data-series="{}">', s.key))
        run: list[str] = []
        points = []
        for i, value in enumerate(s.values):
            if value is None:
                if len(run) > 1:
                    points.append(run)
                run = []
                continue
            run.append(f"{_fmt(_x(i, count))},{_fmt(_y(value, low, high))}")
        if len(run) > 1:
            points.append(run)
        for segment in points:
            parts.append(
                format_html(
                    '<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>',
                    colour,
                    " ".join(segment),
                )
            )
        for i, value in enumerate(s.values):
            if value is None:
                continue
            start, label = x_labels[i]
            parts.append(
                format_html(
                    '<circle class="point" data-period="{}" data-value="{}" '
                    'cx="{}" cy="{}" r="3.5" fill="{}">'
                    "<title>{}, {}: {}</title></circle>",
                    start.isoformat(),
                    repr(value),
                    _fmt(_x(i, count)),
                    _fmt(_y(value, low, high)),
                    colour,
                    s.label,
                    label,
                    value_text(value),
                )
            )
        parts.append(SafeString("</g>"))
    parts.append(SafeString("</svg>"))
    return _join(parts)


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    x_labels: Sequence[tuple[date, str]],
    x_title: str,
    y_title: str,
    series: Sequence[Series],
) -> SafeString:
    """Grouped bars: one bar per series in every period (zero-height when
    the value is 0)."""
    top = nice_ceiling(max((v or 0 for s in series for v in s.values), default=0))
    # Counts: whole-number ticks (0, 2, 4... for a top of 10, not 2.5).
    step = next(
        (top / n for n in (4, 5, 2) if top >= 4 and (top / n).is_integer()), 1.0
    )
    ticks = []
    tick = 0.0
    while tick <= top + 1e-9:
        ticks.append((tick, f"{tick:g}"))
        tick += step
    parts = _frame(
        chart_id=chart_id,
        kind="bar",
        title=title,
        description=description,
        x_labels=x_labels,
        x_title=x_title,
        y_title=y_title,
        y_ticks=ticks,
        low=0,
        high=top,
        series=series,
    )
    count = len(x_labels)
    band = (WIDTH - LEFT - RIGHT) / max(count, 1)
    group = band * 0.8
    width = group / max(len(series), 1)
    for index, s in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(format_html('<g class="series" data-series="{}">', s.key))
        for i, value in enumerate(s.values):
            start, label = x_labels[i]
            amount = value or 0
            y = _y(amount, 0, top)
            parts.append(
                format_html(
                    '<rect class="bar" data-period="{}" data-value="{}" x="{}" '
                    'y="{}" width="{}" height="{}" fill="{}">'
                    "<title>{}, {}: {}</title></rect>",
                    start.isoformat(),
                    f"{amount:g}",
                    _fmt(_x(i, count) - group / 2 + index * width),
                    _fmt(y),
                    _fmt(max(width - 1, 1)),
                    _fmt(HEIGHT - BOTTOM - y),
                    colour,
                    s.label,
                    label,
                    f"{amount:g}",
                )
            )
        parts.append(SafeString("</g>"))
    parts.append(SafeString("</svg>"))
    return _join(parts)


def _period_tick(period: str, start: date) -> str:
    """A short period label, in the active language ("2 Mar", "Mar 2026")."""
    if period == "month":
        return dateformat.format(start, pgettext("chart tick: a month", "M Y"))
    return dateformat.format(start, pgettext("chart tick: a day", "j M"))


def trend_charts(data: ReportData) -> list[tuple[str, SafeString]]:
    """Breach rate and average score (lines) and handoffs received
    (bars) over the report's trend periods, one series per department."""
    labels = [(s, _period_tick(data.period, s)) for s in data.trend_starts]
    noun = str(PERIOD_NOUNS[data.period])
    x_title = str(X_TITLES[data.period])
    span = (
        _("the %(count)s %(periods)s from %(first)s to %(last)s")
        % {
            "count": len(labels),
            "periods": PERIOD_PLURALS[data.period],
            "first": labels[0][1],
            "last": labels[-1][1],
        }
        if labels
        else ""
    )
    who = _("each department") if data.is_summary else data.department_name
    facts = {"who": who, "span": span, "period": noun}
    prefix = "report-" + (data.department or "summary").lower()

    def series(attribute: str) -> list[Series]:
        return [
            Series(t.department, t.department_name, getattr(t, attribute))
            for t in data.trends
        ]

    breach = line_chart(
        chart_id=f"{prefix}-breach-rate",
        title=_("Breach rate"),
        description=_(
            "Share of decided response promises that were breached, for "
            "%(who)s, over %(span)s. Gaps: no promise was decided that %(period)s."
        )
        % facts,
        x_labels=labels,
        x_title=x_title,
        y_title=_("Breach rate"),
        y_ticks=[(v / 100, f"{v}%") for v in (0, 25, 50, 75, 100)],
        low=0,
        high=1,
        series=series("breach_rate"),
        value_text=format_rate,
    )
    score = line_chart(
        chart_id=f"{prefix}-average-score",
        title=_("Average rating"),
        description=_(
            "Average customer rating (1 to 5) of handoffs, for %(who)s, over "
            "%(span)s. Gaps: no rating that %(period)s."
        )
        % facts,
        x_labels=labels,
        x_title=x_title,
        y_title=_("Average score (1-5)"),
        y_ticks=[(float(v), str(v)) for v in range(1, 6)],
        low=1,
        high=5,
        series=series("average_score"),
        value_text=format_score,
    )
    received = bar_chart(
        chart_id=f"{prefix}-received",
        title=_("Handoffs received"),
        description=_("Handoffs received by %(who)s, over %(span)s.") % facts,
        x_labels=labels,
        x_title=x_title,
        y_title=_("Handoffs received"),
        series=series("received"),
    )
    return [
        (_("Breach rate"), breach),
        (_("Average rating"), score),
        (_("Handoffs received"), received),
    ]


def sparkline(
    values: Sequence[int], *, starts: Sequence[date], title: str
) -> SafeString:
    """A small bar sparkline (one bar a period, e.g. a problem's weekly
    resolutions), with a title and a tooltip per bar; texts escaped."""
    width, height, gap = 6 * max(len(values), 1) + 2, 22, 1
    top = max(values, default=0) or 1
    parts = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" class="sparkline" role="img" '
            'viewBox="0 0 {} {}" width="{}" height="{}"><title>{}</title>',
            width,
            height,
            width,
            height,
            title,
        )
    ]
    for index, (value, start) in enumerate(zip(values, starts, strict=True)):
        bar = (height - 2) * value / top
        parts.append(
            format_html(
                '<rect class="bar" data-period="{}" data-value="{}" x="{}" y="{}" '
                'width="{}" height="{}" fill="{}"><title>{} {}: {}</title></rect>',
                start.isoformat(),
                value,
                1 + index * 6,
                _fmt(height - 1 - bar),
                6 - gap,
                _fmt(max(bar, 0.5)),
                PALETTE[0] if value else "#cccccc",
                PERIOD_NOUNS["week"],
                _period_tick("week", start),
                value,
            )
        )
    parts.append(SafeString("</svg>"))
    return _join(parts)
