"""Email in, the rest: what is not a customer writing to us is recorded
and turned into nothing (``tickets.mail.screening``), files become ticket
attachments, and mail text reads as text."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from tests import helpers
from tests.tickets import mail_samples as samples
from tickets.application import get_tickets_application
from tickets.mail import screening, threading
from tickets.mail.text import html_to_text, strip_quoted
from tickets.models import (
    Attachment,
    InboundEmail,
)

Outcome = InboundEmail.Outcome

mail_settings = samples.mail_settings
pytestmark = pytest.mark.usefixtures("mail_settings")
receive = samples.receive
event_names = samples.event_names
assert_no_ticket = samples.assert_no_ticket
open_by_email = samples.open_by_email


# -- what is not a customer writing to us ------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Auto-Submitted": "auto-generated; reason=vacation"},
        {"Precedence": "bulk"},
        {"Precedence": "auto_reply"},
        {"X-Autoreply": "yes"},
        {"X-Autorespond": "Out of office"},
        {"X-Auto-Response-Suppress": "All", "X-MS-Exchange-Inbox-Rules-Loop": "d@x"},
        {"X-Auto-Response-Suppress": "OOF"},  # and an "Automatic reply:" subject
    ],
)
def test_automatic_replies_are_recorded_without_a_ticket(
    org: helpers.Org, headers: dict[str, str]
) -> None:
    record = receive(samples.raw(samples.out_of_office(**headers)))
    assert_no_ticket(record, Outcome.AUTO_REPLY)
    assert record.raw_name and record.detail


def test_auto_submitted_no_is_a_person_writing(org: helpers.Org) -> None:
    record = receive(samples.raw(samples.message(headers={"Auto-Submitted": "no"})))
    assert record.outcome == Outcome.OPENED


def test_a_delivery_status_notification_is_a_bounce(org: helpers.Org) -> None:
    dsn = samples.delivery_status_notification(samples.message())
    record = receive(dsn, envelope_from="")
    assert_no_ticket(record, Outcome.BOUNCE)
    assert "delivery status" in record.detail


@pytest.mark.parametrize(
    ("envelope_from", "sender", "headers"),
    [
        ("<>", "Dana <dana@example.org>", {}),
        (None, "Dana <dana@example.org>", {"Return-Path": "<>"}),
        (None, "MAILER-DAEMON@mx.example.org", {}),
        (None, "postmaster@example.org", {}),
        (None, "Dana <dana@example.org>", {"X-Failed-Recipients": "x@example.org"}),
    ],
)
def test_mail_from_mail_systems_is_a_bounce(
    org: helpers.Org, envelope_from: str | None, sender: str, headers: dict[str, str]
) -> None:
    msg = samples.message(sender=sender, headers=headers)
    record = receive(samples.raw(msg), envelope_from=envelope_from)
    assert_no_ticket(record, Outcome.BOUNCE)


def test_an_unknown_envelope_sender_is_no_bounce(org: helpers.Org) -> None:
    record = receive(samples.raw(samples.message()), envelope_from=None)
    assert record.outcome == Outcome.OPENED


@pytest.mark.parametrize(
    "msg",
    [
        pytest.param(
            samples.message(sender=f"Baton <help@{samples.DOMAIN}>"), id="our-domain"
        ),
        pytest.param(samples.message(headers={"X-Loop": samples.DOMAIN}), id="x-loop"),
    ],
)
def test_mail_from_ourselves_is_a_loop(org: helpers.Org, msg: Any) -> None:
    record = receive(samples.raw(msg))
    assert_no_ticket(record, Outcome.LOOP)


def test_mail_through_too_many_servers_is_a_loop(org: helpers.Org) -> None:
    msg = samples.message()
    for hop in range(screening.MAX_RECEIVED + 1):
        msg["Received"] = f"from mx{hop}.example.org by mx{hop + 1}.example.org"
    record = receive(samples.raw(msg))
    assert_no_ticket(record, Outcome.LOOP)
    assert "31 mail servers" in record.detail


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b"this is not an email at all", "no headers"),
        (b"Subject: hello\r\n\r\nno sender\r\n", "no sender"),
        (b"From: someone\r\nSubject: hi\r\n\r\nx\r\n", "no sender"),
        (b"From: a@example.org\r\n\r\n", "no subject, no text"),
    ],
)
def test_unreadable_messages_are_recorded_as_unparseable(
    org: helpers.Org, raw: bytes, detail: str
) -> None:
    record = receive(raw)
    assert_no_ticket(record, Outcome.UNPARSEABLE)
    assert detail in record.detail
    assert record.raw_name  # kept for a person to look at


def test_a_message_too_large_keeps_its_headers_only(
    org: helpers.Org, settings: Any, _attachment_storage: Path
) -> None:
    settings.BATON_MAIL_MAX_BYTES = 1_000
    msg = samples.message(text="x" * 2_000)
    record = receive(samples.raw(msg))
    assert_no_ticket(record, Outcome.TOO_LARGE)
    assert (record.sender, record.subject) == (samples.CUSTOMER, msg["Subject"])
    assert record.message_id == msg["Message-ID"]
    assert record.raw_name == ""
    assert record.size == len(samples.raw(msg))
    assert not (_attachment_storage / "mail").exists()


# -- attachments -----------------------------------------------------------------


def test_email_attachments_become_ticket_attachments(
    org: helpers.Org, _attachment_storage: Path
) -> None:
    msg = samples.message(
        files=[
            ("receipt.pdf", "application/pdf", samples.PDF),
            ("photo.png", "image/png", samples.PNG),
        ]
    )
    record = receive(samples.raw(msg))
    assert record.outcome == Outcome.OPENED
    opened = helpers.stored_events(record.ticket_id)[0]
    assert [f["name"] for f in opened.attachments] == ["receipt.pdf", "photo.png"]
    pdf = Attachment.objects.get(filename="receipt.pdf")
    assert pdf.sha256 == hashlib.sha256(samples.PDF).hexdigest()
    assert (pdf.ticket_id, pdf.audience) == (
        record.ticket_id,
        Attachment.Audience.CUSTOMER,
    )
    assert pdf.uploaded_by == samples.CUSTOMER
    assert (_attachment_storage / pdf.storage_name).read_bytes() == samples.PDF


def test_a_reply_carries_its_attachments(org: helpers.Org) -> None:
    record, thread = open_by_email()
    reply = samples.message(
        subject="Re: refund",
        text="Here is the receipt.",
        to=threading.reply_address(thread),
        files=[("receipt.pdf", "application/pdf", samples.PDF)],
    )
    replied = receive(samples.raw(reply))
    assert replied.outcome == Outcome.REPLIED
    event = helpers.stored_events(record.ticket_id)[-1]
    assert [f["sha256"] for f in event.attachments] == [
        hashlib.sha256(samples.PDF).hexdigest()
    ]
    assert Attachment.objects.get().audience == Attachment.Audience.CUSTOMER


def test_a_refused_attachment_keeps_the_message(
    org: helpers.Org, _attachment_storage: Path
) -> None:
    msg = samples.message(
        files=[
            ("setup.exe", "application/x-msdownload", b"MZ\x90\x00" * 10),
            ("receipt.pdf", "application/pdf", samples.PDF),
        ]
    )
    record = receive(samples.raw(msg))
    assert record.outcome == Outcome.OPENED
    description = get_tickets_application().get_ticket(record.ticket_id).description
    assert description.startswith("I returned the parcel")
    assert "[setup.exe was not attached: " in description
    assert "[setup.exe was not attached: " in record.detail
    assert list(Attachment.objects.values_list("filename", flat=True)) == [
        "receipt.pdf"
    ]
    stored = [p for p in (_attachment_storage).rglob("*") if p.is_file()]
    assert len(stored) == 2  # the raw message and the PDF
    assert all(b"MZ\x90\x00" not in p.read_bytes()[:4] for p in stored)


def test_files_past_the_limit_per_entry_are_listed(org: helpers.Org) -> None:
    files = [(f"page{n}.pdf", "application/pdf", samples.PDF) for n in range(12)]
    record = receive(samples.raw(samples.message(files=files)))
    assert record.outcome == Outcome.OPENED
    assert Attachment.objects.count() == 10
    assert "[page10.pdf was not attached: at most 10 files" in record.detail


def test_a_full_ticket_takes_the_reply_without_its_files(
    org: helpers.Org, settings: Any
) -> None:
    record, thread = open_by_email(
        files=[("receipt.pdf", "application/pdf", samples.PDF)]
    )
    settings.BATON_ATTACHMENT_MAX_TICKET_BYTES = len(samples.PDF)
    reply = samples.message(
        subject="Re: refund",
        text="Another copy.",
        to=threading.reply_address(thread),
        files=[("again.pdf", "application/pdf", samples.PDF)],
    )
    replied = receive(samples.raw(reply))
    assert replied.outcome == Outcome.REPLIED
    event = helpers.stored_events(record.ticket_id)[-1]
    assert event.attachments == []
    assert event.body.startswith("Another copy.\n\n[again.pdf was not attached: ")
    assert not Attachment.objects.filter(filename="again.pdf").exists()


# -- text ------------------------------------------------------------------------


def test_quoted_history_is_cut_from_replies() -> None:
    assert strip_quoted("Yes.\n\n-----Original Message-----\nFrom: x") == "Yes."
    chinese = "好的\n\n在 2026年3月2日 10:00\uff0cBaton 写道\uff1a\n> 你好"
    assert strip_quoted(chinese) == "好的"
    assert strip_quoted("Yes.\n> quoted\nStill mine.") == "Yes.\nStill mine."
    assert (
        strip_quoted("Fine.\n\nOn Mon, 2 Mar 2026 at 10:00, Baton <a@b.c>\nwrote:\n> x")
        == "Fine."
    )
    # Nothing of its own: the whole text is kept.
    assert strip_quoted("> only a quote") == "> only a quote"


def test_html_quotes_links_and_tables_read_as_text() -> None:
    assert (
        html_to_text(
            "<div>Mine</div><blockquote>Theirs</blockquote>"
            "<table><tr><td>a</td><td>b</td></tr></table>"
            "<a href='mailto:x@y.z'>x@y.z</a> <a href='javascript:evil()'>click</a>"
        )
        == "Mine\n\n> Theirs\n\na b\nx@y.z click"
    )
