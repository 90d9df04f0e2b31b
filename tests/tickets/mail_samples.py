"""Sample messages for the email-in tests, built as a mail client or a
mail server would write them."""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from uuid import UUID

import pytest

from tests import helpers
from tickets.mail import inbound
from tickets.models import InboundEmail, MailThread

DOMAIN = "support.baton.test"
SUPPORT = f"help@{DOMAIN}"
CUSTOMER = "dana@example.org"

#: The smallest valid files of a few types (their magic bytes).
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def message(
    *,
    subject: str = "My refund has not arrived",
    text: str | None = "I returned the parcel two weeks ago.\nOrder 4711.",
    html: str | None = None,
    sender: str = f"Dana Customer <{CUSTOMER}>",
    to: str = SUPPORT,
    message_id: str | None = None,
    in_reply_to: str = "",
    references: str = "",
    files: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """A customer's message: plain text and/or HTML, with files
    (``(filename, content type, bytes)``) and any extra headers."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
    msg["Message-ID"] = message_id or make_msgid(domain="example.org")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for name, value in (headers or {}).items():
        msg[name] = value
    if text is not None:
        msg.set_content(text)
        if html is not None:
            msg.add_alternative(html, subtype="html")
    elif html is not None:
        msg.set_content(html, subtype="html")
    for filename, content_type, data in files:
        maintype, subtype = content_type.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def raw(msg: EmailMessage) -> bytes:
    """The message as it travels: lines end in CRLF."""
    return msg.as_bytes(policy=policy.SMTP)


def delivery_status_notification(original: EmailMessage) -> bytes:
    """A bounce (RFC 3464 DSN) of ``original``, as a mail server sends it."""
    return (
        (
            "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"
            f"To: {SUPPORT}\r\n"
            "Subject: Undelivered Mail Returned to Sender\r\n"
            f"Message-ID: {make_msgid(domain='mx.example.org')}\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=delivery-status;\r\n"
            ' boundary="BOUNDARY"\r\n'
            "\r\n"
            "--BOUNDARY\r\n"
            "Content-Type: text/plain\r\n"
            "\r\n"
            "Your message could not be delivered to one or more recipients.\r\n"
            "--BOUNDARY\r\n"
            "Content-Type: message/delivery-status\r\n"
            "\r\n"
            "Reporting-MTA: dns; mx.example.org\r\n"
            "\r\n"
            "Final-Recipient: rfc822; nobody@example.org\r\n"
            "Action: failed\r\n"
            "Status: 5.1.1\r\n"
            "--BOUNDARY\r\n"
            "Content-Type: message/rfc822\r\n"
            "\r\n"
        ).encode()
        + raw(original)
        + b"\r\n--BOUNDARY--\r\n"
    )


def out_of_office(**headers: str) -> EmailMessage:
    """An automatic reply from the customer's mailbox with ``headers``."""
    return message(
        subject="Automatic reply: My refund has not arrived",
        text="I am out of the office until Monday.",
        headers=headers,
    )


# -- what the email-in tests share ----------------------------------------------


@pytest.fixture
def mail_settings(settings: Any) -> None:
    """Our mail domain and reply address for the email-in tests."""
    settings.BATON_MAIL_DOMAIN = DOMAIN
    settings.BATON_MAIL_REPLY_LOCAL = "help"
    settings.BATON_MAIL_FRONT_LINE = ""
    settings.BATON_MAIL_MAX_BYTES = 200_000


def receive(raw: bytes, **kwargs: Any) -> InboundEmail:
    kwargs.setdefault("envelope_from", CUSTOMER)
    kwargs.setdefault("envelope_to", [SUPPORT])
    return inbound.receive(raw, source="test", **kwargs)


def event_names(ticket_id: UUID) -> list[str]:
    return [type(e).__name__ for e in helpers.stored_events(ticket_id)]


def assert_no_ticket(record: InboundEmail, outcome: str) -> None:
    record.refresh_from_db()
    assert record.outcome == outcome
    assert record.ticket_id is None
    assert helpers.event_count() == 0


def open_by_email(**kwargs: Any) -> tuple[InboundEmail, MailThread]:
    record = receive(raw(message(**kwargs)))
    return record, MailThread.objects.get(ticket_id=record.ticket_id)
