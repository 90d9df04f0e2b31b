"""Notification emails (email out): one email per step for the customer
and for staff, threaded in one conversation, with both parts, never any
internal text, written exactly once and sent outside transactions."""

from __future__ import annotations

import smtplib
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.test import override_settings

from sla import services as sla_services
from tests import helpers
from tickets import clock, services
from tickets.application import get_tickets_application
from tickets.customer import customer_link_revoke
from tickets.mail import notifications
from tickets.mail.threading import reply_address, thread_for
from tickets.models import EmailNotification, NotificationSettings
from tickets.projection_runner import (
    catch_up,
    positions_of,
    projection_group,
    rebuild,
    skip_to,
)

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
CUSTOMER = "dana@example.com"
# Distinctive internal text that must never reach the customer.
HANDOFF_REASON = "HANDOFF-REASON-7731 card fraud suspected"
NOTE = "INTERNAL-NOTE-4409 do not tell the customer"
WAIT_REASON = "WAIT-REASON-5521 check the IBAN"
#: What the customer is asked for while waiting: theirs to read.
ASKED = "Please send the bank statement page showing the charge."
SECRETS = (HANDOFF_REASON, NOTE, WAIT_REASON, "HANDOFF-REASON", "INTERNAL-NOTE")


class DownBackend(BaseEmailBackend):
    """The SMTP server refuses everything (a real failure path)."""

    def send_messages(self, email_messages: Any) -> int:
        raise smtplib.SMTPException("451 try again later")


@pytest.fixture(autouse=True)
def _public_url(settings: Any) -> None:
    settings.BATON_PUBLIC_URL = "http://testserver.example"


@dataclass
class Journey:
    ticket_id: UUID
    token: str


@pytest.fixture
def sla_org(org: helpers.Org) -> helpers.Org:
    with time_machine.travel(T0 - timedelta(days=1), tick=False):
        for code in ("CS", "FIN"):
            sla_services.policy_version_create(
                department=org.departments[code], response_normal=timedelta(hours=1)
            )
    fin = org.departments["FIN"]
    fin.email = "finance@example.com"
    fin.save()
    NotificationSettings.objects.create(user=org.leads["FIN"], department_handoff=True)
    return org


def _open(org: helpers.Org, contact: str = CUSTOMER) -> Journey:
    result = services.ticket_open(
        principal=org.agent("CS"),
        subject="Refund not received",
        description="I returned the parcel two weeks ago.",
        customer_ref="CUST-1",
        customer_name="Dana",
        customer_contact=contact,
        customer_timezone="Europe/Paris",
        channel="web",
    )
    return Journey(result.ticket_id, result.detail["customer_token"])


def _journey(org: helpers.Org, contact: str = CUSTOMER) -> Journey:
    """Open, hand to Finance, note, assign, reply, wait, customer reply,
    resolve: every step that notifies someone."""
    fin = org.agent("FIN")
    with time_machine.travel(T0, tick=False):
        journey = _open(org, contact)
        tid = journey.ticket_id
        services.ticket_hand_off(
            principal=org.agent("CS"),
            ticket_id=tid,
            to_department="FIN",
            reason=HANDOFF_REASON,
        )
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        services.ticket_add_note(principal=fin, ticket_id=tid, body=NOTE)
        services.ticket_assign(
            principal=org.lead("FIN"), ticket_id=tid, agent_id=org.agents["FIN"].pk
        )
        services.ticket_respond(
            principal=fin, ticket_id=tid, body="Your refund was sent today."
        )
        services.ticket_wait_on_customer(
            principal=fin, ticket_id=tid, reason=WAIT_REASON, request=ASKED
        )
        services.ticket_record_customer_reply(
            principal=services.principal_for_customer(customer_ref="CUST-1"),
            ticket_id=tid,
            body="Here is the receipt you asked for.",
        )
        services.ticket_resolve(
            principal=fin,
            ticket_id=tid,
            resolution="The refund of 40 EUR is on its way.",
            root_cause="other",
        )
        notifications.send_due()
    return journey


def _sent(to: str) -> list[Any]:
    return [m for m in mail.outbox if m.to == [to]]


def _html(message: Any) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return str(html)


def _rows(**filters: Any) -> list[EmailNotification]:
    return list(EmailNotification.objects.filter(**filters).order_by("position", "pk"))


# ---------------------------------------------------------------------------
# Customer emails
# ---------------------------------------------------------------------------


def test_the_customer_gets_one_threaded_email_per_step(sla_org: helpers.Org) -> None:
    journey = _journey(sla_org)
    rows = _rows(audience="customer")
    assert [r.kind for r in rows] == [
        "opened",
        "handed_off",
        "responded",
        "waiting",
        "resolved",
    ]
    assert all(r.status == "sent" and r.recipient == CUSTOMER for r in rows)
    emails = _sent(CUSTOMER)
    assert len(emails) == 5
    thread = thread_for(journey.ticket_id)
    link = f"http://testserver.example/t/{journey.token}/"
    message_ids = set()
    for row, email in zip(rows, emails, strict=True):
        headers = email.extra_headers
        assert headers["Message-ID"] == row.message_id
        message_ids.add(row.message_id)
        assert headers["In-Reply-To"] == thread.root_message_id
        assert headers["References"] == thread.root_message_id
        assert email.reply_to == [reply_address(thread)]
        html = _html(email)
        assert link in email.body and f'href="{link}' in html
        for secret in SECRETS:
            assert secret not in email.body and secret not in html
            assert secret not in email.subject
        # The link is put in when sending: the stored row never holds it.
        assert journey.token not in row.text + row.html
    assert len(message_ids) == 5 and thread.root_message_id not in message_ids

    opened, handed_off, responded, waiting, resolved = emails
    assert opened.subject == "We received your request: Refund not received"
    assert "Customer Service has it" in opened.body
    # 1 business hour from Monday 10:00 Shanghai: 11:00 there, 04:00 in Paris.
    assert "will reply by Mon 2 Mar 2026 04:00 (Europe/Paris)" in opened.body
    assert "Finance now handles your request" in handed_off.subject
    assert "Finance will reply by Mon 2 Mar 2026 04:00 (Europe/Paris)" in (
        handed_off.body
    )
    assert "Finance will reply by" in _html(handed_off)
    assert "Your refund was sent today." in responded.body
    assert "Finagent replied" in responded.body  # first name only, as the page
    assert "Surnameof" not in responded.body + _html(responded)
    assert "needs something from you" in waiting.body
    assert ASKED in waiting.body and ASKED in _html(waiting)
    assert "The refund of 40 EUR is on its way." in resolved.body
    assert f"{link}#step-2" in resolved.body and f"{link}#step-2" in _html(resolved)


@override_settings(BATON_CUSTOMER_STAFF_NAMES="role")
def test_staff_names_follow_the_customer_page_setting(sla_org: helpers.Org) -> None:
    _journey(sla_org)
    [responded] = [m for m in _sent(CUSTOMER) if "Re:" in m.subject]
    assert "Finance team replied" in responded.body
    assert "Finagent" not in responded.body


def test_reply_attachments_are_listed_by_name(sla_org: helpers.Org) -> None:
    from tickets import attachments

    with time_machine.travel(T0, tick=False):
        tid = _open(sla_org).ticket_id
        principal = sla_org.agent("CS")
        stored = attachments.store(
            b"%PDF-1.4 receipt",
            filename="receipt.pdf",
            declared_type="application/pdf",
            uploader=attachments.uploader_key(principal, tid),
            uploaded_by=principal.name,
        )
        services.ticket_respond(
            principal=principal,
            ticket_id=tid,
            body="See the receipt.",
            attachments=[stored.id],
        )
        notifications.send_due()
    [responded] = [m for m in _sent(CUSTOMER) if "Re:" in m.subject]
    assert "- receipt.pdf" in responded.body
    assert "<li>receipt.pdf</li>" in _html(responded)
    assert responded.attachments == []  # listed, not attached


def test_no_customer_email_without_an_email_address(sla_org: helpers.Org) -> None:
    _journey(sla_org, contact="+33 6 12 34 56 78")
    assert _rows(audience="customer") == []
    assert _rows(audience="staff")  # staff are still told


def test_a_revoked_link_is_not_sent_and_the_customer_is_told_to_ask(
    sla_org: helpers.Org,
) -> None:
    with time_machine.travel(T0, tick=False):
        journey = _open(sla_org)
        customer_link_revoke(ticket_id=journey.ticket_id)
        notifications.send_due()
    [opened] = _sent(CUSTOMER)
    assert "/t/" not in opened.body and "/t/" not in _html(opened)
    assert "ask us for a new one" in opened.body


# ---------------------------------------------------------------------------
# Staff emails
# ---------------------------------------------------------------------------


def test_staff_get_handoff_assignment_and_customer_reply_emails(
    sla_org: helpers.Org,
) -> None:
    journey = _journey(sla_org)
    ticket_url = (
        "http://testserver.example/admin/tickets/queueticket/"
        f"{journey.ticket_id}/change/"
    )
    by_kind: dict[str, list[str]] = {}
    for row in _rows(audience="staff"):
        by_kind.setdefault(row.kind, []).append(row.recipient)
    # The department's mailbox and the member who opted in (not the agent,
    # who kept the default: off).
    assert sorted(by_kind["department_handoff"]) == [
        "fin_lead@example.com",
        "finance@example.com",
    ]
    # Assigned by the lead: the agent is told.
    assert by_kind["assigned"] == ["fin_agent@example.com"]
    # The assignee first, then the other members of the owning department.
    assert by_kind["customer_reply"] == [
        "fin_agent@example.com",
        "fin_lead@example.com",
    ]
    thread = thread_for(journey.ticket_id)
    [handoff] = _sent("finance@example.com")
    assert HANDOFF_REASON in handoff.body and HANDOFF_REASON in _html(handoff)
    # Due 11:00 in Finance's timezone, named.
    assert "Reply to the customer by: Mon 2 Mar 2026 11:00 (Asia/Shanghai)" in (
        handoff.body
    )
    assert ticket_url in handoff.body and f'href="{ticket_url}"' in _html(handoff)
    for email in _sent("fin_agent@example.com") + _sent("fin_lead@example.com"):
        # Threaded, but never the customer's reply address.
        assert email.reply_to == []
        assert email.extra_headers["In-Reply-To"] == thread.root_message_id
        assert reply_address(thread) not in email.body + _html(email)
        assert ticket_url in email.body
        assert NOTE not in email.body
    [reply] = [m for m in _sent("fin_agent@example.com") if "replied" in m.subject]
    assert "Here is the receipt you asked for." in reply.body


def test_settings_turn_staff_emails_off(sla_org: helpers.Org) -> None:
    for user in (sla_org.agents["FIN"], sla_org.leads["FIN"]):
        NotificationSettings.objects.update_or_create(
            user=user,
            defaults={
                "department_handoff": False,
                "assigned": False,
                "customer_reply": False,
            },
        )
    _journey(sla_org)
    # Only the department's own mailbox remains.
    assert [(r.kind, r.recipient) for r in _rows(audience="staff")] == [
        ("department_handoff", "finance@example.com")
    ]


def test_assigning_oneself_sends_nothing(sla_org: helpers.Org) -> None:
    with time_machine.travel(T0, tick=False):
        tid = _open(sla_org).ticket_id
        services.ticket_assign(
            principal=sla_org.agent("CS"),
            ticket_id=tid,
            agent_id=sla_org.agents["CS"].pk,
        )
    assert _rows(kind="assigned") == []


# ---------------------------------------------------------------------------
# Exactly once
# ---------------------------------------------------------------------------


def _mail_group() -> list[Any]:
    return projection_group("mail")


@pytest.fixture
def projector_only(settings: Any) -> Iterator[None]:
    """The mail group left to the projector (as in production)."""
    settings.BATON_INLINE_PROJECTION_GROUPS = ["core", "notifications", "webhooks"]
    yield


def test_a_projector_restart_writes_and_sends_nothing_twice(
    sla_org: helpers.Org, projector_only: None
) -> None:
    app = get_tickets_application()
    with time_machine.travel(T0, tick=False):
        tid = _open(sla_org).ticket_id
        services.ticket_hand_off(
            principal=sla_org.agent("CS"),
            ticket_id=tid,
            to_department="FIN",
            reason="x",
        )
    assert _rows() == []
    with time_machine.travel(T0, tick=False):
        assert catch_up(app, _mail_group()) > 0
        first = [(r.position, r.kind, r.recipient) for r in _rows()]
        notifications.send_due()
        # A restarted projector: new instances, the stored position.
        assert catch_up(app, _mail_group()) == 0
        notifications.send_due()
    assert [(r.position, r.kind, r.recipient) for r in _rows()] == first
    assert len(first) == 4  # opened, handed_off, and the handoff to 2 staff
    assert len(mail.outbox) == 4


class _CrashingProjection(notifications.EmailNotificationProjection):
    def finish(self, session: Any) -> None:
        raise RuntimeError("projector killed mid-batch")


def test_a_crash_mid_batch_rolls_rows_and_position_back(
    sla_org: helpers.Org, projector_only: None
) -> None:
    app = get_tickets_application()
    with time_machine.travel(T0, tick=False):
        _open(sla_org)
        before = positions_of(_mail_group(), app.name)
        with pytest.raises(RuntimeError, match="mid-batch"):
            catch_up(app, [_CrashingProjection()])
        assert _rows() == []
        assert positions_of(_mail_group(), app.name) == before
        catch_up(app, _mail_group())
        notifications.send_due()
    assert [r.kind for r in _rows()] == ["opened"]
    assert len(mail.outbox) == 1


def test_the_outbox_is_never_rebuilt_and_skip_to_sends_no_history(
    sla_org: helpers.Org, projector_only: None
) -> None:
    app = get_tickets_application()
    with pytest.raises(ValueError, match="Not rebuildable"):
        rebuild(app, _mail_group())
    with time_machine.travel(T0, tick=False):
        _open(sla_org)  # history being imported
        skip_to(app, _mail_group(), app.recorder.max_notification_id() or 0)
        assert catch_up(app, _mail_group()) == 0
        _open(sla_org, contact="eve@example.com")  # after the import
        catch_up(app, _mail_group())
        notifications.send_due()
    assert [r.recipient for r in _rows()] == ["eve@example.com"]
    assert [m.to for m in mail.outbox] == [["eve@example.com"]]


def test_the_worker_sends_after_commit(
    sla_org: helpers.Org, django_capture_on_commit_callbacks: Any
) -> None:
    with (
        time_machine.travel(T0, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        _open(sla_org)
    [row] = _rows()
    assert row.status == "sent" and row.attempts == 1
    assert len(mail.outbox) == 1


# ---------------------------------------------------------------------------
# Failures and concurrent senders
# ---------------------------------------------------------------------------


def test_a_failed_send_is_recorded_and_retried_with_backoff(
    sla_org: helpers.Org, settings: Any
) -> None:
    with time_machine.travel(T0, tick=False):
        _open(sla_org)
    [row] = _rows()
    settings.EMAIL_BACKEND = f"{__name__}.DownBackend"
    with time_machine.travel(T0, tick=False):
        assert notifications.send(row.pk) == "pending"
    row.refresh_from_db()
    assert row.attempts == 1 and row.sent_at is None
    assert "SMTPException: 451 try again later" in row.last_error
    assert row.next_attempt_at == T0 + timedelta(seconds=30)
    assert row.claimed_until is None
    with time_machine.travel(T0 + timedelta(seconds=10), tick=False):
        assert notifications.send_due() == 0  # not due yet
    with time_machine.travel(T0 + timedelta(seconds=31), tick=False):
        assert notifications.send_due() == 1
    row.refresh_from_db()
    assert row.attempts == 2
    assert row.next_attempt_at == T0 + timedelta(seconds=31 + 60)
    # The server is back.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
        assert notifications.send_due() == 1
        assert notifications.send_due() == 0
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, "")
    assert len(mail.outbox) == 1


def test_a_send_gives_up_after_the_last_attempt_and_can_be_retried(
    sla_org: helpers.Org, settings: Any
) -> None:
    settings.BATON_NOTIFY_MAX_ATTEMPTS = 2
    settings.EMAIL_BACKEND = f"{__name__}.DownBackend"
    with time_machine.travel(T0, tick=False):
        _open(sla_org)
        [row] = _rows()
        notifications.send(row.pk)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        assert notifications.send(row.pk) == "failed"
        assert notifications.send_due() == 0
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 2)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        assert notifications.retry_now([row.pk]) == 1
        assert notifications.send_due() == 1
    row.refresh_from_db()
    assert row.status == "sent"
    assert len(mail.outbox) == 1
    # A sent email is not sent again by a retry.
    assert notifications.retry_now([row.pk]) == 0


def test_two_workers_claiming_one_email_send_it_once(sla_org: helpers.Org) -> None:
    with time_machine.travel(T0, tick=False):
        _open(sla_org)
    [row] = _rows()
    # Another worker claimed it a moment ago and is talking to SMTP.
    EmailNotification.objects.filter(pk=row.pk).update(
        claimed_until=T0 + notifications.lease()
    )
    with time_machine.travel(T0 + timedelta(seconds=1), tick=False):
        assert notifications.send(row.pk) == "pending"
        assert notifications.send_due() == 0
    assert mail.outbox == []
    # That worker died: after the lease the email is sent, once.
    later = T0 + notifications.lease() + timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        assert notifications.send(row.pk) == "sent"
        assert notifications.send(row.pk) == "sent"
    assert len(mail.outbox) == 1


def test_a_deactivated_staff_member_is_skipped(sla_org: helpers.Org) -> None:
    with time_machine.travel(T0, tick=False):
        tid = _open(sla_org).ticket_id
        services.ticket_hand_off(
            principal=sla_org.agent("CS"),
            ticket_id=tid,
            to_department="FIN",
            reason="x",
        )
    lead = sla_org.leads["FIN"]
    lead.is_active = False
    lead.save()
    with time_machine.travel(T0, tick=False):
        notifications.send_due()
    [row] = _rows(recipient="fin_lead@example.com")
    assert row.status == "skipped"
    assert _sent("fin_lead@example.com") == []


# ---------------------------------------------------------------------------
# The claim and the SMTP timeout
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("timeout", [0.5, 30, 300])
def test_the_claim_outlives_the_longest_send(settings: Any, timeout: float) -> None:
    settings.EMAIL_TIMEOUT = timeout
    # Each of a send's SMTP steps may block for the whole timeout.
    worst = notifications.SEND_TIMEOUTS * timedelta(seconds=timeout)
    assert notifications.lease() > worst > timedelta(seconds=timeout)


def test_sends_are_never_unbounded(settings: Any) -> None:
    """The setting's default is bounded, and so is a send when a settings
    override drops it (Django's own default: block forever)."""
    assert settings.EMAIL_TIMEOUT == 30
    settings.EMAIL_TIMEOUT = None
    assert notifications.email_timeout() == notifications.DEFAULT_EMAIL_TIMEOUT
    assert notifications.lease() > timedelta(seconds=30)


@pytest.fixture
def hung_smtp_server() -> Iterator[int]:
    """A server that takes connections and never says a word (no greeting):
    a real hung SMTP server. Its port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)  # the kernel completes connections; nobody answers
        yield int(server.getsockname()[1])


def test_a_hung_smtp_server_fails_the_send_within_the_claim(
    sla_org: helpers.Org, settings: Any, hung_smtp_server: int
) -> None:
    with time_machine.travel(T0, tick=False):
        _open(sla_org)
    [row] = _rows()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = hung_smtp_server
    settings.EMAIL_TIMEOUT = 0.5
    started = time.monotonic()
    with time_machine.travel(T0, tick=False):
        assert notifications.send(row.pk) == "pending"
    elapsed = timedelta(seconds=time.monotonic() - started)
    assert elapsed < notifications.lease()
    row.refresh_from_db()
    assert "timed out" in row.last_error
    assert (row.attempts, row.claimed_until, row.sent_at) == (1, None, None)


class SlowBackend(LocmemBackend):
    """An SMTP server that takes the longest a send may take (every step
    just within the timeout) while a second worker tries the same email."""

    second_sender: list[Any] = []
    busy = False

    def send_messages(self, email_messages: Any) -> int:
        if SlowBackend.busy:  # the second worker got through: it sends
            return super().send_messages(email_messages)
        SlowBackend.busy = True
        slowest = notifications.SEND_TIMEOUTS * timedelta(
            seconds=notifications.email_timeout()
        )
        with clock.frozen_at(clock.now() + slowest):
            [pk] = EmailNotification.objects.values_list("pk", flat=True)
            SlowBackend.second_sender += [
                notifications.send_due(),
                notifications.send(pk),
                notifications.retry_now([pk]),
            ]
        SlowBackend.busy = False
        return super().send_messages(email_messages)


def test_an_email_being_sent_is_not_sent_by_a_second_sender(
    sla_org: helpers.Org, settings: Any
) -> None:
    with time_machine.travel(T0, tick=False):
        _open(sla_org)
    [row] = _rows()
    settings.EMAIL_BACKEND = f"{__name__}.SlowBackend"
    settings.EMAIL_TIMEOUT = 30
    SlowBackend.second_sender, SlowBackend.busy = [], False
    with time_machine.travel(T0, tick=False):
        assert notifications.send(row.pk) == "sent"
    # The second worker found the email claimed: nothing sent, nothing reset.
    assert SlowBackend.second_sender == [0, "pending", 0]
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.claimed_until) == ("sent", 1, None)


def test_retry_now_leaves_an_email_being_sent_alone(sla_org: helpers.Org) -> None:
    with time_machine.travel(T0, tick=False):
        _open(sla_org)
    [row] = _rows()
    claim = T0 + notifications.lease()
    # A worker holds the claim and is talking to SMTP.
    EmailNotification.objects.filter(pk=row.pk).update(claimed_until=claim)
    with time_machine.travel(T0 + timedelta(seconds=5), tick=False):
        assert notifications.retry_now([row.pk]) == 0
        assert notifications.send_due() == 0
    row.refresh_from_db()
    assert row.claimed_until == claim and mail.outbox == []
    # That worker died: once the claim expired, "retry now" takes the email.
    with time_machine.travel(claim + timedelta(seconds=1), tick=False):
        assert notifications.retry_now([row.pk]) == 1
        row.refresh_from_db()
        assert row.claimed_until is None
        assert notifications.send_due() == 1
    assert len(mail.outbox) == 1


# ---------------------------------------------------------------------------
# Subjects
# ---------------------------------------------------------------------------


def test_a_ticket_subject_with_line_breaks_is_sent_on_one_line(
    sla_org: helpers.Org,
) -> None:
    with time_machine.travel(T0, tick=False):
        tid = services.ticket_open(
            principal=sla_org.agent("CS"),
            subject="Refund\nnot   received\r\n(again)",
            description="I returned the parcel two weeks ago.",
            customer_ref="CUST-1",
            customer_name="Dana",
            customer_contact=CUSTOMER,
            customer_timezone="Europe/Paris",
            channel="web",
        ).ticket_id
        services.ticket_hand_off(
            principal=sla_org.agent("CS"),
            ticket_id=tid,
            to_department="FIN",
            reason="x",
        )
        notifications.send_due()
    rows = _rows()
    assert rows and all(r.status == "sent" for r in rows)
    opened = _sent(CUSTOMER)[0]
    assert opened.subject == "We received your request: Refund not received (again)"
    assert not opened.body.startswith("not")
    [handoff] = _sent("finance@example.com")
    assert handoff.subject == (
        "[Baton] Finance: new ticket handed to you: Refund not received (again)"
    )
