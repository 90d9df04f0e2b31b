"""A report as people read it: the standalone HTML document (the admin
page and the email's HTML part) and the email's plain-text part, in the
active language (a stored report keeps the language it was made in).
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from sla.reports.data import DISSATISFIED_MAX_SCORE, ReportData, report_date
from sla.reports.figures import (
    SCENARIO_FIGURES,
    SUMMARY_FIGURES,
    columns,
    figure_rows,
    format_figure,
    table_cells,
)
from tickets.formatting import format_instant


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
        "period_from": report_date(data.start),
        "period_to": report_date(data.last_day),
        "generated": format_instant(data.generated_at, "UTC"),
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
