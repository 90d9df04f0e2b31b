"""Template filters for how figures read (see :mod:`tickets.formatting`).

``{% load baton_format %}`` then ``{{ x|rate }}``, ``{{ s|duration }}``,
``{{ x|score }}``, ``{{ n|count }}``, ``{{ dt|instant:zone }}``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template

from tickets import formatting

register = template.Library()


@register.filter
def rate(value: Any) -> str:
    return formatting.format_rate(value)


@register.filter
def duration(value: Any) -> str:
    return formatting.format_duration(None if value in ("", None) else value)


@register.filter
def score(value: Any) -> str:
    return formatting.format_score(value)


@register.filter
def count(value: Any) -> str:
    return formatting.format_count(value)


@register.filter
def instant(value: datetime | None, zone: Any = None) -> str:
    return formatting.format_instant(value, zone or None)


@register.filter
def entry_text(entry: Any) -> str:
    """A timeline entry's text in the active language."""
    from tickets.projections.timeline import entry_text as text

    return text(entry)


@register.filter
def entry_detail(entry: Any) -> str:
    """A timeline entry's internal detail in the active language."""
    from tickets.projections.timeline import entry_detail as detail

    return detail(entry)
