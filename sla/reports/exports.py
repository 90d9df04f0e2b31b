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
