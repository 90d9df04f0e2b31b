"""Email in over the wire: real mail sent over SMTP to the gateway (an
aiosmtpd server on a free port, in a thread), and through
``manage.py ingest_email`` (standard input, a Maildir), as a mail server
relays or pipes it."""

from __future__ import annotations

import io
import os
import signal
import smtplib
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests import helpers
from tests.tickets import mail_samples as samples
from tickets import services
from tickets.application import get_tickets_application
from tickets.domain import Status
from tickets.mail import gateway as gateway_module
from tickets.mail import inbound, threading
from tickets.mail.gateway import Gateway
from tickets.models import Attachment, InboundEmail, MailThread, TicketSummary

Outcome = InboundEmail.Outcome
MAX_BYTES = 20_000
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _mail_settings(settings: Any) -> None:
    settings.BATON_MAIL_DOMAIN = samples.DOMAIN
    settings.BATON_MAIL_REPLY_LOCAL = "help"
    settings.BATON_MAIL_FRONT_LINE = ""
    settings.BATON_MAIL_MAX_BYTES = MAX_BYTES


@pytest.fixture
def gateway(_mail_settings: None) -> Iterator[Gateway]:
    """The gateway on a free port; its SMTP server stops reading a message
    at twice the largest accepted size."""
    server = Gateway(host="127.0.0.1", port=0, data_size_limit=2 * MAX_BYTES)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def send(
    gateway: Gateway,
    raw: bytes,
    *,
    mail_from: str = samples.CUSTOMER,
    to: Sequence[str] = (samples.SUPPORT,),
) -> tuple[int, str]:
    """One SMTP transaction, as an MTA relays a message: the answer to its
    DATA."""
    with smtplib.SMTP(gateway.hostname, gateway.port, timeout=30) as smtp:
        smtp.ehlo("mx.example.org")
        code, answer = smtp.mail(mail_from)
        assert code == 250, answer
        for address in to:
            code, answer = smtp.rcpt(address)
            assert code == 250, answer
        code, answer = smtp.data(raw)
        return code, answer.decode()


def only_record() -> InboundEmail:
    return InboundEmail.objects.get()


# -- over SMTP -------------------------------------------------------------------


def test_a_new_message_over_smtp_opens_a_ticket(
    org: helpers.Org, gateway: Gateway
) -> None:
    msg = samples.message()
    code, answer = send(gateway, samples.raw(msg))

    assert (code, answer) == (250, "2.0.0 Accepted: opened")
    record = only_record()
    assert record.outcome == Outcome.OPENED
    assert (record.envelope_from, record.envelope_to) == (
        samples.CUSTOMER,
        samples.SUPPORT,
    )
    assert "Received by smtp." in record.detail
    summary = TicketSummary.objects.get(pk=record.ticket_id)
    assert (summary.subject, summary.channel, summary.customer_ref) == (
        "My refund has not arrived",
        "email",
        samples.CUSTOMER,
    )
    ticket = get_tickets_application().get_ticket(record.ticket_id)
    assert ticket.description == "I returned the parcel two weeks ago.\nOrder 4711."


def test_replies_over_smtp_thread_into_their_ticket(
    org: helpers.Org, gateway: Gateway
) -> None:
    first = samples.message()
    send(gateway, samples.raw(first))
    opened = only_record()
    services.ticket_wait_on_customer(
        principal=org.agent("CS"), ticket_id=opened.ticket_id, reason="Receipt?"
    )
    address = threading.reply_address(
        MailThread.objects.get(ticket_id=opened.ticket_id)
    )

    by_address = samples.message(
        subject="Re: My refund", text="Receipt attached.", to=address
    )
    code, answer = send(gateway, samples.raw(by_address), to=[address])
    assert (code, answer) == (250, "2.0.0 Accepted: replied")
    by_reference = samples.message(
        subject="Re: My refund",
        text="And one more thing.\n\n> Receipt attached.",
        in_reply_to=first["Message-ID"],
    )
    code, answer = send(gateway, samples.raw(by_reference))
    assert (code, answer) == (250, "2.0.0 Accepted: replied")

    replies = [
        e
        for e in helpers.stored_events(opened.ticket_id)
        if type(e).__name__ == "CustomerReplied"
    ]
    assert [e.body for e in replies] == ["Receipt attached.", "And one more thing."]
    ticket = get_tickets_application().get_ticket(opened.ticket_id)
    assert ticket.status == Status.OPEN  # the first reply ended the wait


def test_a_reply_over_smtp_reopens_a_resolved_ticket(
    org: helpers.Org, gateway: Gateway
) -> None:
    first = samples.message()
    send(gateway, samples.raw(first))
    ticket_id = only_record().ticket_id
    services.ticket_resolve(
        principal=org.agent("CS"),
        ticket_id=ticket_id,
        resolution="Refund issued",
        root_cause="process",
    )
    reply = samples.message(text="Not received.", in_reply_to=first["Message-ID"])
    assert send(gateway, samples.raw(reply)) == (250, "2.0.0 Accepted: reopened")
    assert get_tickets_application().get_ticket(ticket_id).status == Status.OPEN


def test_the_same_message_twice_over_smtp_stores_one_event(
    org: helpers.Org, gateway: Gateway
) -> None:
    raw = samples.raw(samples.message())
    assert send(gateway, raw)[0] == 250
    assert send(gateway, raw) == (250, "2.0.0 Accepted: opened")
    assert InboundEmail.objects.count() == 1
    assert helpers.event_count() == 1


def test_an_auto_reply_over_smtp_is_accepted_and_recorded(
    org: helpers.Org, gateway: Gateway
) -> None:
    raw = samples.raw(samples.out_of_office(**{"Auto-Submitted": "auto-replied"}))
    assert send(gateway, raw, mail_from="<>") == (250, "2.0.0 Accepted: auto_reply")
    record = only_record()
    assert (record.outcome, record.ticket_id) == (Outcome.AUTO_REPLY, None)
    assert helpers.event_count() == 0


def test_a_bounce_over_smtp_is_accepted_and_recorded(
    org: helpers.Org, gateway: Gateway
) -> None:
    dsn = samples.delivery_status_notification(samples.message())
    assert send(gateway, dsn, mail_from="<>") == (250, "2.0.0 Accepted: bounce")
    record = only_record()
    assert (record.outcome, record.ticket_id) == (Outcome.BOUNCE, None)
    assert record.envelope_from in ("", "<>")
    assert helpers.event_count() == 0


def test_a_message_too_large_is_refused_with_552_and_recorded(
    org: helpers.Org, gateway: Gateway
) -> None:
    msg = samples.message(text="x" * (MAX_BYTES + 1000))
    code, answer = send(gateway, samples.raw(msg))
    assert (code, answer) == (552, "5.3.4 Message too big")
    record = only_record()
    assert (record.outcome, record.ticket_id, record.raw_name) == (
        Outcome.TOO_LARGE,
        None,
        "",
    )
    assert (record.sender, record.subject) == (samples.CUSTOMER, msg["Subject"])
    assert helpers.event_count() == 0


def test_a_message_past_the_servers_data_limit_is_recorded_from_its_envelope(
    org: helpers.Org, gateway: Gateway
) -> None:
    msg = samples.message(text="x" * (3 * MAX_BYTES))
    code, _ = send(gateway, samples.raw(msg))
    assert code == 552
    record = only_record()
    assert record.outcome == Outcome.TOO_LARGE
    assert (record.envelope_from, record.envelope_to) == (
        samples.CUSTOMER,
        samples.SUPPORT,
    )
    assert "before its headers were read" in record.detail


def test_a_line_longer_than_smtp_allows_is_refused_and_recorded(
    org: helpers.Org, gateway: Gateway
) -> None:
    raw = b"From: dana@example.org\r\nSubject: long\r\n\r\n" + b"z" * 2000 + b"\r\n"
    code, _ = send(gateway, raw)
    assert code == 500
    record = only_record()
    assert record.outcome == Outcome.UNPARSEABLE
    assert "A line longer than SMTP allows" in record.detail


def test_an_html_only_message_over_smtp_reads_as_text(
    org: helpers.Org, gateway: Gateway
) -> None:
    html = "<p>Hello,</p><p>where is <a href='https://t.example/1'>my parcel</a>?</p>"
    send(gateway, samples.raw(samples.message(text=None, html=html)))
    ticket = get_tickets_application().get_ticket(only_record().ticket_id)
    assert ticket.description == "Hello,\n\nwhere is my parcel (https://t.example/1)?"


def test_attachments_over_smtp_become_ticket_attachments(
    org: helpers.Org, gateway: Gateway
) -> None:
    msg = samples.message(
        files=[
            ("receipt.pdf", "application/pdf", samples.PDF),
            ("tool.exe", "application/x-msdownload", b"MZ" + b"\x00" * 64),
        ]
    )
    assert send(gateway, samples.raw(msg))[0] == 250
    record = only_record()
    attachment = Attachment.objects.get()
    assert (attachment.filename, attachment.ticket_id, attachment.audience) == (
        "receipt.pdf",
        record.ticket_id,
        Attachment.Audience.CUSTOMER,
    )
    assert "[tool.exe was not attached: " in record.detail


def test_relaying_to_another_domain_is_refused(gateway: Gateway) -> None:
    with smtplib.SMTP(gateway.hostname, gateway.port, timeout=30) as smtp:
        smtp.ehlo("mx.example.org")
        smtp.mail(samples.CUSTOMER)
        code, answer = smtp.rcpt("victim@elsewhere.example")
        assert code == 550
        assert answer.startswith(b"5.7.1 Relaying denied")
        smtp.rset()
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.sendmail(
                samples.CUSTOMER, ["victim@elsewhere.example"], b"Subject: x\r\n\r\nx"
            )
    assert not InboundEmail.objects.exists()


def test_a_failure_answers_451_so_the_mta_tries_again(
    org: helpers.Org, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the event store is down")

    monkeypatch.setattr(inbound, "_deliver", crash)
    raw = samples.raw(samples.message())
    code, answer = send(gateway, raw)
    assert code == 451 and answer.startswith("4.3.0")
    assert only_record().outcome == Outcome.FAILED

    monkeypatch.undo()
    assert send(gateway, raw) == (250, "2.0.0 Accepted: opened")
    assert helpers.event_count() == 1


def test_an_unreadable_message_is_accepted_and_recorded(
    org: helpers.Org, gateway: Gateway
) -> None:
    assert send(gateway, b"just some words\r\n") == (
        250,
        "2.0.0 Accepted: unparseable",
    )
    assert only_record().outcome == Outcome.UNPARSEABLE


# -- manage.py ingest_email ----------------------------------------------------------


def ingest(raw: bytes, *args: str) -> str:
    out = io.StringIO()
    call_command("ingest_email", *args, stdin=io.BytesIO(raw), stdout=out)
    return out.getvalue()


def test_ingest_email_receives_one_message_from_stdin(org: helpers.Org) -> None:
    msg = samples.message()
    out = ingest(samples.raw(msg), "--envelope-from", samples.CUSTOMER)
    record = only_record()
    assert out.strip() == f"{msg['Message-ID']}: opened (ticket {record.ticket_id})"
    assert "Received by stdin." in record.detail
    # Again: recorded once, one event.
    ingest(samples.raw(msg))
    assert InboundEmail.objects.count() == 1
    assert helpers.event_count() == 1


def test_ingest_email_threads_a_reply(org: helpers.Org) -> None:
    first = samples.message()
    ingest(samples.raw(first))
    reply = samples.message(text="Thanks.", references=first["Message-ID"])
    ingest(samples.raw(reply))
    ticket_id = InboundEmail.objects.get(message_id=first["Message-ID"]).ticket_id
    assert type(helpers.stored_events(ticket_id)[-1]).__name__ == "CustomerReplied"


def test_ingest_email_records_a_bounce_and_exits_0(org: helpers.Org) -> None:
    dsn = samples.delivery_status_notification(samples.message())
    ingest(dsn, "--envelope-from", "")
    assert only_record().outcome == Outcome.BOUNCE


def test_ingest_email_reads_no_more_than_it_may_keep(org: helpers.Org) -> None:
    raw = samples.raw(samples.message(text="y" * (5 * MAX_BYTES)))
    ingest(raw)
    record = only_record()
    assert (record.outcome, record.size, record.raw_name) == (
        Outcome.TOO_LARGE,
        len(raw),
        "",
    )


def test_ingest_email_exits_75_when_processing_failed(
    org: helpers.Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbound, "_deliver", lambda *a, **k: 1 / 0)
    with pytest.raises(CommandError) as failed:
        ingest(samples.raw(samples.message()))
    assert failed.value.returncode == 75
    assert only_record().outcome == Outcome.FAILED


def test_ingest_email_takes_a_maildirs_new_messages(
    org: helpers.Org, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    maildir = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1.a.host").write_bytes(samples.raw(samples.message()))
    (maildir / "new" / "2.b.host").write_bytes(
        samples.raw(samples.out_of_office(**{"Precedence": "bulk"}))
    )
    failing = samples.message(subject="This one fails")
    (maildir / "new" / "3.c.host").write_bytes(samples.raw(failing))
    deliver = inbound._deliver

    def fail_one(record: InboundEmail, *args: Any) -> Any:
        if record.subject == "This one fails":
            raise RuntimeError("not now")
        return deliver(record, *args)

    monkeypatch.setattr(inbound, "_deliver", fail_one)
    with pytest.raises(CommandError) as failed:
        call_command("ingest_email", "--maildir", str(maildir), stdout=io.StringIO())
    assert failed.value.returncode == 75
    assert sorted(p.name for p in (maildir / "cur").iterdir()) == [
        "1.a.host:2,",
        "2.b.host:2,",
    ]
    assert [p.name for p in (maildir / "new").iterdir()] == ["3.c.host"]
    assert sorted(InboundEmail.objects.values_list("outcome", flat=True)) == [
        Outcome.AUTO_REPLY,
        Outcome.FAILED,
        Outcome.OPENED,
    ]

    monkeypatch.setattr(inbound, "_deliver", deliver)
    call_command("ingest_email", "--maildir", str(maildir), stdout=io.StringIO())
    assert not list((maildir / "new").iterdir())
    assert TicketSummary.objects.count() == 2


# -- manage.py run_mail_gateway ------------------------------------------------------


@pytest.mark.django_db(transaction=False)
def test_run_mail_gateway_listens_until_sigterm() -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "MAIL_DOMAIN": samples.DOMAIN,
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_mail_gateway", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("Mail gateway listening on smtp://127.0.0.1:"), line
        port = int(line.rsplit(":", 1)[1])
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            assert smtp.ehlo()[0] == 250
            assert smtp.mail(samples.CUSTOMER)[0] == 250
            assert smtp.rcpt("someone@elsewhere.example")[0] == 550
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, out
    assert "Mail gateway stopped." in out


def test_the_smtp_answer_names_the_outcome() -> None:
    record = InboundEmail(outcome=Outcome.LOOP)
    assert gateway_module.reply_for(record) == "250 2.0.0 Accepted: loop"
    record.outcome = Outcome.RECEIVED
    assert gateway_module.reply_for(record).startswith("451 ")
