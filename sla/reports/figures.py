"""How a report's figures read: counts as they are, rates as percentages,
scores to two decimals, durations through the one duration formatter
(:func:`tickets.durations.format_duration`); and the tables' columns and
cells built from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sla.reports.data import ScorecardLine
from sla.scorecards import COUNTS, FIGURE_NAMES, figure_label
from tickets.durations import format_duration

NO_VALUE = "\u2013"  # en dash


def figure_kind(name: str) -> str:
    """How a figure reads: count, percent, score or duration."""
    if name in COUNTS:
        return "count"
    if "seconds" in name:
        return "duration"
    if "score" in name:
        return "score"
    return "percent"


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
    "stalled",
    "abandoned",
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
    "abandoned",
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
    "stalled": "Stalled",
    "abandoned": "Abandoned",
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
