"""What a notification email says: its subject, plain text and HTML, one
template pair per kind under ``tickets/templates/tickets/mail/``.

Rendering happens when the outbox row is written (the projection), except
the customer's ticket link: the link is a secret derived from
SECRET_KEY, so the stored row holds a marker (``[[baton-link:<kind>:<step>]]``)
and the sender puts the link (or "ask us for a new link") in its place
(:func:`insert_customer_link`). The database alone never gives a link
away.

Every text is rendered in the recipient's language (:func:`language_for`:
the site language for now; a per-user or per-customer language plugs in
there).
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

#: The customer link's place in a stored customer email.
LINK_MARKER = re.compile(r"\[\[baton-link:([a-z_]+):(\d+)\]\]")


def language_for(recipient: str) -> str:
    """The language of the emails ``recipient`` gets (one place to plug
    per-user or per-customer languages in)."""
    return str(settings.LANGUAGE_CODE)


def link_marker(kind: str, step: int = 0) -> str:
    return f"[[baton-link:{kind}:{step}]]"


def without_markers(text: str) -> str:
    """User-written text with anything that looks like a link marker
    removed, so only Baton's own markers are replaced."""
    return LINK_MARKER.sub("", text)


def public_url(path: str) -> str:
    return str(settings.BATON_PUBLIC_URL).rstrip("/") + path


def staff_ticket_url(ticket_id: UUID) -> str:
    """The admin ticket page (staff), absolute under BATON_PUBLIC_URL."""
    return public_url(reverse("admin:tickets_queueticket_change", args=[ticket_id]))


def zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def local_time(value: datetime | None, timezone_name: str) -> str:
    """``value`` in the named timezone, with the zone named: e.g.
    ``Tue 3 Mar 2026 14:00 (Europe/Paris)``."""
    if value is None:
        return ""
    tz = zone(timezone_name)
    return f"{value.astimezone(tz):%a %-d %b %Y %H:%M} ({tz.key})"


#: The longest subject Baton sends.
SUBJECT_MAX = 300
#: The context values that subjects show (kept to one line: a newline in
#: one would cut the subject short and push the rest into the body).
SUBJECT_VALUES = ("ticket_subject", "department", "from_department")


def one_line(text: str, limit: int = SUBJECT_MAX) -> str:
    """``text`` fit for an email header: every run of whitespace (newlines
    included, which Django refuses in headers) collapsed to one space, at
    most ``limit`` characters. Every email Baton sends has its subject
    made by this (notifications, SLA alerts)."""
    return " ".join(text.split())[:limit]


def render(
    kind: str, context: Mapping[str, Any], *, language: str
) -> tuple[str, str, str]:
    """The (subject, text, html) of a ``kind`` email. Each template pair
    starts with ``{% load i18n %}``; the subject is the text template's
    first line (``Subject: ...``)."""
    values = dict(context)
    for name in SUBJECT_VALUES:
        if isinstance(values.get(name), str):
            values[name] = one_line(values[name])
    with translation.override(language):
        text = render_to_string(f"tickets/mail/{kind}.txt", values)
        html = render_to_string(f"tickets/mail/{kind}.html", values)
    first, _newline, body = text.lstrip().partition("\n")
    subject = one_line(first.removeprefix("Subject:"))
    return subject, body.strip() + "\n", html.strip() + "\n"


def insert_customer_link(
    text: str, html: str, link: str | None, *, language: str
) -> tuple[str, str]:
    """Put the customer's link (absolute) where the markers are, or the
    sentence asking for a new one when the ticket has no usable link."""

    def snippet(match: re.Match[str], fmt: str) -> str:
        kind, step = match.group(1), int(match.group(2))
        context = {
            "link": link,
            "kind": kind,
            "step_link": f"{link}#step-{step}" if link and step else "",
        }
        with translation.override(language):
            return render_to_string(
                f"tickets/mail/customer_link.{fmt}", context
            ).strip()

    return (
        LINK_MARKER.sub(lambda m: snippet(m, "txt"), text),
        LINK_MARKER.sub(lambda m: snippet(m, "html"), html),
    )
