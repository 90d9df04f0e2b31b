"""The emailed report shows its charts in every mail client: each chart
travels as an inline PNG (``multipart/related``, referenced by ``cid:``
from the HTML part), drawn from the stored report's SVG; the stored HTML
(the admin's download) keeps the SVG, and the text part and the CSV
attachment stay."""

from __future__ import annotations

import io
import re
from typing import Any

from django.core import mail
from PIL import Image

from sla.chart_png import SCALE, report_charts, svg_to_png
from sla.report_services import reports_generate_and_send
from sla.reports import PALETTE
from tests.helpers import Org
from tests.sla.test_reports import W3, history  # noqa: F401 -- the fixture

SVG_HEAD = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 50" '


def rgb(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def parts(message: Any) -> list[Any]:
    """Every MIME part (typed loosely: payloads are str, bytes or parts)."""
    return list(message.walk())


def test_svg_shapes_are_drawn_where_the_svg_puts_them() -> None:
    png = svg_to_png(
        SVG_HEAD + 'width="100" height="50" font-size="11">'
        '<rect width="100" height="50" fill="#ffffff"/>'
        '<rect x="10" y="10" width="20" height="20" fill="#D55E00">'
        "<title>a tooltip, not drawn</title></rect>"
        '<circle cx="70" cy="20" r="5" fill="#0072B2"/>'
        '<text x="50" y="45" text-anchor="middle" fill="#000000">Wk 1</text>'
        "</svg>"
    )
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (100 * SCALE, 50 * SCALE)
    assert image.getpixel((20 * SCALE, 20 * SCALE)) == rgb("#D55E00")
    assert image.getpixel((70 * SCALE, 20 * SCALE)) == rgb("#0072B2")
    assert image.getpixel((5 * SCALE, 5 * SCALE)) == (255, 255, 255)
    # The label is drawn (dark pixels) around its anchor, below the shapes.
    label = image.crop((35 * SCALE, 36 * SCALE, 65 * SCALE, 50 * SCALE))
    extrema: Any = label.getextrema()
    assert min(low for low, _ in extrema) < 100


def test_the_report_email_carries_each_chart_as_an_inline_png(
    history: Org,  # noqa: F811
) -> None:
    run = reports_generate_and_send(start=W3)
    summary = run.reports[0]
    assert summary.department == "" and summary.html.count('class="chart"') == 3
    [email] = [m for m in mail.outbox if "Service team summary" in m.subject]
    message = email.message()
    assert message.get_content_type() == "multipart/mixed"
    [alternative] = [
        p for p in parts(message) if p.get_content_type() == "multipart/alternative"
    ]
    [related] = [
        p for p in parts(alternative) if p.get_content_type() == "multipart/related"
    ]
    inner: Any = related.get_payload()
    assert isinstance(inner, list)
    html_part, *images = inner
    assert html_part.get_content_type() == "text/html"
    assert [p.get_content_type() for p in images] == ["image/png"] * 3
    html = html_part.get_payload(decode=True).decode()
    # Every image is referenced from the HTML by its Content-ID, in order,
    # and no chart is left as SVG for clients that would drop it.
    content_ids = [p["Content-ID"].strip("<>") for p in images]
    assert re.findall(r'src="cid:([^"]+)"', html) == content_ids
    assert "<svg" not in html
    titles = re.findall(r'<img src="cid:[^"]+" alt="([^"]*)"', html)
    assert titles == ["Breach rate", "Average rating", "Handoffs received"]
    # Each PNG is the stored chart drawn: its size, its series colours.
    stored = report_charts(summary.html)
    for part, chart in zip(images, stored, strict=True):
        png: Any = part.get_payload(decode=True)
        assert png == chart.png
        image = Image.open(io.BytesIO(png)).convert("RGB")
        assert image.size == (chart.width * SCALE, chart.height * SCALE)
        colours = {c for _, c in image.getcolors(maxcolors=1 << 20) or []}
        assert rgb(PALETTE[0]) in colours  # the first department's series
    # The text part and the CSV attachment are still there.
    plain = [p for p in parts(message) if p.get_content_type() == "text/plain"]
    assert (
        plain and "Service team summary" in plain[0].get_payload(decode=True).decode()
    )
    [csv] = [p for p in parts(message) if p.get_content_type() == "text/csv"]
    assert csv.get_filename() == "baton-scorecards-week-2026-03-16-summary.csv"
    # The admin's download keeps the SVG.
    assert summary.html.count("<svg") == 3


def test_a_department_report_email_has_its_own_charts(history: Org) -> None:  # noqa: F811
    reports_generate_and_send(start=W3)
    [email] = [m for m in mail.outbox if "Finance (FIN)" in m.subject]
    pngs = [p for p in parts(email.message()) if p.get_content_type() == "image/png"]
    assert len(pngs) == 3
    assert all(p["Content-Disposition"].startswith("inline") for p in pngs)
