"""A report as a spreadsheet: the CSV of every stored scorecard in the
report (raw numbers: counts, rates, averages and seconds, never formatted
text), and reading such a CSV back.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any

from sla.problems import ProblemsReport
from sla.reports.data import ReportData
from sla.reports.figures import adjusted_name
from sla.scorecards import FIGURE_NAMES

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


# -- the Problems view ----------------------------------------------------------

PROBLEM_CSV_KEYS = (
    "period_start",
    "period_end",
    "scenario",
    "root_cause",
    "product_area",
    "resolutions",
    "tickets",
    "previous_resolutions",
    "departments",
    "issue_url",
    "issue_title",
    "shipped_on",
    "effect_weeks",
    "before_tickets",
    "after_tickets",
    "before_tickets_per_week",
    "after_tickets_per_week",
    "before_ratings",
    "after_ratings",
    "before_dissatisfied",
    "after_dissatisfied",
    "before_dissatisfied_share",
    "after_dissatisfied_share",
    "example_tickets",
)
_WEEK_PREFIX = "week_"
_PROBLEM_TEXT = {
    "scenario",
    "root_cause",
    "product_area",
    "departments",
    "issue_url",
    "issue_title",
    "example_tickets",
}


def problems_csv(report: ProblemsReport) -> str:
    """One row per problem of the Problems view, in its order: the key,
    the volumes, the departments that resolved it (``FIN 3; PROD 1``), the
    linked issue, the effect of a shipped fix (empty cells: no fix shipped,
    or nothing to compute over), the example tickets' ids, then one column
    per ISO week of the period (``week_<its Monday>``) with the resolutions
    that week. The period's last day is ``period_end`` (inclusive)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    weeks = [f"{_WEEK_PREFIX}{w.isoformat()}" for w in report.weeks]
    writer.writerow([*PROBLEM_CSV_KEYS, *weeks])
    for p in report.problems:
        link, e = p.link, p.effect
        windows = (e.before, e.after) if e is not None else (None, None)

        def both(name: str, windows: tuple[Any, Any] = windows) -> list[Any]:
            return [getattr(w, name) if w is not None else None for w in windows]

        row: list[Any] = [
            report.start.isoformat(),
            report.last_day.isoformat(),
            _text_cell(p.key.scenario),
            p.key.root_cause,
            _text_cell(p.key.product_area),
            p.volume,
            p.tickets,
            p.previous,
            "; ".join(f"{code} {n}" for code, n in p.departments),
            _text_cell(link.url) if link is not None else "",
            _text_cell(link.title) if link is not None else "",
            link.shipped_on.isoformat() if link and link.shipped_on else "",
            e.weeks if e is not None else None,
            *both("tickets"),
            *both("weekly_tickets"),
            *both("ratings"),
            *both("dissatisfied"),
            *both("dissatisfied_share"),
            " ".join(str(t) for t in p.examples),
            *p.weekly,
        ]
        writer.writerow(
            [cell if isinstance(cell, str) else _number_cell(cell) for cell in row]
        )
    return out.getvalue()


def parse_problems_csv(text: str) -> list[dict[str, Any]]:
    """Read a Problems CSV back: one dict per row, numbers as int or float
    (None for empty cells), texts as written, and ``weekly`` mapping each
    week's Monday to its count. Raises ValueError for another file."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        raise ValueError("The CSV is empty.") from None
    if tuple(header[: len(PROBLEM_CSV_KEYS)]) != PROBLEM_CSV_KEYS:
        raise ValueError("This is not a Problems CSV.")
    weeks = [
        date.fromisoformat(h.removeprefix(_WEEK_PREFIX))
        for h in header[len(PROBLEM_CSV_KEYS) :]
    ]
    rows = []
    for number, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise ValueError(f"Row {number} has {len(row)} cells, not {len(header)}.")
        values: dict[str, Any] = {}
        for name, cell in zip(PROBLEM_CSV_KEYS, row, strict=False):
            if name in ("period_start", "period_end"):
                values[name] = date.fromisoformat(cell)
            elif name == "shipped_on":
                values[name] = date.fromisoformat(cell) if cell else None
            elif name in _PROBLEM_TEXT:
                values[name] = _untext_cell(cell)
            else:
                values[name] = _parse_number(cell)
        values["weekly"] = {
            week: int(cell)
            for week, cell in zip(weeks, row[len(PROBLEM_CSV_KEYS) :], strict=True)
        }
        rows.append(values)
    return rows
