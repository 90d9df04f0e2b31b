"""Clock edge cases found in review: late pauses, stopping paused clocks,
handing back to the front line, the built-in 24/7 calendar, and the sweep
and outbox surviving bad rows and mail failures.

Times as in test_clocks: Monday 2026-03-02, Shanghai = UTC+8; Finance
works 09:00-12:00 and 13:00-18:00 Shanghai time (Finance 4h response)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from sla import services as sla_services
from sla.models import SLANotification
from tests.helpers import Org, open_ticket, stored_events
from tests.sla.conftest import H, clock, fin_stint, z
from tickets import services
from tickets.application import get_tickets_application
from tickets.domain import Ticket
from tickets.models import SLAClock, TicketSummary
from tickets.projection_runner import projection_group, rebuild


def handed_to_finance(org: Org, at: Any) -> tuple[Any, Any]:
    at("2026-03-02 02:00")
    tid = open_ticket(org)
    at("2026-03-02 02:30")  # Finance due 15:30 Shanghai = 07:30Z
    services.ticket_hand_off(
        principal=org.agent("CS"), ticket_id=tid, to_department="FIN", reason="r"
    )
    return tid, fin_stint(tid)


def test_pausing_an_overdue_clock_records_the_breach_first(
    sla_org: Org, at: Any
) -> None:
    """Due 15:30; waiting starts 18:30 (after hours, no sweep ran); the reply
    next morning comes while waiting. Without the rule, the pause would move
    the due time past the reply and launder the breach."""
    tid, stint = handed_to_finance(sla_org, at)
    at("2026-03-02 10:30")  # Mon 18:30 Shanghai
    services.ticket_wait_on_customer(principal=sla_org.agent("FIN"), ticket_id=tid)
    breach = [
        e
        for e in stored_events(tid)
        if isinstance(e, Ticket.SLABreached) and e.clock_id == stint
    ]
    assert [(b.due_at, b.timestamp) for b in breach] == [
        (z("2026-03-02 07:30"), z("2026-03-02 10:30"))
    ]
    at("2026-03-03 02:00")  # Tue 10:00, still waiting
    services.ticket_respond(principal=sla_org.agent("FIN"), ticket_id=tid, body="Hi")
    row = clock(stint)
    assert (row.state, row.outcome) == ("breached", "responded")
    assert (
        len(
            [
                e
                for e in stored_events(tid)
                if isinstance(e, Ticket.SLABreached) and e.clock_id == stint
            ]
        )
        == 1
    )


def test_responding_while_waiting_stops_the_paused_clock_without_counting_the_pause(
    sla_org: Org, at: Any
) -> None:
    tid, stint = handed_to_finance(sla_org, at)
    at("2026-03-02 03:30")  # Mon 11:30: 1h used
    services.ticket_wait_on_customer(principal=sla_org.agent("FIN"), ticket_id=tid)
    at("2026-03-02 06:00")  # Mon 14:00, still waiting
    services.ticket_respond(principal=sla_org.agent("FIN"), ticket_id=tid, body="Hi")
    row = clock(stint)
    assert (row.state, row.business_seconds_used) == ("met", 3600.0)
    # Paused 11:30-12:00 and 13:00-14:00 = 1.5h moved the due by 1.5h.
    assert row.paused_seconds == 1.5 * 3600
    assert row.due_at == z("2026-03-02 09:00")
    # The ticket is still waiting: the ticket-level clock stays paused.
    assert clock(tid).state == "paused"
    assert TicketSummary.objects.get(pk=tid).status == "waiting"


def test_the_warning_time_moves_with_a_pause(sla_org: Org, at: Any) -> None:
    tid, stint = handed_to_finance(sla_org, at)
    assert clock(stint).warn_at == z("2026-03-02 06:30")  # 75% of 4h
    at("2026-03-02 03:00")
    services.ticket_wait_on_customer(principal=sla_org.agent("FIN"), ticket_id=tid)
    at("2026-03-02 05:00")  # paused 11:00-12:00, 13:00 = 1h
    services.ticket_end_waiting(principal=sla_org.agent("FIN"), ticket_id=tid)
    row = clock(stint)
    assert (row.warn_at, row.due_at) == (z("2026-03-02 07:30"), z("2026-03-02 08:30"))


def test_a_breach_then_a_pause_keeps_the_breach(sla_org: Org, at: Any) -> None:
    tid, stint = handed_to_finance(sla_org, at)
    at("2026-03-02 08:00")
    sla_services.sla_sweep()
    at("2026-03-02 09:00")
    services.ticket_wait_on_customer(principal=sla_org.agent("FIN"), ticket_id=tid)
    assert (clock(stint).state, clock(stint).breach_recorded) == ("paused", True)
    at("2026-03-03 02:00")
    services.ticket_end_waiting(principal=sla_org.agent("FIN"), ticket_id=tid)
    assert clock(stint).state == "breached_running"
    at("2026-03-03 02:30")
    services.ticket_respond(principal=sla_org.agent("FIN"), ticket_id=tid, body="Hi")
    assert clock(stint).state == "breached"
    assert (
        len([e for e in stored_events(tid) if isinstance(e, Ticket.SLABreached)]) == 1
    )


def test_the_front_line_gets_a_fresh_clock_when_a_ticket_comes_back(
    sla_org: Org, at: Any
) -> None:
    tid, _ = handed_to_finance(sla_org, at)
    at("2026-03-02 03:00")
    services.ticket_hand_off(
        principal=sla_org.agent("FIN"),
        ticket_id=tid,
        to_department="CS",
        reason="Customer call needed",
    )
    cs_clocks = SLAClock.objects.filter(ticket_id=tid, department="CS", kind="response")
    assert [c.state for c in cs_clocks.order_by("started_at")] == ["met", "running"]
    assert cs_clocks.order_by("started_at").last().due_at == z("2026-03-02 04:00")
    # The front line has no stint ownership clock; the ticket clock runs on.
    assert not SLAClock.objects.filter(
        ticket_id=tid, department="CS", kind="resolution", handoff__isnull=False
    ).exists()
    assert clock(tid).state == "running"


def test_a_department_with_a_policy_but_no_calendar_runs_round_the_clock(
    sla_org: Org, at: Any
) -> None:
    sla_services.policy_version_create(
        department=sla_org.departments["PROD"],
        effective_from=z("2026-01-01 00:00"),
        response_normal=3 * H,
    )
    at("2026-03-07 02:00")  # a Saturday
    tid = open_ticket(sla_org)
    services.ticket_hand_off(
        principal=sla_org.agent("CS"), ticket_id=tid, to_department="PROD", reason="Bug"
    )
    row = SLAClock.objects.get(ticket_id=tid, department="PROD")
    assert (row.calendar_version, row.due_at) == (0, z("2026-03-07 05:00"))


def test_a_calendar_without_working_hours_is_refused(sla_org: Org) -> None:
    closed = dict.fromkeys(["monday", "tuesday", "wednesday", "thursday", "friday"], "")
    with pytest.raises(ValidationError, match="working hours"):
        sla_services.calendar_version_create(
            department=sla_org.departments["LOG"], **closed
        )


def test_an_orphan_clock_row_does_not_block_the_sweep(sla_org: Org, at: Any) -> None:
    _, stint = handed_to_finance(sla_org, at)
    SLAClock.objects.create(
        id=uuid4(),
        ticket_id=uuid4(),
        department="FIN",
        kind="response",
        state="running",
        started_at=z("2026-03-01 00:00"),
        due_at=z("2026-03-01 01:00"),
        warn_at=z("2026-03-01 00:45"),
        target_seconds=3600.0,
        policy_version=1,
        calendar_version=1,
        started_position=0,
    )
    result = sla_services.sla_sweep(now=z("2026-03-02 09:00"))
    assert (result.breaches, result.skipped) == (1, 1)
    assert clock(stint).state == "breached_running"


def test_a_failed_email_is_recorded_and_sent_by_a_later_sweep(
    sla_org: Org, at: Any, settings: Any
) -> None:
    handed_to_finance(sla_org, at)
    at("2026-03-02 09:00")
    sla_services.sla_sweep()
    [row] = SLANotification.objects.filter(kind="breach")
    settings.EMAIL_BACKEND = "tests.sla.failing_mail.Backend"
    with pytest.raises(OSError, match="mail server down"):
        sla_services.notification_send(position=row.position)
    row.refresh_from_db()
    assert (row.attempts, row.sent_at) == (1, None)
    assert row.last_error == "OSError: mail server down"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert sla_services.notifications_send_pending() == 1
    row.refresh_from_db()
    assert (row.attempts, row.last_error) == (2, "")
    assert row.sent_at is not None and len(mail.outbox) == 1


def test_a_department_nobody_can_be_emailed_about_is_flagged_not_retried(
    sla_org: Org, at: Any
) -> None:
    from django.contrib.auth.models import User

    User.objects.filter(memberships__department__code="FIN").update(email="")
    handed_to_finance(sla_org, at)
    at("2026-03-02 09:00")
    sla_services.sla_sweep()
    assert sla_services.notifications_send_pending() == 0
    [row] = SLANotification.objects.filter(kind="breach")
    assert row.sent_at is not None and "no email" in row.last_error
    assert mail.outbox == []


def test_rebuilding_with_clocks_in_small_flushes_equals_the_incremental_build(
    sla_org: Org, at: Any
) -> None:
    tid, _ = handed_to_finance(sla_org, at)
    at("2026-03-02 03:30")
    services.ticket_wait_on_customer(principal=sla_org.agent("FIN"), ticket_id=tid)
    at("2026-03-02 10:30")
    services.ticket_record_customer_reply(
        principal=services.principal_for_customer(customer_ref="CUST-1"),
        ticket_id=tid,
        body="here",
    )
    at("2026-03-03 09:00")
    sla_services.sla_sweep()
    services.ticket_resolve(
        principal=sla_org.agent("FIN"),
        ticket_id=tid,
        resolution="done",
        root_cause="other",
    )
    at("2026-03-03 10:00")
    services.ticket_reopen(principal=sla_org.agent("CS"), ticket_id=tid, reason="again")
    before = {
        "clocks": list(SLAClock.objects.order_by("pk").values()),
        "summary": list(TicketSummary.objects.values()),
    }
    assert len(before["clocks"]) == 4
    for flush_every in (1, 3):
        rebuild(
            get_tickets_application(), projection_group("core"), flush_every=flush_every
        )
        after = {
            "clocks": list(SLAClock.objects.order_by("pk").values()),
            "summary": list(TicketSummary.objects.values()),
        }
        assert after == before
