"""Times as the viewer reads them: in their zone (the one rule,
:func:`tickets.preferences.viewer_timezone`), the zone named once per page.

``{% load baton_time %}`` then ``{{ value|viewer_time:request }}`` (the
instant in the viewer's zone, ``2026-03-03 10:00``),
``{{ value|viewer_time_zoned:request }}`` (with the zone named, for a
time shown alone), and ``{% viewer_zone %}`` (``Asia/Shanghai``) or
``{% times_in %}`` (``Times in Asia/Shanghai``) for the page's note.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils.translation import gettext

from tickets.formatting import NO_VALUE, format_instant
from tickets.preferences import default_timezone, viewer_timezone

register = template.Library()


def _zone_of(request: Any) -> Any:
    user = getattr(request, "user", None)
    return viewer_timezone(user) if user is not None else default_timezone()


@register.filter
def viewer_time(value: datetime | None, request: Any) -> str:
    """``value`` in the viewer's zone, without the zone (the page names it)."""
    if not isinstance(value, datetime):
        return NO_VALUE
    return format_instant(value, _zone_of(request), with_zone=False)


@register.filter
def viewer_time_zoned(value: datetime | None, request: Any) -> str:
    """``value`` in the viewer's zone, the zone named after it."""
    if not isinstance(value, datetime):
        return NO_VALUE
    return format_instant(value, _zone_of(request))


@register.simple_tag(takes_context=True)
def viewer_zone(context: Any) -> str:
    """The viewer's zone name, e.g. ``Asia/Shanghai``."""
    return str(_zone_of(context.get("request")).key)


@register.simple_tag(takes_context=True)
def times_in(context: Any) -> str:
    """The page's note: ``Times in Asia/Shanghai``."""
    return gettext("Times in %(zone)s") % {"zone": _zone_of(context.get("request")).key}
