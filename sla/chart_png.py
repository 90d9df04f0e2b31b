"""The report's charts as PNG images, for email.

Many mail clients drop inline SVG, so the emailed report carries each
chart as a PNG attached inline (``multipart/related``, referenced by
``cid:``) while the HTML download keeps the SVG. The PNG is drawn from
the stored report's own SVG, so the email shows exactly the charts that
were stored: :mod:`sla.reports.charts` writes a small subset of SVG
(rectangles, lines, polylines, circles and text, some of it rotated by
-90 degrees) and :func:`svg_to_png` draws that subset with Pillow. An
element it does not know is skipped, never an error.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageColor, ImageDraw, ImageFont

#: Pixels per SVG unit: the PNG is drawn at twice the size it is shown at,
#: so it stays sharp on high-density screens.
SCALE = 2
#: Fonts tried in order (the first that exists is used): CJK-capable first,
#: since department names and translated labels may be Chinese. Without any
#: of them, Pillow's own font is used.
FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/System/Library/Fonts/PingFang.ttc",
)

_SVG = "{http://www.w3.org/2000/svg}"
_CHART = re.compile(r'<svg\b[^>]*\bclass="chart"[^>]*>.*?</svg>', re.DOTALL)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True)
class Chart:
    """One chart of a report: its SVG text, its title (the image's alt
    text) and the PNG drawn from it."""

    svg: str
    title: str
    png: bytes
    width: int
    height: int


@cache
def _font(size: int) -> Font:
    for name in FONT_FILES:
        if Path(name).exists():
            try:
                return ImageFont.truetype(name, size)
            except OSError:
                continue
    return ImageFont.load_default(size=size)


def _number(value: str | None, default: float = 0.0) -> float:
    try:
        return float(value) if value is not None else default
    except ValueError:
        return default


def _colour(value: str | None) -> tuple[int, int, int] | None:
    if not value or value == "none":
        return None
    try:
        rgb = ImageColor.getrgb(value)
    except ValueError:
        return None
    return rgb[0], rgb[1], rgb[2]


def _tag(element: ET.Element) -> str:
    return element.tag.removeprefix(_SVG)


class _Painter:
    def __init__(self, width: float, height: float, font_size: float) -> None:
        self.image = Image.new(
            "RGB", (round(width * SCALE), round(height * SCALE)), "white"
        )
        self.draw = ImageDraw.Draw(self.image)
        self.font = _font(round(font_size * SCALE))

    def at(self, x: float, y: float) -> tuple[float, float]:
        return x * SCALE, y * SCALE

    def paint(self, element: ET.Element) -> None:
        tag = _tag(element)
        get = element.get
        if tag in ("svg", "g"):
            for child in element:
                self.paint(child)
        elif tag == "rect":
            fill = _colour(get("fill", "#000000"))
            x, y = _number(get("x")), _number(get("y"))
            w, h = _number(get("width")), _number(get("height"))
            if fill is not None and w > 0 and h > 0:
                self.draw.rectangle(
                    [self.at(x, y), self.at(x + w, y + h)], fill=fill, width=0
                )
        elif tag == "line":
            stroke = _colour(get("stroke"))
            if stroke is not None:
                self.draw.line(
                    [
                        self.at(_number(get("x1")), _number(get("y1"))),
                        self.at(_number(get("x2")), _number(get("y2"))),
                    ],
                    fill=stroke,
                    width=max(1, round(_number(get("stroke-width"), 1) * SCALE)),
                )
        elif tag == "polyline":
            stroke = _colour(get("stroke"))
            pairs = [p.split(",") for p in (get("points") or "").split()]
            points = [self.at(_number(a), _number(b)) for a, b, *_ in pairs]
            if stroke is not None and len(points) > 1:
                self.draw.line(
                    points,
                    fill=stroke,
                    width=max(1, round(_number(get("stroke-width"), 1) * SCALE)),
                    joint="curve",
                )
        elif tag == "circle":
            fill = _colour(get("fill", "#000000"))
            cx, cy = self.at(_number(get("cx")), _number(get("cy")))
            r = _number(get("r")) * SCALE
            if fill is not None and r > 0:
                self.draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
        elif tag == "text":
            self.text(element)

    def text(self, element: ET.Element) -> None:
        text = "".join(element.itertext()).strip()
        if not text:
            return
        get = element.get
        fill = _colour(get("fill", "#000000")) or (0, 0, 0)
        horizontal = {"middle": "m", "end": "r"}.get(get("text-anchor", ""), "l")
        vertical = "m" if get("dominant-baseline") == "middle" else "s"
        x, y = _number(get("x")), _number(get("y"))
        if (get("transform") or "").replace(" ", "") != "rotate(-90)":
            self.draw.text(
                self.at(x, y),
                text,
                fill=fill,
                font=self.font,
                anchor=horizontal + vertical,
            )
            return
        # rotate(-90): (x, y) in the rotated frame is (y, -x) on the page.
        left, top, right, bottom = self.draw.textbbox(
            (0, 0), text, font=self.font, anchor="ls"
        )
        label = Image.new("RGBA", (round(right - left) + 2, round(bottom - top) + 2))
        ImageDraw.Draw(label).text(
            (-left + 1, -top + 1), text, fill=fill, font=self.font, anchor="ls"
        )
        turned = label.rotate(90, expand=True)
        page_x, page_y = self.at(y, -x)
        offset = {"m": turned.height / 2, "r": 0.0}.get(horizontal, turned.height)
        self.image.paste(
            turned,
            (round(page_x - turned.width), round(page_y - turned.height + offset)),
            turned,
        )


def svg_to_png(svg: str) -> bytes:
    """Draw one chart's SVG (the subset :mod:`sla.reports.charts` writes)
    as a PNG. Raises ``xml.etree.ElementTree.ParseError`` for text that is
    not XML."""
    # Our own SVG (every text in it escaped by format_html): no DTD, no
    # entities to expand.
    root = ET.fromstring(svg)  # noqa: S314
    box = [_number(v) for v in (root.get("viewBox") or "").split()]
    width, height = (
        (box[2], box[3])
        if len(box) == 4
        else (_number(root.get("width"), 600), _number(root.get("height"), 300))
    )
    painter = _Painter(width, height, _number(root.get("font-size"), 11))
    painter.paint(root)
    out = io.BytesIO()
    painter.image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def report_charts(html: str) -> list[Chart]:
    """The charts of a stored report's HTML, each drawn as a PNG (a chart
    that cannot be read is left out: the HTML part still has its SVG)."""
    charts = []
    for found in _CHART.finditer(html):
        svg = found.group(0)
        try:
            root = ET.fromstring(svg)  # noqa: S314 (see svg_to_png)
            png = svg_to_png(svg)
        except (ET.ParseError, OSError, ValueError):
            continue
        title = next(("".join(t.itertext()) for t in root if _tag(t) == "title"), "")
        box = [_number(v) for v in (root.get("viewBox") or "0 0 660 280").split()]
        charts.append(Chart(svg, title, png, round(box[2]), round(box[3])))
    return charts
