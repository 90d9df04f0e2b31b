"""What the customer sees, and their access link.

``customer_view`` builds the one customer-facing description of a ticket,
used by the page at ``/t/<token>/``, the public JSON for customer apps and
the staff/integrator timeline endpoint, so the three never disagree. It
reads only customer-audience timeline entries, stints and clocks: internal
notes, internal reasons and staff surnames cannot appear.
"""

from __future__ import annotations

import base64
import secrets
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import dateformat
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext, pgettext, pgettext_lazy

from tickets import attachments, clock, rate_limit, sla_clocks
from tickets.domain import ActorKind, Principal, Ticket, TicketNotFound
from tickets.durations import format_duration
from tickets.event_format import event_name
from tickets.models import (
    CustomerAccess,
    Handoff,
    SLAClock,
    TicketSummary,
    TimelineEntry,
)
from tickets.models.integrations import hash_token
from tickets.projections.timeline import entry_text
from tickets.services import principal_for_customer

LINK_PATH = "/t/{token}/"
REPLY_TYPES = {
    event_name(event)
    for event in (
        Ticket.Responded,
        Ticket.CustomerReplied,
        Ticket.WaitingOnCustomer,
        Ticket.Resolved,
        Ticket.Reopened,
    )
}


# ---------------------------------------------------------------------------
# Links
# ---------------------------------------------------------------------------


def token_from_salt(salt: str) -> str:
    """The link token of a link's ``salt``: an HMAC under SECRET_KEY, so
    the database alone (which keeps the salt and the token's hash) never
    gives a link away, while the notification emails can carry it.
    Rotating SECRET_KEY ends every such link (issue new ones)."""
    digest = salted_hmac("baton.customer-link", salt, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def customer_link_issue(
    *, ticket_id: UUID, issued_by: str, expires_at: datetime | None = None
) -> str:
    """Issue a new link (revoking the previous ones); returns the token,
    which is not stored (only its hash and the salt it is derived from)."""
    salt = secrets.token_hex(16)
    token = token_from_salt(salt)
    now = clock.now()
    with transaction.atomic():
        CustomerAccess.objects.filter(
            ticket_id=ticket_id, revoked_at__isnull=True
        ).update(revoked_at=now)
        CustomerAccess.objects.create(
            ticket_id=ticket_id,
            token_hash=hash_token(token),
            salt=salt,
            created_at=now,
            created_by=issued_by[:200],
            expires_at=expires_at,
        )
    return token


def customer_link_for_mail(ticket_id: UUID) -> str | None:
    """The ticket's current customer link (its path) for a notification
    email, or None when it has no usable link that can be re-derived
    (revoked by staff, expired, or issued before links had salts): an
    email then says to ask for a new link rather than issue one that
    would revoke what staff gave the customer."""
    access = (
        CustomerAccess.objects.usable(clock.now())
        .filter(ticket_id=ticket_id)
        .exclude(salt="")
        .order_by("-created_at")
        .first()
    )
    if access is None:
        return None
    return customer_link_path(token_from_salt(access.salt))


def customer_link_revoke(*, ticket_id: UUID) -> int:
    return CustomerAccess.objects.filter(
        ticket_id=ticket_id, revoked_at__isnull=True
    ).update(revoked_at=clock.now())


def customer_link_path(token: str) -> str:
    return LINK_PATH.format(token=token)


def ticket_for_token(token: str) -> TicketSummary:
    """The ticket a usable link opens; ``TicketNotFound`` for a wrong,
    revoked or expired link (the same answer for all three)."""
    if not token or len(token) > 100:
        raise TicketNotFound("No such link.")
    access = (
        CustomerAccess.objects.usable(clock.now())
        .filter(token_hash=hash_token(token))
        .select_related("ticket")
        .first()
    )
    if access is None:
        raise TicketNotFound("No such link.")
    return access.ticket


FAILURE_WINDOW_SECONDS = 600


def client_ip(request: Any) -> str:
    """The caller's address: REMOTE_ADDR, or, behind NUM_PROXIES trusted
    proxies, the address they saw (never a client-supplied header)."""
    proxies = int(str(settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0))
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return str(hops[-min(proxies, len(hops))])
    return str(request.META.get("REMOTE_ADDR", "unknown"))


def record_failure(request: Any) -> int | None:
    """Count a wrong link from the caller's address. Returns the seconds
    to wait (answer 429 with ``Retry-After``) once the address has had
    more than ``BATON_CUSTOMER_LINK_FAILURES`` wrong links in
    ``FAILURE_WINDOW_SECONDS``, else None (answer the plain 404).

    Call it only after a lookup failed: a valid link always opens, so
    guesses from a shared address (a proxy, a NAT) cannot lock its
    customers out.
    """
    limit = int(getattr(settings, "BATON_CUSTOMER_LINK_FAILURES", 20))
    failures = rate_limit.hit(
        f"link-failures:{client_ip(request)}", FAILURE_WINDOW_SECONDS
    )
    return failures.retry_after if failures.count > limit else None


def customer_principal(ticket: TicketSummary) -> Principal:
    """The ticket's customer, acting through their link."""
    return principal_for_customer(
        customer_ref=ticket.customer_ref, name=ticket.customer_name
    )


# ---------------------------------------------------------------------------
# The customer's view
# ---------------------------------------------------------------------------


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def local_text(value: datetime | None, zone: zoneinfo.ZoneInfo, now: datetime) -> str:
    """An instant as the customer reads it, in ``zone`` and the active
    language: 'Tuesday 14:00' (星期二 14:00) within the coming week, else
    'Tue 3 Mar 2026 14:00' (2026年3月3日 星期二 14:00)."""
    if value is None:
        return ""
    local = value.astimezone(zone)
    if timedelta(0) <= value - now < timedelta(days=6):
        # Translators: a date format (Django's "date" filter letters) for a
        # time within the coming week: weekday and time, e.g. Tuesday 14:00.
        shape = pgettext("customer page: date format", "l H:i")
    else:
        # Translators: a date format (Django's "date" filter letters) for
        # any other time, e.g. Tue 3 Mar 2026 14:00 (zh: Y年n月j日 D H:i).
        shape = pgettext("customer page: date format", "D j M Y H:i")
    return dateformat.format(local, shape)


def _from_customer(entry: TimelineEntry) -> bool:
    # A customer's message is theirs even when a channel relayed it.
    return (
        entry.event_type == event_name(Ticket.CustomerReplied)
        or entry.actor_kind == ActorKind.CUSTOMER
    )


def staff_display_name(actor_short_name: str, department_name: str) -> str:
    """A staff member as customers see them (their page and their emails):
    the first name, or "<department> team" when BATON_CUSTOMER_STAFF_NAMES
    is "role" or the name is unknown."""
    team = gettext("%(department)s team") % {"department": department_name}
    if getattr(settings, "BATON_CUSTOMER_STAFF_NAMES", "first_name") == "role":
        return team
    return actor_short_name or team


def _author(entry: TimelineEntry, department_name: str) -> str:
    if _from_customer(entry):
        return gettext("You")
    return staff_display_name(entry.actor_short_name, department_name)


@dataclass(frozen=True)
class Promise:
    """What the page says first: the ticket's state as a sentence (who has
    it and by when, what we need from the customer, or how it ended), and
    a second line with the context (``since``)."""

    sentence: str
    due_at: datetime | None
    overdue: bool
    since: str = ""


def _asked(entries: list[TimelineEntry]) -> TimelineEntry | None:
    return next(
        (
            e
            for e in reversed(entries)
            if e.event_type == event_name(Ticket.WaitingOnCustomer)
        ),
        None,
    )


def _promise(
    ticket: TicketSummary,
    clocks: list[Any],
    zone: zoneinfo.ZoneInfo,
    now: datetime,
    entries: list[TimelineEntry],
) -> Promise:
    """The state, worded for the customer: resolved, closed (abandoned or
    not), waiting on them, or with a department (and its promise)."""
    since = local_text(ticket.owner_since, zone, now)
    name = ticket.owner_name
    parts = {"department": name, "since": since}
    if ticket.status == "waiting":
        asked = _asked(entries)
        when = local_text(asked.occurred_at if asked else ticket.owner_since, zone, now)
        context = gettext("%(department)s is waiting for your reply.") % parts
        if asked is not None and asked.body:
            sentence = gettext(
                "%(department)s needs from you: %(request)s (asked %(when)s)."
            ) % {"department": name, "request": asked.body, "when": when}
            return Promise(sentence, None, False, context)
        sentence = gettext("We are waiting for your reply since %(when)s.") % {
            "when": when
        }
        return Promise(sentence, None, False, context)
    if ticket.status == "resolved":
        when = local_text(ticket.resolved_at, zone, now)
        sentence = gettext("Resolved on %(when)s, by %(department)s.") % {
            "when": when,
            "department": name,
        }
        context = gettext(
            "If it is not solved for you, write to us below and we will pick "
            "it up again."
        )
        return Promise(sentence, None, False, context)
    if ticket.status == "closed":
        when = local_text(ticket.closed_at, zone, now)
        if _abandoned(ticket):
            sentence = gettext("Closed on %(when)s: we did not hear back from you.") % {
                "when": when
            }
        elif ticket.resolved_at is not None:
            sentence = gettext("Resolved and closed on %(when)s.") % {"when": when}
        else:
            sentence = gettext("Closed on %(when)s.") % {"when": when}
        context = gettext(
            "This request is closed. For anything new, please contact us again."
        )
        return Promise(sentence, None, False, context)
    context = gettext("%(department)s has had your request since %(since)s.") % parts
    states = {c.id: sla_clocks.state_of(c, now) for c in clocks}
    running = {sla_clocks.ON_TRACK, sla_clocks.AT_RISK, sla_clocks.BREACHED}
    response = next(
        (
            c
            for c in clocks
            if c.kind == "response"
            and c.handoff_id == ticket.current_stint_id
            and states[c.id] in running
        ),
        None,
    )
    if response is not None:
        due = local_text(response.due_at, zone, now)
        if states[response.id] == sla_clocks.BREACHED:
            return Promise(
                gettext(
                    "%(department)s promised to reply by %(due)s. That time has "
                    "passed and the delay is being followed up."
                )
                % {"department": name, "due": due},
                response.due_at,
                True,
                context,
            )
        return Promise(
            gettext("%(department)s will reply by %(due)s.")
            % {"department": name, "due": due},
            response.due_at,
            False,
            context,
        )
    ticket_clock = next(
        (c for c in clocks if c.handoff_id is None and states[c.id] in running), None
    )
    if ticket_clock is not None:
        due = local_text(ticket_clock.due_at, zone, now)
        return Promise(
            gettext("%(department)s has your request. We aim to resolve it by %(due)s.")
            % {"department": name, "due": due},
            ticket_clock.due_at,
            states[ticket_clock.id] == sla_clocks.BREACHED,
            context,
        )
    # No promise to make: the sentence says it all.
    return Promise(
        gettext("%(department)s has had your request since %(since)s.") % parts,
        None,
        False,
    )


def _abandoned(ticket: TicketSummary) -> bool:
    """Whether the ticket was closed because the customer did not answer."""
    return Handoff.objects.filter(
        ticket_id=ticket.ticket_id, outcome=Handoff.Outcome.ABANDONED
    ).exists()


# ---------------------------------------------------------------------------
# Which departments the customer is asked to rate
# ---------------------------------------------------------------------------

#: A stint handed on sooner than this, with nothing said to the customer,
#: merely forwarded the ticket (see :func:`merely_forwarded`).
FORWARD_WITHIN = timedelta(minutes=15)


def merely_forwarded(stint: Handoff, *, wrote_to_customer: bool) -> bool:
    """The rule for what the page asks the customer to rate: a stint that
    handed the ticket on within :data:`FORWARD_WITHIN` of receiving it,
    without a public reply or a message to the customer, only forwarded
    it (a triage hop, the 0-minute legs of a ping-pong) and is not rated
    on its own. A stint that took longer, or wrote to the customer, or
    resolved the ticket, worked on it."""
    if wrote_to_customer or stint.first_response_at is not None:
        return False
    if stint.outcome != Handoff.Outcome.HANDED_ON or stint.ended_at is None:
        return False
    return stint.ended_at - stint.started_at < FORWARD_WITHIN


@dataclass(frozen=True)
class RatingQuestion:
    """One question of the page: how a department did, asked once per
    department that worked on the ticket, about its last worked stint;
    ``rating`` when the customer already rated one of its stints."""

    department: str
    handoff_id: UUID
    rating: dict[str, Any] | None
    can_rate: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "department": self.department,
            "handoff_id": self.handoff_id,
            "rating": self.rating,
            "can_rate": self.can_rate,
        }


def rating_questions(
    stints: list[Handoff], wrote: dict[UUID, bool], *, closed: bool
) -> list[RatingQuestion]:
    """The departments to ask about, in the order they first worked on the
    ticket: each department whose stints include work (not
    :func:`merely_forwarded`), asked about its last worked stint once that
    stint is finished; a department already rated shows its rating and is
    not asked again. (The domain accepts a rating per finished stint; this
    is what the page offers.)"""
    worked: dict[str, list[Handoff]] = {}
    for stint in stints:
        if not merely_forwarded(stint, wrote_to_customer=wrote.get(stint.id, False)):
            worked.setdefault(stint.department, []).append(stint)
    questions = []
    for department_stints in worked.values():
        last = department_stints[-1]
        rated = [s for s in department_stints if s.rating_score is not None]
        if rated:
            latest = rated[-1]
            questions.append(
                RatingQuestion(
                    latest.department_name,
                    latest.id,
                    {"score": latest.rating_score, "comment": latest.rating_comment},
                    False,
                )
            )
        elif last.ended_at is not None:
            questions.append(
                RatingQuestion(last.department_name, last.id, None, not closed)
            )
    return questions


# ---------------------------------------------------------------------------
# The customer's view
# ---------------------------------------------------------------------------


def customer_view(
    ticket: TicketSummary, *, now: datetime | None = None
) -> dict[str, Any]:
    """The customer-facing description of ``ticket`` (JSON-ready), in the
    active language (the page activates the ticket's)."""
    now = now or clock.now()
    zone = _zone(ticket.customer_timezone)
    stints = list(
        Handoff.objects.filter(ticket_id=ticket.ticket_id).order_by("started_position")
    )
    clocks = list(SLAClock.objects.filter(ticket_id=ticket.ticket_id))
    entries = list(
        TimelineEntry.objects.filter(
            ticket_id=ticket.ticket_id,
            audience=TimelineEntry.Audience.CUSTOMER,
            event_type__in=REPLY_TYPES,
        ).order_by("position")
    )
    files = attachments.entry_files(ticket.ticket_id, customer_only=True)
    response_clocks = {c.handoff_id: c for c in clocks if c.kind == "response"}
    closed = ticket.status == "closed"
    journey = []
    wrote: dict[UUID, bool] = {}
    for index, stint in enumerate(stints):
        end = stints[index + 1].started_position if index + 1 < len(stints) else None
        mine = [
            entry
            for entry in entries
            if entry.position >= stint.started_position
            and (end is None or entry.position < end)
        ]
        wrote[stint.id] = any(not _from_customer(entry) for entry in mine)
        messages = [
            {
                "at": entry.occurred_at,
                "at_local": local_text(entry.occurred_at, zone, now),
                "author": _author(entry, stint.department_name),
                "from_customer": _from_customer(entry),
                "kind": entry.event_type,
                "text": entry_text(entry),
                "body": entry.body,
                "attachments": [f.as_dict() for f in files.get(entry.version, ())],
            }
            for entry in mine
        ]
        response_clock = response_clocks.get(stint.id)
        finished_at = stint.first_response_at or stint.ended_at
        kept: bool | None = None
        if response_clock is not None and response_clock.state in ("met", "breached"):
            kept = response_clock.state == "met"
        journey.append(
            {
                "handoff_id": stint.id,
                "department": stint.department_name,
                "received_at": stint.started_at,
                "received_at_local": local_text(stint.started_at, zone, now),
                "answered_at": stint.first_response_at,
                "ended_at": stint.ended_at,
                "took": format_duration(finished_at - stint.started_at)
                if finished_at
                else "",
                "promised_by": response_clock.due_at if response_clock else None,
                "promised_by_local": local_text(
                    response_clock.due_at if response_clock else None, zone, now
                ),
                "kept_promise": kept,
                "finished": stint.ended_at is not None,
                "rating": None
                if stint.rating_score is None
                else {"score": stint.rating_score, "comment": stint.rating_comment},
                "can_rate": stint.ended_at is not None
                and stint.rating_score is None
                and not closed,
                "messages": messages,
            }
        )
    promise = _promise(ticket, clocks, zone, now, entries)
    questions = rating_questions(stints, wrote, closed=closed)
    return {
        "ticket_id": ticket.ticket_id,
        "subject": ticket.subject,
        "status": ticket.status,
        "status_label": status_label(ticket.status),
        "language": ticket.language,
        "customer_timezone": zone.key,
        "owner": ticket.owner,
        "owner_name": ticket.owner_name,
        "owner_since": ticket.owner_since,
        "owner_since_local": local_text(ticket.owner_since, zone, now),
        "promise": promise.sentence,
        "promise_context": promise.since,
        "promise_due_at": promise.due_at,
        "promise_overdue": promise.overdue,
        "journey": journey,
        "rating_questions": [q.as_dict() for q in questions],
        "ticket_rating": None
        if ticket.experience_score is None
        else {"score": ticket.experience_score, "comment": ticket.experience_comment},
        "can_rate_ticket": ticket.status == "resolved"
        and ticket.experience_score is None,
        "can_reply": ticket.status in ("open", "waiting"),
        "attachments": [
            f.as_dict() for version in sorted(files) for f in files[version]
        ],
    }


STATUS_LABELS = {
    "open": pgettext_lazy("ticket status, for the customer", "In progress"),
    "waiting": pgettext_lazy("ticket status, for the customer", "Waiting for you"),
    "resolved": pgettext_lazy("ticket status, for the customer", "Resolved"),
    "closed": pgettext_lazy("ticket status, for the customer", "Closed"),
}


def status_label(status: str) -> str:
    """A status as the customer reads it, in the active language."""
    label = STATUS_LABELS.get(status)
    return str(label) if label is not None else status
