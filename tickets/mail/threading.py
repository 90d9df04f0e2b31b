"""A ticket's email conversation, written once for mail in and mail out.

Every notification about a ticket refers (``In-Reply-To``/``References``)
to the ticket's root Message-ID and says ``Reply-To`` the ticket's own
address, ``<local>+<reply key>@<domain>`` (staff notifications refer to
the same root, with no ``Reply-To``). Both the Message-IDs and the reply
key are random, so a reply can be matched to its ticket, and nobody can
post to a ticket by guessing them. Only the reply key is a secret,
though: a Message-ID travels with every copy of a message (people in
``Cc``, mailing lists), so a match by Message-ID alone counts only for
mail from the ticket's customer (see ``tickets.mail.inbound``).

Settings: ``BATON_MAIL_DOMAIN`` (default: the domain of
``DEFAULT_FROM_EMAIL``) and ``BATON_MAIL_REPLY_LOCAL`` (default: the local
part of ``DEFAULT_FROM_EMAIL``).
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import parseaddr
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction

from tickets import clock
from tickets.models import EmailNotification, InboundEmail, MailThread

#: The reply key: 16 lowercase base32 characters (80 random bits).
KEY_RE = re.compile(r"^[a-z2-7]{16}$")
_MESSAGE_ID_RE = re.compile(r"<[^<>\s]+>")


def _from_parts() -> tuple[str, str]:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "baton@localhost"
    local, _, domain = address.rpartition("@")
    return local or "baton", domain or "localhost"


def mail_domain() -> str:
    """The domain of Baton's own addresses and Message-IDs."""
    return getattr(settings, "BATON_MAIL_DOMAIN", "") or _from_parts()[1]


def reply_local() -> str:
    """The local part of the reply addresses (before ``+<key>``)."""
    return getattr(settings, "BATON_MAIL_REPLY_LOCAL", "") or _from_parts()[0]


def new_message_id() -> str:
    """A fresh, unguessable Message-ID in our domain (with brackets)."""
    return f"<{secrets.token_hex(16)}@{mail_domain()}>"


def _new_key() -> str:
    return base64.b32encode(secrets.token_bytes(10)).decode().lower()


def thread_for(ticket_id: UUID, *, root_message_id: str = "") -> MailThread:
    """The ticket's mail thread, created on first use. A ticket opened by
    email takes the customer's own Message-ID as its root, so the
    customer's mail client threads our answers under their message."""
    found = MailThread.objects.filter(ticket_id=ticket_id).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return MailThread.objects.create(
                ticket_id=ticket_id,
                reply_key=_new_key(),
                root_message_id=root_message_id or new_message_id(),
                created_at=clock.now(),
            )
    except IntegrityError:  # created meanwhile (or the root id is taken)
        found = MailThread.objects.filter(ticket_id=ticket_id).first()
        if found is not None:
            return found
        return MailThread.objects.create(
            ticket_id=ticket_id,
            reply_key=_new_key(),
            root_message_id=new_message_id(),
            created_at=clock.now(),
        )


def reply_address(thread: MailThread) -> str:
    """The ticket's own address: replies to it thread into the ticket."""
    return f"{reply_local()}+{thread.reply_key}@{mail_domain()}"


def reply_key_of(address: str) -> str | None:
    """The reply key in ``address`` (``<local>+<key>@<our domain>``), or
    None when it is not one of our reply addresses."""
    address = parseaddr(address)[1].lower()
    local, _, domain = address.rpartition("@")
    if domain != mail_domain().lower():
        return None
    base, plus, key = local.partition("+")
    if not plus or base != reply_local().lower() or not KEY_RE.match(key):
        return None
    return key


def message_ids(header: str | None) -> list[str]:
    """The Message-IDs in an ``In-Reply-To`` or ``References`` header."""
    return _MESSAGE_ID_RE.findall(header or "")


@dataclass(frozen=True)
class Match:
    """The tickets a received message is tied to, each way it can be.

    ``by_key``: the ticket whose reply address (a capability only its
    customer was sent) is among the recipients. ``by_message_id``: the
    ticket of a customer-facing Message-ID it refers to (the thread's
    root, a notification sent to the customer, or an earlier message of
    this sender that was posted as the customer); a Message-ID is no
    secret (everyone on the thread has it), so this ties the message to
    the ticket only when it comes from the ticket's customer.
    ``staff_notification``: the ticket of a notification sent to staff
    that it refers to (a reply from staff, never the customer's)."""

    by_key: UUID | None = None
    by_message_id: UUID | None = None
    staff_notification: UUID | None = None


#: Outcomes of a message that was posted as the ticket's customer.
POSTED = (
    InboundEmail.Outcome.OPENED,
    InboundEmail.Outcome.REPLIED,
    InboundEmail.Outcome.REOPENED,
    InboundEmail.Outcome.FOLLOW_UP,
)


def match_reply(
    addresses: Iterable[str], referenced: Iterable[str], *, sender: str
) -> Match:
    """What a message from ``sender`` (lowercased) to ``addresses`` that
    refers to the ``referenced`` Message-IDs answers: see :class:`Match`."""
    by_key: UUID | None = None
    keys = {key for key in map(reply_key_of, addresses) if key}
    if keys:
        by_key = (
            MailThread.objects.filter(reply_key__in=keys)
            .values_list("ticket_id", flat=True)
            .first()
        )
    ids = list(dict.fromkeys(i for i in referenced if i))
    if not ids:
        return Match(by_key=by_key)
    notifications = EmailNotification.objects.filter(message_id__in=ids)
    staff = (
        notifications.filter(audience=EmailNotification.Audience.STAFF)
        .values_list("ticket_id", flat=True)
        .first()
    )
    by_message_id: UUID | None = None
    for ticket_id in (
        MailThread.objects.filter(root_message_id__in=ids)
        .values_list("ticket_id", flat=True)
        .first(),
        notifications.filter(audience=EmailNotification.Audience.CUSTOMER)
        .values_list("ticket_id", flat=True)
        .first(),
        InboundEmail.objects.filter(
            message_id__in=ids,
            sender=sender,
            outcome__in=POSTED,
            ticket_id__isnull=False,
        )
        .values_list("ticket_id", flat=True)
        .first(),
    ):
        if ticket_id is not None:
            by_message_id = ticket_id
            break
    return Match(by_key=by_key, by_message_id=by_message_id, staff_notification=staff)
