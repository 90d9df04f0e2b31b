"""What a notification email says: its subject, plain text and HTML, one
template pair per kind under ``tickets/templates/tickets/mail/``.

Rendering happens when the outbox row is written (the projection), except
the customer's ticket link: the link is a secret derived from
SECRET_KEY, so the stored row holds a marker (``[[baton-link:<kind>:<step>]]``)
and the sender puts the link (or "ask us for a new link") in its place
(:func:`insert_customer_link`). The database alone never gives a link
away.

Every text is rendered in the recipient's language: a customer's is the
ticket's (chosen when it was opened, :func:`customer_language`), a staff
member's is the one they chose under "My settings"
(:func:`staff_language`); either falls back to ``LANGUAGE_CODE``. Times
are written in that language too (:func:`local_time`).
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy, pgettext

from tickets import languages

#: The customer link's place in a stored customer email.
LINK_MARKER = re.compile(r"\[\[baton-link:([a-z_]+):(\d+)\]\]")


def default_language() -> str:
    return languages.default_language()


def customer_language(ticket_language: str | None) -> str:
    """The language of a customer's emails: the ticket's (as of the event
    being notified), else ``LANGUAGE_CODE`` (tickets.languages' rule)."""
    return languages.customer_language(str(ticket_language or ""))


def ticket_language(ticket_id: UUID) -> str:
    """The language of the ticket's customer, from its summary (blank:
    ``LANGUAGE_CODE``)."""
    from tickets.models import TicketSummary

    chosen = (
        TicketSummary.objects.filter(ticket_id=ticket_id)
        .values_list("language", flat=True)
        .first()
    )
    return customer_language(chosen)


def staff_languages(user_ids: Iterable[int | None]) -> dict[int, str]:
    """The email language of each staff member (their "My settings"
    choice, else ``LANGUAGE_CODE``), in one query."""
    from tickets.models import NotificationSettings

    ids = {i for i in user_ids if i is not None}
    chosen = dict(
        NotificationSettings.objects.filter(user_id__in=ids).values_list(
            "user_id", "language"
        )
        if ids
        else ()
    )
    return {i: languages.supported(chosen.get(i)) or default_language() for i in ids}


def staff_language(user_id: int | None) -> str:
    """The email language of one staff member (None: a shared department
    address, which gets ``LANGUAGE_CODE``)."""
    if user_id is None:
        return default_language()
    return staff_languages([user_id])[user_id]


#: A ticket's priority as a reader of the email's language says it.
PRIORITY_WORDS: dict[str, Promise] = {
    "low": gettext_lazy("low"),
    "normal": gettext_lazy("normal"),
    "high": gettext_lazy("high"),
    "urgent": gettext_lazy("urgent"),
}


def priority_word(priority: str) -> Promise | str:
    """The priority, translated when the email is rendered (the code
    itself for a priority this table does not know)."""
    return PRIORITY_WORDS.get(priority, priority)


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


@dataclass(frozen=True)
class LocalTime:
    """An instant shown in a timezone, written in the language active when
    it is turned into text (so a context built once renders in each
    recipient's language): ``Tue 3 Mar 2026 14:00 (Europe/Paris)``,
    ``2026年3月3日 星期二 14:00 (Europe/Paris)``."""

    value: datetime
    tz: zoneinfo.ZoneInfo

    def __str__(self) -> str:
        # Translators: a date format (Django's "date" filter letters), e.g.
        # "Y年n月j日 D H:i". Keep it short: it is used in email sentences.
        fmt = pgettext("email date and time", "D j M Y H:i")
        text = dateformat.format(self.value.astimezone(self.tz), fmt)
        return pgettext("time with its timezone", "%(time)s (%(zone)s)") % {
            "time": text,
            "zone": self.tz.key,
        }


def local_time(value: datetime | None, timezone_name: str) -> LocalTime | str:
    """``value`` in the named timezone, with the zone named: e.g.
    ``Tue 3 Mar 2026 14:00 (Europe/Paris)`` in English (written in the
    language active when it becomes text)."""
    if value is None:
        return ""
    return LocalTime(value, zone(timezone_name))


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
