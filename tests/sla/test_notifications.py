"""Warning and breach notifications: one outbox row per event, emailed
after commit, re-sent by the sweep when an enqueue was lost, never
duplicated, and never re-sent by a rebuild."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail

from sla import services as sla_services
from sla.models import SLANotification
from sla.tasks import sweep_sla_clocks
from tests import helpers
from tickets import services
from tickets.application import get_tickets_application
from tickets.mail import notifications
from tickets.models import TimelineEntry
from tickets.projection_runner import projection_group, rebuild

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def _breached_ticket(org: helpers.Org, **ticket: Any) -> Any:
    with time_machine.travel(T0 - timedelta(days=1), tick=False):
        sla_services.policy_version_create(
            department=org.departments["FIN"], response_normal=timedelta(hours=1)
        )
    with time_machine.travel(T0, tick=False):
        tid = helpers.open_ticket(org, **ticket)
        services.ticket_hand_off(
            principal=org.agent("CS"), ticket_id=tid, to_department="FIN", reason="r"
        )
    return tid


def test_a_lost_enqueue_is_sent_by_the_next_sweep_once(org: helpers.Org) -> None:
    _breached_ticket(org)
    # No on-commit callbacks run here (the test transaction never commits),
    # which is exactly a lost enqueue: the row waits in the outbox.
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        sla_services.sla_sweep()
    [row] = SLANotification.objects.all()
    assert (row.kind, row.department, row.sent_at) == ("breach", "FIN", None)
    assert mail.outbox == []

    with time_machine.travel(T0 + timedelta(hours=3, minutes=1), tick=False):
        summary = sweep_sla_clocks()
        again = sweep_sla_clocks()
    assert summary["notifications_resent"] == 1 and again["notifications_resent"] == 0
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["fin_agent@example.com", "fin_lead@example.com"]
    assert "Refund not received" in mail.outbox[0].subject
    row.refresh_from_db()
    assert row.sent_at is not None and row.attempts == 1
    assert row.recipients == "fin_agent@example.com, fin_lead@example.com"


def test_the_notification_outbox_refuses_a_rebuild(org: helpers.Org) -> None:
    with pytest.raises(ValueError, match="Not rebuildable"):
        rebuild(get_tickets_application(), projection_group("notifications"))


def test_clock_entries_are_internal_only(org: helpers.Org) -> None:
    tid = _breached_ticket(org)
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        sla_services.sla_sweep()
    entries = TimelineEntry.objects.filter(ticket_id=tid)
    clock_types = {
        "Ticket.ClockStarted",
        "Ticket.ClockStopped",
        "Ticket.SLABreached",
        "Ticket.SLAWarningIssued",
        "Ticket.ClockPaused",
        "Ticket.ClockResumed",
    }
    clock_entries = [e for e in entries if e.event_type in clock_types]
    assert {e.event_type for e in clock_entries} == {
        "Ticket.ClockStarted",
        "Ticket.SLABreached",
    }
    assert all(e.audience == "internal" for e in clock_entries)
    [breach] = [e for e in clock_entries if e.event_type == "Ticket.SLABreached"]
    assert breach.text == "FIN response SLA breached: it was due 2026-03-02 03:00 UTC."


def test_a_notification_another_sender_is_emailing_is_not_sent_again(
    org: helpers.Org,
) -> None:
    """The projection's enqueued task and the sweep's safety net can reach
    one row at the same moment on two workers: only the one that claims it
    sends. A claim older than the lease is a sender that died mid-send."""
    _breached_ticket(org)
    at = T0 + timedelta(hours=3)
    with time_machine.travel(at, tick=False):
        sla_services.sla_sweep()
    [row] = SLANotification.objects.all()
    # Another worker claimed it a moment ago and is talking to SMTP.
    SLANotification.objects.filter(pk=row.pk).update(claimed_at=at)
    with time_machine.travel(at + timedelta(seconds=1), tick=False):
        assert sla_services.notification_send(position=row.position) is False
        assert sweep_sla_clocks()["notifications_resent"] == 0
    assert mail.outbox == []
    # That worker died: after the lease the row is sent, once.
    later = at + notifications.lease() + timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        assert sla_services.notification_send(position=row.position) is True
        assert sla_services.notification_send(position=row.position) is False
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.sent_at is not None and row.claimed_at is None and row.attempts == 1


def test_an_alert_links_the_ticket_and_names_the_departments_time(
    org: helpers.Org, settings: Any
) -> None:
    """Times in Finance's timezone, named (and UTC), the ticket page link;
    a member who turned SLA alerts off is left out, the department's
    mailbox never is."""
    from tickets.models import NotificationSettings

    settings.BATON_PUBLIC_URL = "https://baton.example.com"
    fin = org.departments["FIN"]
    fin.email = "finance@example.com"
    fin.save()
    NotificationSettings.objects.create(user=org.leads["FIN"], sla_alert=False)
    tid = _breached_ticket(org)
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        sla_services.sla_sweep()
        sla_services.notifications_send_pending()
    [alert] = mail.outbox
    assert alert.to == ["fin_agent@example.com", "finance@example.com"]
    assert alert.subject == "[Baton] FIN: ticket breached its SLA: Refund not received"
    # Due 03:00 UTC is 11:00 in Shanghai.
    assert "Due: Mon 2 Mar 2026 11:00 (Asia/Shanghai), 2026-03-02 03:00 UTC" in (
        alert.body
    )
    assert (
        f"Open the ticket: https://baton.example.com/admin/tickets/queueticket/"
        f"{tid}/change/" in alert.body
    )


def test_an_alert_reaches_each_reader_in_their_language(
    org: helpers.Org, settings: Any
) -> None:
    """A member who reads Chinese gets the alert in Chinese; the mailbox and
    the others get it in the site's language; each address once."""
    from tickets.models import NotificationSettings

    fin = org.departments["FIN"]
    fin.email = "finance@example.com"
    fin.save()
    NotificationSettings.objects.create(user=org.leads["FIN"], language="zh-hans")
    _breached_ticket(org)
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        sla_services.sla_sweep()
        sla_services.notifications_send_pending()
    by_address = {address: m for m in mail.outbox for address in m.to}
    assert sorted(by_address) == sorted(
        ["fin_agent@example.com", "fin_lead@example.com", "finance@example.com"]
    )
    assert len(mail.outbox) == 2
    chinese = by_address["fin_lead@example.com"]
    assert chinese.subject != by_address["finance@example.com"].subject
    assert "Refund not received" in chinese.subject
    assert "Open the ticket" not in chinese.body
    assert "Open the ticket" in by_address["fin_agent@example.com"].body
    [row] = SLANotification.objects.all()
    assert row.sent_at is not None and row.attempts == 1


def test_an_at_risk_alert_links_the_ticket_and_names_the_departments_time(
    org: helpers.Org, settings: Any
) -> None:
    settings.BATON_PUBLIC_URL = "https://baton.example.com"
    fin = org.departments["FIN"]
    fin.email = "finance@example.com"
    fin.save()
    tid = _breached_ticket(org)
    # Due 03:00 UTC; at risk from 75 % of the hour (02:45), not yet due.
    with time_machine.travel(T0 + timedelta(minutes=50), tick=False):
        assert sla_services.sla_sweep().warnings == 1
        sla_services.notifications_send_pending()
    [row] = SLANotification.objects.all()
    assert row.kind == "warning" and row.sent_at is not None
    [alert] = mail.outbox
    assert alert.to == [
        "fin_agent@example.com",
        "fin_lead@example.com",
        "finance@example.com",
    ]
    assert alert.subject == "[Baton] FIN: ticket is at risk: Refund not received"
    assert "Due: Mon 2 Mar 2026 11:00 (Asia/Shanghai), 2026-03-02 03:00 UTC" in (
        alert.body
    )
    assert (
        f"Open the ticket: https://baton.example.com/admin/tickets/queueticket/"
        f"{tid}/change/" in alert.body
    )


def test_an_alert_about_a_subject_with_line_breaks_is_sent(org: helpers.Org) -> None:
    """A newline in a mail header is refused (BadHeaderError): the subject
    is sent on one line, and the alert is not retried forever."""
    _breached_ticket(org, subject="Refund\nnot   received\r\n(again)")
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        sla_services.sla_sweep()
        assert sla_services.notifications_send_pending() == 1
    [alert] = mail.outbox
    assert alert.subject == (
        "[Baton] FIN: ticket breached its SLA: Refund not received (again)"
    )
    [row] = SLANotification.objects.all()
    assert row.sent_at is not None and row.last_error == ""
