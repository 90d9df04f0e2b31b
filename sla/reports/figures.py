"""How a report's figures read, through the one formatting module
(:mod:`tickets.formatting`): counts grouped, rates as percentages, scores
to two decimals, durations as "1h 34m"; and the tables' columns and cells
built from them. The scorecard admin pages read figures through
:func:`format_figure` too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext, gettext_lazy, gettext_noop

from sla.reports.data import ScorecardLine
from sla.scorecards import COUNTS, FIGURE_NAMES, figure_label
from tickets.formatting import NO_VALUE as NO_VALUE
from tickets.formatting import (
    format_count,
    format_duration,
    format_rate,
    format_score,
)


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
        return format_count(value)
    if kind == "duration":
        return format_duration(float(value))
    if kind == "score":
        return format_score(value)
    return format_rate(value)


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
    "received": gettext_lazy("Received"),
    "decided": gettext_lazy("Promises decided"),
    "breached": gettext_lazy("Breached"),
    "breach_rate": gettext_lazy("Breach rate"),
    "median_response_seconds": gettext_lazy("Median first response"),
    "p90_response_seconds": gettext_lazy("90th pct first response"),
    "ratings": gettext_lazy("Ratings"),
    "average_score": gettext_lazy("Average rating"),
    "dissatisfied": gettext_lazy("Dissatisfied"),
    "responded": gettext_lazy("Responded"),
    "finished": gettext_lazy("Finished"),
    "reopened": gettext_lazy("Reopened"),
    "bounced": gettext_lazy("Bounced"),
    "ping_pong": gettext_lazy("Ping-pong"),
    "stalled": gettext_lazy("Stalled"),
    "abandoned": gettext_lazy("Abandoned"),
    "disputes_open": gettext_lazy("Open disputes"),
}


#: The shown forms of the labels that carry a unit (``display_label``
#: strips it), so that the catalogue has them too.
UNITLESS_LABELS = (
    gettext_noop("Median business time to first response"),
    gettext_noop("90th percentile business time to first response"),
)


def display_label(name: str) -> str:
    """The figure's label without its unit (values are shown formatted),
    in the active language: the labels are written in
    :mod:`sla.scorecards` and the catalogue translates them (one it does
    not know reads as written)."""
    return gettext(figure_label(name).removesuffix(" (s)"))


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    title: str
    adjusted: str | None


def columns(names: Sequence[str]) -> list[Column]:
    return [
        Column(
            n,
            str(SHORT_LABELS.get(n) or display_label(n)),
            display_label(n),
            adjusted_name(n),
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
