"""The periodic accountability report: what it says, its charts, and its
HTML and CSV forms.

Everything here reads the scorecard read models (:class:`Scorecard` and
:class:`ScorecardHandoff`) and nothing else, so every number in a report
is a stored scorecard figure (and ``manage.py audit_scorecards`` proves
those match the event log). Two kinds of report exist for a period:

* the service-team summary (``department=None``): every department's
  figures side by side, raw and adjusted, departments ranked by breach
  rate and by average score, the worst department-scenario pairs, every
  dissatisfied rating with its comment, and trends;
* a department report: the same restricted to one department, plus its
  scenario breakdown. It never shows another department's figures (a
  back-office department may read only its own scorecards).

Rankings use the raw figures, which never change; the adjusted figures
(leaving out what a front-line lead waived after a dispute) stand beside
them. Charts are hand-written SVG with titles, descriptions and axis
labels; every text in them is escaped.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import SafeString

from departments.models import Department
from sla.models import Scorecard, ScorecardHandoff
from sla.scorecards import (
    ALL_SCENARIOS,
    COUNTS,
    FIGURE_NAMES,
    PERIODS,
    compute_figures,
    figure_label,
    period_after,
    period_before,
    period_start,
)
from tickets import clock

#: Scenario rows need at least this many decided response promises to be
#: ranked by breach rate (and this many ratings to be ranked by average
#: score), so that one unlucky ticket does not top the list.
MIN_SCENARIO_VOLUME = 3
#: How many scenario rows each "worst" list shows.
WORST_SCENARIOS = 5
#: Ratings at or below this score are listed with their comments.
DISSATISFIED_MAX_SCORE = 2

NO_VALUE = "\u2013"  # en dash
PERIOD_NOUNS = {"day": "day", "week": "week", "month": "month"}


# ---------------------------------------------------------------------------
# The data
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScorecardLine:
    """One stored scorecard: a department's figures for the period, for
    one scenario or all of them (``scenario == "*"``)."""

    department: str
    department_name: str
    scenario: str
    figures: dict[str, Any]

    @property
    def scenario_label(self) -> str:
        return scenario_label(self.scenario)


@dataclass(frozen=True)
class Ranked:
    """A place in a ranking: the ranked figure's raw value (the ranking
    key), its adjusted value, and the volume it was computed over. Lines
    without a value come last, unranked (``rank`` None)."""

    rank: int | None
    line: ScorecardLine
    value: float | None
    adjusted: float | None
    volume: int


@dataclass(frozen=True)
class DissatisfiedRating:
    department: str
    department_name: str
    ticket_id: UUID
    handoff_id: UUID
    scenario: str
    score: int
    comment: str
    dispute: str  # "", open, accepted or waived
    position: int  # log position of the rating event

    @property
    def scenario_label(self) -> str:
        return scenario_label(self.scenario)


@dataclass(frozen=True)
class TrendSeries:
    """One department's figures for each of the report's trend periods
    (0 received and None rates for a period without handoffs)."""

    department: str
    department_name: str
    received: list[int]
    breach_rate: list[float | None]
    average_score: list[float | None]


@dataclass(frozen=True)
class ReportData:
    period: str
    start: date
    end: date  # exclusive
    department: str | None  # None: the service-team summary
    department_name: str
    generated_at: datetime
    min_volume: int
    #: Every stored scorecard of the period in scope ("*" first), the
    #: rows of the CSV.
    scorecards: list[ScorecardLine]
    #: The all-scenario rows, one per department that received handoffs.
    departments: list[ScorecardLine]
    #: Active departments that received nothing in the period.
    idle_departments: list[str]
    by_breach_rate: list[Ranked]
    by_average_score: list[Ranked]
    scenarios: list[ScorecardLine]
    worst_by_breach_rate: list[Ranked]
    worst_by_average_score: list[Ranked]
    dissatisfied: list[DissatisfiedRating]
    #: Dissatisfied ratings of earlier periods' handoffs recorded after
    #: ``since_position`` (the previous report's position): ratings come
    #: after the work, often after that period's report was sent.
    late_dissatisfied: list[DissatisfiedRating]
    trend_starts: list[date]
    trends: list[TrendSeries]
    #: The scorecard projection's log position when the report was made.
    position: int | None = None
    charts: list[tuple[str, SafeString]] = field(default_factory=list)

    @property
    def is_summary(self) -> bool:
        return self.department is None

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.end.toordinal() - 1)

    @property
    def title(self) -> str:
        who = (
            "Service team summary"
            if self.department is None
            else f"{self.department_name} ({self.department})"
        )
        return f"{who}: scorecard report, {period_title(self.period, self.start)}"


def scenario_label(scenario: str) -> str:
    if scenario == ALL_SCENARIOS:
        return "All scenarios"
    return scenario or "(no scenario)"


def period_title(period: str, start: date) -> str:
    if period == "day":
        return f"{start:%a} {start.day} {start:%b %Y}"
    if period == "month":
        return f"{start:%B %Y}"
    return f"week of {start:%a} {start.day} {start:%b %Y}"


def trend_starts(period: str, start: date, periods: int) -> list[date]:
    """The ``periods`` period starts ending with ``start``, oldest first."""
    starts = [start]
    while len(starts) < periods:
        starts.append(period_before(period, starts[-1]))
    return starts[::-1]


def _rank(
    lines: Iterable[ScorecardLine],
    name: str,
    *,
    worst_is_high: bool,
    volume: str,
    min_volume: int = 0,
) -> list[Ranked]:
    """Lines ordered worst first by figure ``name`` (None last), ties
    broken by the larger volume, then department and scenario."""
    eligible = [line for line in lines if (line.figures.get(volume) or 0) >= min_volume]

    def key(line: ScorecardLine) -> tuple[Any, ...]:
        value = line.figures.get(name)
        if value is None:
            return (1, 0.0, 0, line.department, line.scenario)
        return (
            0,
            -value if worst_is_high else value,
            -(line.figures.get(volume) or 0),
            line.department,
            line.scenario,
        )

    return [
        Ranked(
            rank=number if line.figures.get(name) is not None else None,
            line=line,
            value=line.figures.get(name),
            adjusted=line.figures.get(f"{name}_adjusted"),
            volume=line.figures.get(volume) or 0,
        )
        for number, line in enumerate(sorted(eligible, key=key), start=1)
    ]


def report_data(
    *,
    period: str = "week",
    start: date,
    department: str | None = None,
    periods: int = 8,
    min_volume: int = MIN_SCENARIO_VOLUME,
    position: int | None = None,
    since_position: int | None = None,
) -> ReportData:
    """Everything one report shows, from the stored scorecards of
    ``period`` starting ``start`` (normalised to the period's first day;
    each department's periods are in its own timezone).

    ``department=None`` is the service-team summary over every
    department; a department code restricts every part to it. Trends
    cover the ``periods`` periods ending with this one. ``position`` is
    the scorecard projection's position the figures are as of; with
    ``since_position``, dissatisfied ratings of earlier periods recorded
    after it are listed too. Raises ValueError for an unknown period or a
    non-positive ``periods``.
    """
    if period not in PERIODS:
        raise ValueError(f"The period must be one of {', '.join(PERIODS)}.")
    if periods < 1:
        raise ValueError("A report needs at least one trend period.")
    start = period_start(period, start)
    names = dict(Department.objects.values_list("code", "name"))

    def name_of(code: str) -> str:
        return names.get(code, code)

    rows = Scorecard.objects.filter(period=period, start=start)
    if department is not None:
        rows = rows.filter(department=department)
    scorecards = sorted(
        (
            ScorecardLine(r.department, name_of(r.department), r.scenario, r.figures)
            for r in rows
        ),
        key=lambda line: (
            line.scenario != ALL_SCENARIOS,
            line.department,
            line.scenario,
        ),
    )
    departments = [s for s in scorecards if s.scenario == ALL_SCENARIOS]
    scenarios = [s for s in scorecards if s.scenario != ALL_SCENARIOS]
    seen = {s.department for s in departments}
    idle = (
        [
            d.name
            for d in Department.objects.active().order_by("name")
            if d.code not in seen
        ]
        if department is None
        else []
    )

    worst_breach = [
        r
        for r in _rank(
            scenarios,
            "breach_rate",
            worst_is_high=True,
            volume="decided",
            min_volume=min_volume,
        )
        if r.value  # a 0% breach rate is nothing to act on
    ][:WORST_SCENARIOS]
    worst_score = _rank(
        scenarios,
        "average_score",
        worst_is_high=False,
        volume="ratings",
        min_volume=min_volume,
    )
    worst_score = [r for r in worst_score if r.value is not None][:WORST_SCENARIOS]

    def unhappy(**lookups: Any) -> list[DissatisfiedRating]:
        facts = ScorecardHandoff.objects.filter(
            rating_score__gte=1, rating_score__lte=DISSATISFIED_MAX_SCORE, **lookups
        )
        if department is not None:
            facts = facts.filter(department=department)
        return [
            DissatisfiedRating(
                department=f.department,
                department_name=name_of(f.department),
                ticket_id=f.ticket_id,
                handoff_id=f.id,
                scenario=f.scenario,
                score=int(f.rating_score or 0),
                comment=f.rating_comment,
                dispute=f.rating_dispute,
                position=int(f.rating_position or 0),
            )
            for f in facts.order_by("rating_position")
        ]

    dissatisfied = unhappy(**{period: start})
    late = (
        unhappy(**{f"{period}__lt": start, "rating_position__gt": since_position})
        if since_position is not None
        else []
    )

    starts = trend_starts(period, start, periods)
    trend_rows = Scorecard.objects.filter(
        period=period, start__in=starts, scenario=ALL_SCENARIOS
    )
    if department is not None:
        trend_rows = trend_rows.filter(department=department)
    by_key = {(r.department, r.start): r.figures for r in trend_rows}
    codes = sorted(
        {code for code, _ in by_key} | ({department} if department else set())
    )
    empty = compute_figures([])
    trends = []
    for code in codes:
        points = [by_key.get((code, s), empty) for s in starts]
        trends.append(
            TrendSeries(
                department=code,
                department_name=name_of(code),
                received=[int(p["received"]) for p in points],
                breach_rate=[p["breach_rate"] for p in points],
                average_score=[p["average_score"] for p in points],
            )
        )

    data = ReportData(
        period=period,
        start=start,
        end=period_after(period, start),
        department=department,
        department_name=("Service team" if department is None else name_of(department)),
        generated_at=clock.now(),
        min_volume=min_volume,
        scorecards=scorecards,
        departments=departments,
        idle_departments=idle,
        by_breach_rate=_rank(
            departments, "breach_rate", worst_is_high=True, volume="decided"
        ),
        by_average_score=_rank(
            departments, "average_score", worst_is_high=False, volume="ratings"
        ),
        scenarios=scenarios,
        worst_by_breach_rate=worst_breach,
        worst_by_average_score=worst_score,
        dissatisfied=dissatisfied,
        late_dissatisfied=late,
        trend_starts=starts,
        trends=trends,
        position=position,
    )
    data.charts.extend(trend_charts(data))
    return data


# ---------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------


def figure_kind(name: str) -> str:
    """How a figure reads: count, percent, score or duration."""
    if name in COUNTS:
        return "count"
    if "seconds" in name:
        return "duration"
    if "score" in name:
        return "score"
    return "percent"


def format_duration(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def format_figure(name: str, value: Any) -> str:
    """A figure for people: a dash when there is nothing to compute it
    over."""
    if value is None:
        return NO_VALUE
    kind = figure_kind(name)
    if kind == "count":
        return str(value)
    if kind == "duration":
        return format_duration(float(value))
    if kind == "score":
        return f"{float(value):.2f}"
    return f"{float(value) * 100:.1f}%"


def adjusted_name(name: str) -> str | None:
    candidate = f"{name}_adjusted"
    return candidate if candidate in FIGURE_NAMES else None


#: The figures of the summary's department table, in order.
SUMMARY_FIGURES = (
    "received",
    "responded",
    "finished",
    "decided",
    "breached",
    "breach_rate",
    "median_response_seconds",
    "p90_response_seconds",
    "ratings",
    "average_score",
    "dissatisfied",
    "reopened",
    "bounced",
    "ping_pong",
    "disputes_open",
)
#: The figures of a scenario breakdown.
SCENARIO_FIGURES = (
    "received",
    "decided",
    "breach_rate",
    "median_response_seconds",
    "ratings",
    "average_score",
    "dissatisfied",
)


#: Column headings for the tables (the full label is the tooltip).
SHORT_LABELS = {
    "received": "Received",
    "decided": "Promises decided",
    "breached": "Breached",
    "median_response_seconds": "Median first response",
    "p90_response_seconds": "90th pct first response",
    "ratings": "Ratings",
    "reopened": "Reopened",
    "bounced": "Bounced",
    "ping_pong": "Ping-pong",
    "disputes_open": "Open disputes",
}


def display_label(name: str) -> str:
    """The figure's label without its unit (values are shown formatted)."""
    return figure_label(name).removesuffix(" (s)")


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    title: str
    adjusted: str | None


def columns(names: Sequence[str]) -> list[Column]:
    return [
        Column(
            n, SHORT_LABELS.get(n, display_label(n)), display_label(n), adjusted_name(n)
        )
        for n in names
    ]


def table_cells(line: ScorecardLine, cols: Sequence[Column]) -> list[str]:
    """Display values: each figure, then its adjusted value if it has one."""
    cells = []
    for col in cols:
        cells.append(format_figure(col.name, line.figures.get(col.name)))
        if col.adjusted:
            cells.append(format_figure(col.adjusted, line.figures.get(col.adjusted)))
    return cells


def figure_rows(line: ScorecardLine) -> list[tuple[str, str, str]]:
    """(label, raw, adjusted) for every figure with a raw form (a
    department report's full table; "" where no adjusted form exists)."""
    rows = []
    for name in FIGURE_NAMES:
        if name.endswith("_adjusted"):
            continue
        adjusted = adjusted_name(name)
        rows.append(
            (
                display_label(name),
                format_figure(name, line.figures.get(name)),
                format_figure(adjusted, line.figures.get(adjusted)) if adjusted else "",
            )
        )
    return rows


# ---------------------------------------------------------------------------
# Charts (hand-written SVG)
# ---------------------------------------------------------------------------

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
    step = top / 4 if top >= 4 else 1
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
    if period == "month":
        return f"{start:%b %Y}"
    return f"{start.day} {start:%b}"


def trend_charts(data: ReportData) -> list[tuple[str, SafeString]]:
    """Breach rate and average score (lines) and handoffs received
    (bars) over the report's trend periods, one series per department."""
    labels = [(s, _period_tick(data.period, s)) for s in data.trend_starts]
    noun = PERIOD_NOUNS[data.period]
    x_title = f"{noun.capitalize()} starting (each department's own timezone)"
    span = (
        f"the {len(labels)} {noun}s from {labels[0][1]} to {labels[-1][1]}"
        if labels
        else ""
    )
    who = "each department" if data.is_summary else data.department_name
    prefix = "report-" + (data.department or "summary").lower()

    def series(attribute: str) -> list[Series]:
        return [
            Series(t.department, t.department_name, getattr(t, attribute))
            for t in data.trends
        ]

    breach = line_chart(
        chart_id=f"{prefix}-breach-rate",
        title="Breach rate",
        description=(
            f"Share of decided response promises that were breached, for {who}, "
            f"over {span}. Gaps: no promise was decided that {noun}."
        ),
        x_labels=labels,
        x_title=x_title,
        y_title="Breach rate",
        y_ticks=[(v / 100, f"{v}%") for v in (0, 25, 50, 75, 100)],
        low=0,
        high=1,
        series=series("breach_rate"),
        value_text=lambda v: f"{v * 100:.1f}%",
    )
    score = line_chart(
        chart_id=f"{prefix}-average-score",
        title="Average rating",
        description=(
            f"Average customer rating (1 to 5) of handoffs, for {who}, over "
            f"{span}. Gaps: no rating that {noun}."
        ),
        x_labels=labels,
        x_title=x_title,
        y_title="Average score (1-5)",
        y_ticks=[(float(v), str(v)) for v in range(1, 6)],
        low=1,
        high=5,
        series=series("average_score"),
        value_text=lambda v: f"{v:.2f}",
    )
    received = bar_chart(
        chart_id=f"{prefix}-received",
        title="Handoffs received",
        description=f"Handoffs received by {who}, over {span}.",
        x_labels=labels,
        x_title=x_title,
        y_title="Handoffs received",
        series=series("received"),
    )
    return [
        ("Breach rate", breach),
        ("Average rating", score),
        ("Handoffs received", received),
    ]


# ---------------------------------------------------------------------------
# HTML and plain text
# ---------------------------------------------------------------------------


def _context(data: ReportData) -> dict[str, Any]:
    summary_cols = columns(SUMMARY_FIGURES)
    scenario_cols = columns(SCENARIO_FIGURES)
    ranking_rows = [
        (
            r,
            format_figure("breach_rate", r.value),
            format_figure("breach_rate", r.adjusted),
        )
        for r in data.by_breach_rate
    ]
    score_rows = [
        (
            r,
            format_figure("average_score", r.value),
            format_figure("average_score", r.adjusted),
        )
        for r in data.by_average_score
    ]
    return {
        "data": data,
        "summary_columns": summary_cols,
        "department_rows": [
            (d, table_cells(d, summary_cols)) for d in data.departments
        ],
        "figure_rows": (figure_rows(data.departments[0]) if data.departments else []),
        "scenario_columns": scenario_cols,
        "scenario_rows": [(s, table_cells(s, scenario_cols)) for s in data.scenarios],
        "ranking_rows": ranking_rows,
        "score_rows": score_rows,
        "worst_breach_rows": [
            (
                r,
                format_figure("breach_rate", r.value),
                format_figure("breach_rate", r.adjusted),
            )
            for r in data.worst_by_breach_rate
        ],
        "worst_score_rows": [
            (
                r,
                format_figure("average_score", r.value),
                format_figure("average_score", r.adjusted),
            )
            for r in data.worst_by_average_score
        ],
        "dissatisfied_max": DISSATISFIED_MAX_SCORE,
    }


def render_report_html(data: ReportData) -> str:
    """A standalone HTML document (inline CSS and SVG): the admin shows it
    as stored and the email carries it as its HTML part."""
    return render_to_string("sla/report.html", _context(data))


def render_report_text(data: ReportData) -> str:
    """The plain-text part of the email: rankings and dissatisfied
    comments (the charts and full tables are in the HTML)."""
    return render_to_string("sla/report_email.txt", _context(data))


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------

CSV_KEYS = ("period", "start", "department", "department_name", "scenario")


def csv_figure_columns() -> list[str]:
    """Every figure, each followed by its adjusted form (if any)."""
    ordered: list[str] = []
    for name in FIGURE_NAMES:
        if name.endswith("_adjusted") and name[: -len("_adjusted")] in FIGURE_NAMES:
            continue
        ordered.append(name)
        adjusted = adjusted_name(name)
        if adjusted:
            ordered.append(adjusted)
    return ordered


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
_INTEGER = re.compile(r"-?\d+")


def _text_cell(text: str) -> str:
    # Spreadsheets run cells starting with = + - @ as formulas: prefix an
    # apostrophe (and escape a leading apostrophe) so the mapping is
    # reversible.
    return "'" + text if text.startswith(_FORMULA_START) else text


def _untext_cell(text: str) -> str:
    return text[1:] if text.startswith("'") else text


def _number_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"A scorecard figure must be a number, not {value!r}.")
    # repr() of a float is the shortest text that reads back as the same
    # float, and always has a "." or an exponent (ints never do).
    return repr(value) if isinstance(value, float) else str(value)


def _parse_number(text: str) -> int | float | None:
    if text == "":
        return None
    if _INTEGER.fullmatch(text):
        return int(text)
    return float(text)


def report_csv(data: ReportData) -> str:
    """One row per stored scorecard of the report (department and
    scenario; ``*`` is all scenarios, an empty scenario the tickets without
    one), one column per figure with its adjusted form beside it. Empty
    cells are figures with nothing to compute them over; integers are
    counts, decimals are rates, averages and seconds."""
    figures = csv_figure_columns()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*CSV_KEYS, *figures])
    for line in data.scorecards:
        writer.writerow(
            [
                data.period,
                data.start.isoformat(),
                line.department,
                _text_cell(line.department_name),
                _text_cell(line.scenario),
                *(_number_cell(line.figures.get(name)) for name in figures),
            ]
        )
    return out.getvalue()


def parse_report_csv(text: str) -> list[dict[str, Any]]:
    """Read a report CSV back: one dict per row with ``period``, ``start``
    (a date), ``department``, ``department_name``, ``scenario`` and
    ``figures`` (names to int, float or None, exactly as stored). Raises
    ValueError for a file that is not a report CSV."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        raise ValueError("The CSV is empty.") from None
    if tuple(header[: len(CSV_KEYS)]) != CSV_KEYS:
        raise ValueError(f"The CSV must start with the columns {', '.join(CSV_KEYS)}.")
    names = header[len(CSV_KEYS) :]
    unknown = sorted(set(names) - set(FIGURE_NAMES))
    if unknown:
        raise ValueError(f"Unknown figure columns: {', '.join(unknown)}.")
    rows = []
    for number, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise ValueError(f"Row {number} has {len(row)} cells, not {len(header)}.")
        period, start, department, department_name, scenario = row[: len(CSV_KEYS)]
        rows.append(
            {
                "period": period,
                "start": date.fromisoformat(start),
                "department": department,
                "department_name": _untext_cell(department_name),
                "scenario": _untext_cell(scenario),
                "figures": {
                    name: _parse_number(cell)
                    for name, cell in zip(names, row[len(CSV_KEYS) :], strict=True)
                },
            }
        )
    return rows
