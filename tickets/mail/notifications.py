"""Email out: notifications to customers and staff, from the event log.

* :class:`EmailNotificationProjection` (projection group ``mail``) writes
  one :class:`EmailNotification` row per (event, kind, recipient), rendered
  at once, in the same transaction as its tracked position: exactly one
  row, whatever the projector's restarts. It is an outbox, never rebuilt
  (that would send history again); ``skip_to`` moves it past imported
  history.
* Workers send the rows outside any transaction (:func:`send`): a row is
  claimed with a conditional UPDATE (a lease in ``claimed_until``, longer
  than a send can take with the SMTP timeout: :func:`lease`), sent with a
  plain-text and an HTML part, and its outcome written only while the
  lease holds. Failures are recorded and retried with backoff
  (``tickets.webhooks.backoff``) up to ``BATON_NOTIFY_MAX_ATTEMPTS``, then
  the row is FAILED (an admin action sends it again). :func:`send_due`
  (every minute) sends retries and rows whose enqueue was lost.
* Customer emails thread in one conversation (``In-Reply-To`` and
  ``References``: the ticket's root Message-ID) and say ``Reply-To`` the
  ticket's own reply address; staff emails never carry that address (a
  staff member's reply must not become a customer message).
* Customers get only what their ticket page shows: never internal notes,
  handoff reasons or waiting reasons (the timeline marks those internal).

The projection runs in the projector, possibly behind the core read
models, so it reads ticket facts from the events (the aggregate at the
event's version), not from the read models.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q

from departments.models import Department, Membership
from tickets import clock
from tickets.application import get_tickets_application
from tickets.customer import customer_link_for_mail, staff_display_name
from tickets.domain import Ticket, TicketNotFound
from tickets.mail import render
from tickets.mail.threading import new_message_id, reply_address, thread_for
from tickets.models import EmailNotification, NotificationSettings
from tickets.projection_runner import Projection, ProjectionSession, handles
from tickets.webhooks import backoff

logger = logging.getLogger(__name__)

#: The SMTP timeout when EMAIL_TIMEOUT is unset (seconds).
DEFAULT_EMAIL_TIMEOUT = 30.0
#: How many times the SMTP timeout one send may take: connecting, TLS,
#: authentication, the envelope and the message data can each block for up
#: to EMAIL_TIMEOUT before the server is given up.
SEND_TIMEOUTS = 5
#: What the claim adds for the database writes around the send.
LEASE_MARGIN = timedelta(seconds=60)

CUSTOMER = EmailNotification.Audience.CUSTOMER
STAFF = EmailNotification.Audience.STAFF

#: How many events after a command's first one may still belong to it
#: (a handoff: WaitingEnded, ClockResumed..., HandedOff, ClockStopped x2,
#: ClockStarted x2).
_COMMAND_SPAN = 12


def max_attempts() -> int:
    return int(getattr(settings, "BATON_NOTIFY_MAX_ATTEMPTS", 10))


def email_timeout() -> float:
    """Seconds an SMTP operation may block (``EMAIL_TIMEOUT``). Never
    unbounded: without a timeout a hung server would hold a send past any
    claim, and another worker would send the same email again."""
    value = getattr(settings, "EMAIL_TIMEOUT", None)
    if value is None or float(value) <= 0:
        return DEFAULT_EMAIL_TIMEOUT
    return float(value)


def lease() -> timedelta:
    """How long a sender's claim on an email holds: longer than the
    longest a send can take with :func:`email_timeout` (a sender that died
    mid-send leaves its claim to expire; the email is then sent again: at
    least once). SLA alerts use it too."""
    return SEND_TIMEOUTS * timedelta(seconds=email_timeout()) + LEASE_MARGIN


def mail_connection() -> Any:
    """A connection of the configured backend bounded by
    :func:`email_timeout` (the timeout :func:`lease` is derived from)."""
    return get_connection(timeout=email_timeout())


# ---------------------------------------------------------------------------
# Who wants what
# ---------------------------------------------------------------------------


def setting_default(setting: str) -> bool:
    field = NotificationSettings._meta.get_field(setting)
    return bool(field.default)  # type: ignore[union-attr]


def users_wanting(user_ids: Iterable[int], setting: str) -> set[int]:
    """Those of ``user_ids`` whose settings turn ``setting`` on (a missing
    settings row means the default)."""
    ids = set(user_ids)
    if not ids:
        return set()
    chosen = dict(
        NotificationSettings.objects.filter(user_id__in=ids).values_list(
            "user_id", setting
        )
    )
    default = setting_default(setting)
    return {i for i in ids if chosen.get(i, default)}


@dataclass(frozen=True)
class Recipient:
    address: str
    user_id: int | None = None


def department_members_wanting(department: str, setting: str) -> list[Recipient]:
    """Active members of ``department`` with an email address whose
    settings turn ``setting`` on."""
    members = dict(
        Membership.objects.filter(department__code=department, user__is_active=True)
        .exclude(user__email="")
        .values_list("user_id", "user__email")
    )
    wanting = users_wanting(members, setting)
    return [Recipient(members[i], i) for i in sorted(wanting)]


def _user_recipient(user_id: str | int | None, setting: str) -> list[Recipient]:
    try:
        pk = int(str(user_id))
    except ValueError:
        return []
    user = (
        get_user_model()
        .objects.filter(pk=pk, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
        .first()
    )
    if not user or pk not in users_wanting([pk], setting):
        return []
    return [Recipient(str(user), pk)]


def customer_address(contact: str) -> str | None:
    """The customer's contact when it is an email address, else None."""
    contact = (contact or "").strip()
    if not contact:
        return None
    try:
        validate_email(contact)
    except ValidationError:
        return None
    return contact


# ---------------------------------------------------------------------------
# The projection
# ---------------------------------------------------------------------------


class EmailNotificationProjection(Projection):
    """The notification outbox (group ``mail``). Not rebuildable: its rows
    are emails owed or sent."""

    name = "email_notification"
    models = (EmailNotification,)
    rebuildable = False

    def __init__(self) -> None:
        self._tickets: dict[tuple[UUID, int], Ticket] = {}

    def finish(self, session: ProjectionSession) -> None:
        self._tickets.clear()

    # -- facts ---------------------------------------------------------------

    def _ticket(self, e: Any) -> Ticket | None:
        """The ticket as of event ``e`` (cached for the batch)."""
        key = (e.originator_id, e.originator_version)
        found = self._tickets.get(key)
        if found is None:
            try:
                found = get_tickets_application().get_ticket(
                    e.originator_id, version=e.originator_version
                )
            except TicketNotFound:
                logger.warning("Email notification: no ticket %s", e.originator_id)
                return None
            self._tickets[key] = found
        return found

    def _response_due(self, e: Any, stint_id: UUID) -> datetime | None:
        """The due time of the response clock the same command started for
        ``stint_id`` (None: no SLA for it)."""
        events = get_tickets_application().events.get(
            e.originator_id,
            gt=e.originator_version,
            lte=e.originator_version + _COMMAND_SPAN,
        )
        for later in events:
            if (
                isinstance(later, Ticket.ClockStarted)
                and later.clock_id == stint_id
                and later.kind == "response"
            ):
                return later.due_at
        return None

    def _current_response_due(self, ticket: Ticket) -> datetime | None:
        stint_id = ticket.current_stint_id
        clock_ = ticket.clocks.get(stint_id) if stint_id else None
        if clock_ is None or not clock_.is_running:
            return None
        return clock_.due_at

    # -- writing rows ----------------------------------------------------------

    def _add(
        self,
        session: ProjectionSession,
        e: Any,
        position: int,
        *,
        kind: str,
        audience: str,
        recipients: Iterable[Recipient],
        context: dict[str, Any],
        language: str | None = None,
    ) -> None:
        """One row per distinct address, rendered in ``language`` (the
        customer's) or else each staff recipient's own."""
        seen: set[str] = set()
        now = clock.now()
        added = False
        recipients = list(recipients)
        languages = (
            {} if language else render.staff_languages(r.user_id for r in recipients)
        )
        for recipient in recipients:
            address = recipient.address.strip()
            if not address or address.lower() in seen:
                continue
            seen.add(address.lower())
            chosen = language or (
                languages.get(recipient.user_id, "")
                if recipient.user_id is not None
                else ""
            )
            subject, text, html = render.render(
                kind, context, language=chosen or render.default_language()
            )
            session.append(
                EmailNotification(
                    position=position,
                    kind=kind,
                    recipient=address[:320],
                    audience=audience,
                    user_id=recipient.user_id,
                    ticket_id=e.originator_id,
                    message_id=new_message_id(),
                    subject=subject,
                    text=text,
                    html=html,
                    status=EmailNotification.Status.PENDING,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            added = True
        if added:

            def enqueue() -> None:
                from django_q.tasks import async_task

                async_task("tickets.tasks.send_email_notifications_for_event", position)

            transaction.on_commit(enqueue)

    def _customer(
        self,
        session: ProjectionSession,
        e: Any,
        position: int,
        ticket: Ticket,
        kind: str,
        context: dict[str, Any],
    ) -> None:
        address = customer_address(ticket.customer_contact)
        if address is None:
            return
        base = {
            "ticket_subject": ticket.subject,
            "reference": str(e.originator_id)[:8],
            "customer_name": ticket.customer_name,
        }
        self._add(
            session,
            e,
            position,
            kind=kind,
            audience=CUSTOMER,
            recipients=[Recipient(address)],
            context={**base, **context},
            language=render.customer_language(ticket.language),
        )

    @staticmethod
    def _staff_context(e: Any, ticket: Ticket) -> dict[str, Any]:
        return {
            "ticket_subject": ticket.subject,
            "reference": str(e.originator_id)[:8],
            "ticket_url": render.staff_ticket_url(e.originator_id),
            "priority": render.priority_word(ticket.priority),
        }

    # -- handlers --------------------------------------------------------------

    @handles(Ticket.Opened)
    def opened(
        self, e: Ticket.Opened, position: int, session: ProjectionSession
    ) -> None:
        if customer_address(e.customer_contact) is None:
            return
        ticket = self._ticket(e)
        if ticket is None:
            return
        due = self._response_due(e, e.stint_id)
        self._customer(
            session,
            e,
            position,
            ticket,
            "opened",
            {
                "department": e.department_name,
                "promise": render.local_time(due, e.customer_timezone),
                "link": render.link_marker("opened"),
            },
        )

    @handles(Ticket.HandedOff)
    def handed_off(
        self, e: Ticket.HandedOff, position: int, session: ProjectionSession
    ) -> None:
        ticket = self._ticket(e)
        if ticket is None:
            return
        due = self._response_due(e, e.handoff_id)
        self._customer(
            session,
            e,
            position,
            ticket,
            "handed_off",
            {
                "department": e.to_department_name,
                "promise": render.local_time(due, ticket.customer_timezone),
                "link": render.link_marker("handed_off"),
            },
        )
        shared = (
            Department.objects.filter(code=e.to_department)
            .values_list("email", flat=True)
            .first()
        )
        recipients = [Recipient(shared)] if shared else []
        recipients += department_members_wanting(e.to_department, "department_handoff")
        from_name = next(
            (
                s.department_name
                for s in ticket.stints.values()
                if s.id == e.from_stint_id
            ),
            e.from_department,
        )
        self._add(
            session,
            e,
            position,
            kind="department_handoff",
            audience=STAFF,
            recipients=recipients,
            context={
                **self._staff_context(e, ticket),
                "department": e.to_department_name,
                "from_department": from_name,
                "reason": e.reason,
                "promise": render.local_time(due, e.to_department_timezone),
            },
        )

    @handles(Ticket.Responded)
    def responded(
        self, e: Ticket.Responded, position: int, session: ProjectionSession
    ) -> None:
        ticket = self._ticket(e)
        if ticket is None:
            return
        stint = ticket.stints.get(e.stint_id)
        department = stint.department_name if stint else ticket.owner_name
        self._customer(
            session,
            e,
            position,
            ticket,
            "responded",
            {
                "author": staff_display_name(e.actor.short_name, department),
                "body": render.without_markers(e.body),
                "files": [f.get("name", "") for f in e.attachments],
                "link": render.link_marker("responded"),
            },
        )

    @handles(Ticket.WaitingOnCustomer)
    def waiting(
        self, e: Ticket.WaitingOnCustomer, position: int, session: ProjectionSession
    ) -> None:
        ticket = self._ticket(e)
        if ticket is None:
            return
        # What the customer is asked for (the reason is internal: the
        # customer page hides it); without one, the email points to the
        # team's last reply.
        self._customer(
            session,
            e,
            position,
            ticket,
            "waiting",
            {
                "department": ticket.owner_name,
                "request": e.request,
                "link": render.link_marker("waiting"),
            },
        )

    @handles(Ticket.Resolved)
    def resolved(
        self, e: Ticket.Resolved, position: int, session: ProjectionSession
    ) -> None:
        ticket = self._ticket(e)
        if ticket is None:
            return
        stints = list(ticket.stints)
        step = stints.index(e.stint_id) + 1 if e.stint_id in stints else 0
        stint = ticket.stints.get(e.stint_id)
        self._customer(
            session,
            e,
            position,
            ticket,
            "resolved",
            {
                "department": stint.department_name if stint else ticket.owner_name,
                "resolution": render.without_markers(e.resolution),
                "link": render.link_marker("resolved", step),
            },
        )

    @handles(Ticket.Closed)
    def closed(
        self, e: Ticket.Closed, position: int, session: ProjectionSession
    ) -> None:
        """Closed because the customer never answered: tell them, and how to
        pick it up again (a reply opens a follow-up of this request)."""
        if e.reason != "abandoned":
            return
        ticket = self._ticket(e)
        if ticket is None:
            return
        stint = ticket.stints.get(e.stint_id) if e.stint_id else None
        self._customer(
            session,
            e,
            position,
            ticket,
            "abandoned",
            {
                "department": stint.department_name if stint else ticket.owner_name,
                "link": render.link_marker("abandoned"),
            },
        )

    @handles(Ticket.AgentAssigned)
    def assigned(
        self, e: Ticket.AgentAssigned, position: int, session: ProjectionSession
    ) -> None:
        if e.agent_id == e.actor.id:
            return  # they took it themselves
        ticket = self._ticket(e)
        if ticket is None:
            return
        department = ticket.owner_name
        timezone_name = next(
            (s.timezone for s in ticket.stints.values() if s.id == e.stint_id), "UTC"
        )
        self._add(
            session,
            e,
            position,
            kind="assigned",
            audience=STAFF,
            recipients=_user_recipient(e.agent_id, "assigned"),
            context={
                **self._staff_context(e, ticket),
                "department": department,
                "actor": e.actor.name,
                "promise": render.local_time(
                    self._current_response_due(ticket), timezone_name
                ),
            },
        )

    @handles(Ticket.FollowUpOpened)
    def follow_up_opened(
        self, e: Ticket.FollowUpOpened, position: int, session: ProjectionSession
    ) -> None:
        """A rating of 1 or 2: alert the rated department at once."""
        from tickets.mail.followup_alerts import dissatisfied_alert

        dissatisfied_alert(self, e, position, session)

    @handles(Ticket.CustomerReplied)
    def customer_replied(
        self, e: Ticket.CustomerReplied, position: int, session: ProjectionSession
    ) -> None:
        ticket = self._ticket(e)
        if ticket is None:
            return
        recipients = department_members_wanting(ticket.owner, "customer_reply")
        if ticket.assignee_id:
            recipients = _user_recipient(ticket.assignee_id, "customer_reply") + [
                r for r in recipients if str(r.user_id) != str(ticket.assignee_id)
            ]
        self._add(
            session,
            e,
            position,
            kind="customer_reply",
            audience=STAFF,
            recipients=recipients,
            context={
                **self._staff_context(e, ticket),
                "department": ticket.owner_name,
                "body": e.body,
                "files": [f.get("name", "") for f in e.attachments],
            },
        )


# ---------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------


def _claim(row_id: int, now: datetime) -> EmailNotification | None:
    """Take a due row for :func:`lease`; None when another sender has it, it is
    not due, or it is finished. The lease end is the claim's token."""
    claimed = (
        EmailNotification.objects.filter(
            pk=row_id,
            status=EmailNotification.Status.PENDING,
            next_attempt_at__lte=now,
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .update(claimed_until=now + lease())
    )
    if not claimed:
        return None
    return EmailNotification.objects.get(pk=row_id)


def _message(row: EmailNotification) -> EmailMultiAlternatives:
    text, html = row.text, row.html
    headers = {
        "Message-ID": row.message_id,
        "In-Reply-To": row.in_reply_to,
        "References": row.references,
        # Automatic mail: out-of-office replies must not answer it.
        "Auto-Submitted": "auto-generated",
    }
    reply_to: list[str] = []
    if row.audience == CUSTOMER:
        path = customer_link_for_mail(row.ticket_id)
        link = render.public_url(path) if path else None
        language = render.ticket_language(row.ticket_id)
        text, html = render.insert_customer_link(text, html, link, language=language)
        if row.reply_to:
            reply_to = [row.reply_to]
    message = EmailMultiAlternatives(
        subject=row.subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.recipient],
        reply_to=reply_to,
        headers={k: v for k, v in headers.items() if v},
        connection=mail_connection(),
    )
    if html:
        message.attach_alternative(html, "text/html")
    return message


def _thread_headers(row: EmailNotification) -> None:
    """Fill the row's threading headers from the ticket's mail thread
    (created on first use; at send time, so that a ticket opened by email
    has its thread rooted at the customer's own message by then)."""
    if row.in_reply_to:
        return
    thread = thread_for(row.ticket_id)
    row.in_reply_to = thread.root_message_id
    row.references = thread.root_message_id
    row.reply_to = reply_address(thread) if row.audience == CUSTOMER else ""
    EmailNotification.objects.filter(pk=row.pk).update(
        in_reply_to=row.in_reply_to, references=row.references, reply_to=row.reply_to
    )


def _user_gone(row: EmailNotification) -> bool:
    if row.user_id is None:
        return False
    return not get_user_model().objects.filter(pk=row.user_id, is_active=True).exists()


def send(row_id: int) -> str:
    """Send one outbox row if it is due and nobody else is sending it;
    returns its status afterwards. Runs outside any transaction."""
    now = clock.now()
    row = _claim(row_id, now)
    if row is None:
        current = (
            EmailNotification.objects.filter(pk=row_id)
            .values_list("status", flat=True)
            .first()
        )
        return current or "missing"
    lease = row.claimed_until
    fence = EmailNotification.objects.filter(pk=row.pk, claimed_until=lease)
    if _user_gone(row):
        fence.update(
            status=EmailNotification.Status.SKIPPED,
            claimed_until=None,
            last_error="Not sent: the user is no longer active.",
        )
        return str(EmailNotification.Status.SKIPPED)
    attempts = row.attempts + 1
    try:
        _thread_headers(row)
        _message(row).send()
    except Exception as error:
        done = clock.now()
        message = f"{type(error).__name__}: {error}"[:2000]
        logger.warning("Email notification %s failed: %s", row.pk, message)
        if attempts >= max_attempts():
            changes: dict[str, Any] = {"status": EmailNotification.Status.FAILED}
        else:
            changes = {"next_attempt_at": done + backoff(attempts)}
        fence.update(
            attempts=attempts, claimed_until=None, last_error=message, **changes
        )
        return str(changes.get("status", EmailNotification.Status.PENDING))
    written = fence.update(
        status=EmailNotification.Status.SENT,
        attempts=attempts,
        claimed_until=None,
        sent_at=clock.now(),
        last_error="",
    )
    if not written:
        logger.warning("Email notification %s outlived its lease", row.pk)
    return str(EmailNotification.Status.SENT)


def send_for_event(position: int) -> int:
    """Send the rows of one event (enqueued after the projection commits)."""
    ids = list(
        EmailNotification.objects.filter(
            position=position, status=EmailNotification.Status.PENDING
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for row_id in ids:
        try:
            send(row_id)
        except Exception:
            logger.exception("Email notification %s failed unexpectedly", row_id)
    return len(ids)


def send_due(*, limit: int = 200) -> int:
    """Send every pending row whose time has come (retries, lost enqueues,
    expired leases). Returns how many were attempted."""
    now = clock.now()
    due = list(
        EmailNotification.objects.filter(
            status=EmailNotification.Status.PENDING, next_attempt_at__lte=now
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for row_id in due:
        try:
            send(row_id)
        except Exception:
            logger.exception("Email notification %s failed unexpectedly", row_id)
    return len(due)


def retry_now(row_ids: Iterable[int]) -> int:
    """Send failed (or waiting) rows again as soon as a worker gets them.
    Sent rows are not sent twice, and neither is a row a sender is sending
    right now (its claim unexpired): its outcome is that sender's to write."""
    now = clock.now()
    return (
        EmailNotification.objects.filter(pk__in=list(row_ids))
        .filter(
            Q(status=EmailNotification.Status.FAILED)
            | Q(status=EmailNotification.Status.PENDING, claimed_until__isnull=True)
            | Q(status=EmailNotification.Status.PENDING, claimed_until__lte=now)
        )
        .update(
            status=EmailNotification.Status.PENDING,
            next_attempt_at=now,
            claimed_until=None,
            attempts=0,
        )
    )
