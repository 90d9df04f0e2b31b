"""Screening received mail: what is not a customer writing to us (a
message that cannot be read, a delivery failure report, an automatic
reply, mail that went round in a loop) is told apart here, before any
ticket work (``tickets.mail.inbound.receive``)."""

from __future__ import annotations

import re
from email.message import EmailMessage

from tickets.mail import threading
from tickets.mail.text import Content, header, headers, sender_of
from tickets.models import InboundEmail

Outcome = InboundEmail.Outcome

#: More ``Received`` headers than this: the message is going round in circles.
MAX_RECEIVED = 30
AUTO_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
SUPPRESS_AUTO_RESPONSE = frozenset({"all", "oof", "autoreply"})
#: Subjects of out-of-office replies that carry no standard header.
OUT_OF_OFFICE_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto-reply|autoreply|out of office)\s*:", re.IGNORECASE
)
DAEMON_LOCAL_PARTS = frozenset({"mailer-daemon", "postmaster"})


def classify(
    message: EmailMessage, content: Content, *, envelope_from: str | None
) -> tuple[str, str] | None:
    """The outcome and its explanation for a message that must not become
    a ticket or a reply, or None when it may. ``envelope_from`` is the SMTP
    envelope sender ("" or "<>": the null sender of delivery reports; None:
    not known)."""
    if not message.keys():
        return Outcome.UNPARSEABLE, "It has no headers: not an RFC 5322 message."
    sender = sender_of(message)[1]
    if not sender:
        return Outcome.UNPARSEABLE, "It has no sender address (From)."
    if not header(message, "Subject") and not content.text and not content.files:
        return Outcome.UNPARSEABLE, "It has no subject, no text and no files."
    report_type = message.get_param("report-type", "", header="content-type") or ""
    report_type = str(report_type).lower()
    if message.get_content_type() == "multipart/report":
        if report_type == "delivery-status":
            return Outcome.BOUNCE, "A delivery status notification (DSN)."
        if report_type == "disposition-notification":
            return Outcome.AUTO_REPLY, "A read receipt (disposition notification)."
    loop = _loop(message, sender)
    if loop:
        return Outcome.LOOP, loop
    auto = _auto_reply(message)
    if auto:
        return Outcome.AUTO_REPLY, auto
    if header(message, "X-Failed-Recipients"):
        return Outcome.BOUNCE, "A delivery failure report (X-Failed-Recipients)."
    if envelope_from is not None and envelope_from.strip() in ("", "<>"):
        return Outcome.BOUNCE, "Sent from the null envelope sender (<>)."
    if header(message, "Return-Path").replace(" ", "") == "<>":
        return Outcome.BOUNCE, "Sent from the null sender (Return-Path: <>)."
    if sender.partition("@")[0] in DAEMON_LOCAL_PARTS:
        return Outcome.BOUNCE, f"Sent by {sender}, a mail system."
    return None


def _loop(message: EmailMessage, sender: str) -> str:
    domain = threading.mail_domain().lower()
    if sender.rpartition("@")[2] == domain:
        return f"Sent from our own domain ({sender}): mail we sent came back."
    if any(domain in value.lower() for value in headers(message, "X-Loop")):
        return f"It has already passed through us (X-Loop: {domain})."
    hops = len(headers(message, "Received"))
    if hops > MAX_RECEIVED:
        return f"It passed through {hops} mail servers (more than {MAX_RECEIVED})."
    return ""


def _auto_reply(message: EmailMessage) -> str:
    submitted = header(message, "Auto-Submitted").split(";")[0].strip().lower()
    if submitted and submitted != "no":
        return f"Sent automatically (Auto-Submitted: {submitted})."
    precedence = header(message, "Precedence").lower()
    if precedence in AUTO_PRECEDENCE:
        return f"Sent automatically (Precedence: {precedence})."
    for name in ("X-Autoreply", "X-Autorespond"):
        if message.get(name) is not None:
            return f"An automatic reply ({name})."
    suppress = {
        token.strip().lower()
        for token in header(message, "X-Auto-Response-Suppress").split(",")
    }
    out_of_office = message.get(
        "X-MS-Exchange-Inbox-Rules-Loop"
    ) is not None or OUT_OF_OFFICE_SUBJECT.match(header(message, "Subject"))
    if suppress & SUPPRESS_AUTO_RESPONSE and out_of_office:
        return "An out-of-office reply (X-Auto-Response-Suppress)."
    return ""
