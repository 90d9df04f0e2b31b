"""Charts for staff pages: server-rendered inline SVG (no script, no
external library), each with a ``<title>`` and ``<desc>`` and a text
alternative (the same figures as a table, :func:`chart_table_rows`).

The data a chart is drawn from is one plain structure, so another
renderer (PNG for emails, ``sla/chart_png.py``) draws the same chart:

``ChartData``
    ``chart_id``   a unique, HTML-id-safe name (``"dashboard-breach-rate"``);
    ``title``      what the chart shows (already translated);
    ``description`` one sentence for screen readers (already translated);
    ``kind``       how its values read: ``"rate"`` (a fraction, shown as a
                   percentage), ``"duration"`` (seconds, shown as "1h 34m"),
                   ``"score"`` (an average rating) or ``"count"``;
    ``x_labels``   one label per point along the x axis, oldest first
                   (``"03-02"`` for the week of 2 March);
    ``series``     ``ChartSeries`` (``key``: a stable key such as a
                   department code, ``label``: the legend text, ``values``:
                   one number or ``None`` per x label; ``None`` means
                   nothing was measured and breaks the line).

:func:`format_value` is how a value of each kind reads (through
:mod:`tickets.formatting`); :data:`PALETTE` is the colour of the n-th
series (Okabe-Ito: distinguishable with colour-vision deficiencies).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from sla.reports.charts import PALETTE  # one palette for pages and reports
from tickets.formatting import (
    NO_VALUE,
    format_count,
    format_duration,
    format_rate,
    format_score,
)

KINDS = ("rate", "duration", "score", "count")


WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 70, 140, 14, 40


@dataclass(frozen=True)
class ChartSeries:
    key: str
    label: str
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class ChartData:
    chart_id: str
    title: str
    description: str
    kind: str
    x_labels: tuple[str, ...]
    series: tuple[ChartSeries, ...]


def format_value(kind: str, value: float | None) -> str:
    """How a value of ``kind`` reads to a person."""
    if value is None:
        return NO_VALUE
    if kind == "rate":
        return format_rate(value)
    if kind == "duration":
        return format_duration(value)
    if kind == "score":
        return format_score(value)
    return format_count(value)


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _join(parts: Iterable[SafeString]) -> SafeString:
    # Every part was built by format_html, which escapes its arguments.
    return SafeString("".join(parts))


def _n(number: float) -> str:
    return f"{number:.1f}"


def _nice(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above
    ``value`` (positive)."""
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value - 1e-9:
            return float(step * magnitude)
    return float(10 * magnitude)  # pragma: no cover


def axis_top(kind: str, values: Iterable[float]) -> float:
    """The top of the y axis: 100% for rates up to 100%, 5 for scores,
    else a round number at or above the largest value (whole minutes or
    hours for durations)."""
    largest = max(values, default=0.0)
    if kind == "rate":
        return 1.0 if largest <= 1 else _nice(largest)
    if kind == "score":
        return 5.0
    if largest <= 0:
        return 1.0 if kind == "count" else 3600.0
    if kind == "duration":
        unit = 3600.0 if largest >= 3600 else 60.0 if largest >= 60 else 1.0
        return _nice(largest / unit) * unit
    return max(_nice(largest), 4.0)


def _y(value: float, top: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - value / top)


def _x(index: int, count: int) -> float:
    span = WIDTH - LEFT - RIGHT
    return LEFT + (index + 0.5) * span / max(count, 1)


def line_chart_svg(chart: ChartData) -> SafeString:
    """The chart as an inline ``<svg role="img">``: a line per series with
    a marker (and a ``<title>`` tooltip) per measured point, the y axis
    in the chart's kind, a legend on the right."""
    values = [v for s in chart.series for v in s.values if v is not None]
    top = axis_top(chart.kind, values)
    count = len(chart.x_labels)
    bottom = HEIGHT - BOTTOM
    parts = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" class="baton-chart" id="{}" '
            'role="img" aria-labelledby="{}-title {}-desc" viewBox="0 0 {} {}" '
            'width="{}" height="{}" font-family="sans-serif" font-size="11">'
            '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>'
            '<rect width="{}" height="{}" fill="#ffffff"/>',
            chart.chart_id,
            chart.chart_id,
            chart.chart_id,
            WIDTH,
            HEIGHT,
            WIDTH,
            HEIGHT,
            chart.chart_id,
            chart.title,
            chart.chart_id,
            chart.description,
            WIDTH,
            HEIGHT,
        )
    ]
    for step in range(5):
        value = top * step / 4
        y = _n(_y(value, top))
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#e3e3e3"/>'
                '<text x="{}" y="{}" text-anchor="end" dominant-baseline="middle" '
                'fill="#444">{}</text>',
                LEFT,
                WIDTH - RIGHT,
                y,
                y,
                LEFT - 6,
                y,
                format_value(chart.kind, value),
            )
        )
    for index, label in enumerate(chart.x_labels):
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" fill="#444">{}</text>',
                _n(_x(index, count)),
                bottom + 16,
                label,
            )
        )
    parts.append(
        format_html(
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#888"/>',
            LEFT,
            WIDTH - RIGHT,
            bottom,
            bottom,
        )
    )
    for number, series in enumerate(chart.series):
        parts.append(_series_svg(chart, series, number, top))
        row = TOP + 8 + number * 16
        parts.append(
            format_html(
                '<g class="legend"><rect x="{}" y="{}" width="10" height="10" '
                'fill="{}"/><text x="{}" y="{}" fill="#222">{}</text></g>',
                WIDTH - RIGHT + 12,
                row - 8,
                colour(number),
                WIDTH - RIGHT + 27,
                row + 1,
                series.label,
            )
        )
    parts.append(SafeString("</svg>"))
    return _join(parts)


def _series_svg(
    chart: ChartData, series: ChartSeries, number: int, top: float
) -> SafeString:
    count = len(chart.x_labels)
    parts: list[SafeString] = [
        format_html('<g class="series" data-series="{}">', series.key)
    ]
    run: list[str] = []
    for index, value in enumerate(series.values):
        if value is None:
            parts.append(_polyline(run, colour(number)))
            run = []
            continue
        x, y = _n(_x(index, count)), _n(_y(min(value, top), top))
        run.append(f"{x},{y}")
        label = chart.x_labels[index] if index < count else ""
        parts.append(
            format_html(
                '<circle cx="{}" cy="{}" r="3.5" fill="{}"><title>{}</title></circle>',
                x,
                y,
                colour(number),
                f"{series.label}, {label}: {format_value(chart.kind, value)}",
            )
        )
    parts.append(_polyline(run, colour(number)))
    parts.append(SafeString("</g>"))
    return _join(parts)


def _polyline(points: Sequence[str], stroke: str) -> SafeString:
    if len(points) < 2:
        return SafeString("")
    return format_html(
        '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>',
        " ".join(points),
        stroke,
    )


SPARK_WIDTH, SPARK_HEIGHT = 96, 24


def sparkline_svg(
    values: Sequence[float | None], *, kind: str, label: str, x_labels: Sequence[str]
) -> SafeString:
    """A small trend line (no axes) with a ``<title>`` that says every
    value, so the trend is readable without seeing it."""
    measured = [v for v in values if v is not None]
    top = axis_top(kind, measured)
    count = len(values)
    said = "; ".join(
        f"{x}: {format_value(kind, v)}" for x, v in zip(x_labels, values, strict=False)
    )
    title = _("%(label)s: %(values)s") % {"label": label, "values": said}
    points = []
    circles = []
    for index, value in enumerate(values):
        if value is None:
            continue
        x = 3 + index * (SPARK_WIDTH - 6) / max(count - 1, 1)
        y = 3 + (SPARK_HEIGHT - 6) * (1 - min(value, top) / top)
        points.append(f"{_n(x)},{_n(y)}")
        if index == count - 1:
            circles.append(
                format_html(
                    '<circle cx="{}" cy="{}" r="2.5" fill="#0072B2"/>', _n(x), _n(y)
                )
            )
    return _join(
        [
            format_html(
                '<svg xmlns="http://www.w3.org/2000/svg" class="sparkline" '
                'role="img" viewBox="0 0 {} {}" width="{}" height="{}">'
                "<title>{}</title>",
                SPARK_WIDTH,
                SPARK_HEIGHT,
                SPARK_WIDTH,
                SPARK_HEIGHT,
                title,
            ),
            format_html(
                '<polyline points="{}" fill="none" stroke="#0072B2" '
                'stroke-width="1.5"/>',
                " ".join(points),
            )
            if len(points) > 1
            else SafeString(""),
            *circles,
            SafeString("</svg>"),
        ]
    )


def chart_table_rows(chart: ChartData) -> list[tuple[str, list[str]]]:
    """The chart as text: one row per series, its values as they read
    (the header is ``chart.x_labels``)."""
    return [
        (series.label, [format_value(chart.kind, v) for v in series.values])
        for series in chart.series
    ]
