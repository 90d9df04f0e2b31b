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
labels; every text in them is escaped. Everything a report says is marked for
translation: a report is written in the active language when it is made
and stored as made.

The modules, in the order a report is made (each imports only those
before it, except that :mod:`~sla.reports.data` attaches the charts):

* :mod:`sla.reports.data`: gathering a period's stored scorecards into a
  :class:`ReportData` (:func:`report_data`), rankings, dissatisfied
  ratings, trends;
* :mod:`sla.reports.figures`: how a figure reads (:func:`format_figure`,
  through :mod:`tickets.formatting`: percentages, "1h 34m", two-decimal
  scores) and the tables' columns and cells;
* :mod:`sla.reports.charts`: the SVG line and bar charts
  (:func:`trend_charts`); the email carries them as PNG
  (:mod:`sla.chart_png`);
* :mod:`sla.reports.render`: the HTML document and the email's plain
  text (:func:`render_report_html`, :func:`render_report_text`);
* :mod:`sla.reports.exports`: the CSV (:func:`report_csv`) and reading
  it back (:func:`parse_report_csv`); the Problems view's CSV
  (:func:`problems_csv`, :func:`parse_problems_csv`).

Every report also lists the period's problems (root causes of the tickets
resolved in it, :mod:`sla.problems`).

Storing and emailing reports is :mod:`sla.report_services`; the admin
pages are :mod:`sla.report_admin`. Every name below is importable from
``sla.reports`` itself.
"""

from sla.reports.charts import (
    BOTTOM,
    HEIGHT,
    LEFT,
    PALETTE,
    PERIOD_NOUNS,
    RIGHT,
    TOP,
    WIDTH,
    Series,
    bar_chart,
    line_chart,
    nice_ceiling,
    sparkline,
    trend_charts,
)
from sla.reports.data import (
    DISSATISFIED_MAX_SCORE,
    MIN_SCENARIO_VOLUME,
    WORST_SCENARIOS,
    DissatisfiedRating,
    Ranked,
    ReportData,
    ScorecardLine,
    TrendSeries,
    period_title,
    report_data,
    scenario_label,
    trend_starts,
)
from sla.reports.exports import (
    CSV_KEYS,
    PROBLEM_CSV_KEYS,
    csv_figure_columns,
    parse_problems_csv,
    parse_report_csv,
    problems_csv,
    report_csv,
)
from sla.reports.figures import (
    NO_VALUE,
    SCENARIO_FIGURES,
    SHORT_LABELS,
    SUMMARY_FIGURES,
    Column,
    adjusted_name,
    columns,
    display_label,
    figure_kind,
    figure_rows,
    format_figure,
    table_cells,
)
from sla.reports.render import render_report_html, render_report_text

__all__ = [
    "BOTTOM",
    "CSV_KEYS",
    "DISSATISFIED_MAX_SCORE",
    "HEIGHT",
    "LEFT",
    "MIN_SCENARIO_VOLUME",
    "NO_VALUE",
    "PALETTE",
    "PERIOD_NOUNS",
    "PROBLEM_CSV_KEYS",
    "RIGHT",
    "SCENARIO_FIGURES",
    "SHORT_LABELS",
    "SUMMARY_FIGURES",
    "TOP",
    "WIDTH",
    "WORST_SCENARIOS",
    "Column",
    "DissatisfiedRating",
    "Ranked",
    "ReportData",
    "ScorecardLine",
    "Series",
    "TrendSeries",
    "adjusted_name",
    "bar_chart",
    "columns",
    "csv_figure_columns",
    "display_label",
    "figure_kind",
    "figure_rows",
    "format_figure",
    "line_chart",
    "nice_ceiling",
    "parse_problems_csv",
    "parse_report_csv",
    "period_title",
    "problems_csv",
    "render_report_html",
    "render_report_text",
    "report_csv",
    "report_data",
    "scenario_label",
    "sparkline",
    "table_cells",
    "trend_charts",
    "trend_starts",
]
