"""SLA clocks end to end, with frozen time, through the services and real
policy and calendar versions.

Monday 2026-03-02. Shanghai is UTC+8 (no DST): 10:00 in Shanghai is
02:00Z. Finance works 09:00-12:00 and 13:00-18:00 Shanghai time, Customer
Service 09:00-18:00 Shanghai time, Logistics 09:00-17:00 New York time.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from django.core import mail
from django.core.management import call_command

from sla import services as sla_services
from sla.models import SLANotification
from tests.helpers import Org, open_ticket, stored_events
from tests.sla.conftest import H, clock, fin_stint, z
from tickets import services
from tickets.application import get_tickets_application
from tickets.domain import Ticket
from tickets.models import SLAClock
from tickets.projection_runner import projection_group, rebuild


def handed_to_finance(org: Org, at: Any) -> tuple[UUID, UUID]:
    """Opened Mon 10:00 Shanghai, handed to Finance at 10:30: Finance's 4h
    clock runs 10:30-12:00 (1.5h) and 13:00-15:30 (2.5h): due 07:30Z."""
    at("2026-03-02 02:00")
    tid = open_ticket(org)
    at("2026-03-02 02:30")
    services.ticket_hand_off(
        principal=org.agent("CS"),
        ticket_id=tid,
        to_department="FIN",
        reason="Refund approval",
    )
    return tid, fin_stint(tid)


def test_clocks_start_with_due_times_fixed_in_the_event(sla_org: Org, at: Any) -> None:
    at("2026-03-02 02:00")
    tid = open_ticket(sla_org)
    opening = fin_stint(tid)
    started = [e for e in stored_events(tid) if isinstance(e, Ticket.ClockStarted)]
    assert [(e.kind, e.stint_id, e.department) for e in started] == [
        ("response", opening, "CS"),
        ("resolution", None, "CS"),
    ]
    response, resolution = started
    # CS: 1h from 10:00 Shanghai -> 11:00 (03:00Z); warning at 75% -> 10:45.
    assert (response.due_at, response.warn_at) == (
        z("2026-03-02 03:00"),
        z("2026-03-02 02:45"),
    )
    assert (response.policy_version, response.calendar_version) == (1, 1)
    # 16h of 9h days from Mon 10:00: Mon 8h, Tue 9h -> Tue 17:00 Shanghai.
    assert resolution.due_at == z("2026-03-03 09:00")
    row = clock(opening)
    assert (row.state, row.kind, row.department, row.handoff_id) == (
        "running",
        "response",
        "CS",
        opening,
    )
    assert clock(tid).handoff_id is None


def test_a_response_in_time_is_met(sla_org: Org, at: Any) -> None:
    tid, stint = handed_to_finance(sla_org, at)
    assert clock(stint).due_at == z("2026-03-02 07:30")
    at("2026-03-02 06:00")  # 14:00 Shanghai
    services.ticket_respond(principal=sla_org.agent("FIN"), ticket_id=tid, body="On it")
    row = clock(stint)
    assert (row.state, row.outcome) == ("met", "responded")
    # 10:30-12:00 and 13:00-14:00 = 2.5h
    assert row.business_seconds_used == 2.5 * 3600
    assert not any(isinstance(e, Ticket.SLABreached) for e in stored_events(tid))


def test_a_late_reply_is_a_breach_even_if_no_sweep_noticed(
    sla_org: Org, at: Any
) -> None:
    tid, stint = handed_to_finance(sla_org, at)
    at("2026-03-02 08:00")  # 16:00 Shanghai, past 15:30
    services.ticket_respond(principal=sla_org.agent("FIN"), ticket_id=tid, body="Sorry")
    row = clock(stint)
    assert (row.state, row.outcome, row.breach_recorded) == (
        "breached",
        "responded",
        True,
    )
    assert row.business_seconds_used == 4.5 * 3600
    [breach] = [e for e in stored_events(tid) if isinstance(e, Ticket.SLABreached)]
    assert (breach.clock_id, breach.due_at, breach.timestamp) == (
        stint,
        z("2026-03-02 07:30"),
        z("2026-03-02 08:00"),
    )


def test_a_clock_breached_while_running_is_recorded_once_by_the_sweep(
    sla_org: Org, at: Any, django_capture_on_commit_callbacks: Any
) -> None:
    tid, stint = handed_to_finance(sla_org, at)
    at("2026-03-02 06:45")  # past the 75% warning (14:30 Shanghai = 06:30Z)
    with django_capture_on_commit_callbacks(execute=True):
        first = sla_services.sla_sweep()
    assert (first.warnings, first.breaches) == (1, 0)
    assert clock(stint).warning_recorded
    at("2026-03-02 09:00")  # long after 07:30Z: found late
    with django_capture_on_commit_callbacks(execute=True):
        second = sla_services.sla_sweep()
        again = sla_services.sla_sweep()
    assert second.breaches == 1 and again.breaches == 0 and again.warnings == 0
    row = clock(stint)
    assert (row.state, row.breach_recorded) == ("breached_running", True)
    breaches = [e for e in stored_events(tid) if isinstance(e, Ticket.SLABreached)]
    assert [(b.due_at, b.timestamp) for b in breaches if b.clock_id == stint] == [
        (z("2026-03-02 07:30"), z("2026-03-02 09:00"))
    ]

    at("2026-03-02 09:30")
    services.ticket_respond(principal=sla_org.agent("FIN"), ticket_id=tid, body="Late")
    assert clock(stint).state == "breached"
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

    notes = list(SLANotification.objects.filter(clock_id=stint).order_by("position"))
    assert [(n.kind, n.sent_at is not None) for n in notes] == [
        ("warning", True),
        ("breach", True),
    ]
    fin_emails = [m for m in mail.outbox if "FIN" in m.subject]
    assert len(fin_emails) == 2
    assert set(fin_emails[1].to) == {"fin_agent@example.com", "fin_lead@example.com"}
    assert "breached its SLA" in fin_emails[1].subject


@pytest.mark.parametrize(
    ("hand_at", "verdict"),
    [("2026-03-02 02:59", "met"), ("2026-03-02 03:10", "breached")],
)
def test_handing_on_without_responding_stops_the_clock_as_handed_on(
    sla_org: Org, at: Any, hand_at: str, verdict: str
) -> None:
    at("2026-03-02 02:00")
    tid = open_ticket(sla_org)
    opening = fin_stint(tid)
    at(hand_at)  # the front line's 1h response was due 03:00Z
    services.ticket_hand_off(
        principal=sla_org.agent("CS"),
        ticket_id=tid,
        to_department="FIN",
        reason="Refund approval",
    )
    row = clock(opening)
    assert (row.state, row.outcome) == (verdict, "handed_on")


def test_waiting_pauses_and_moves_the_due_time_by_exactly_the_paused_business_time(
    sla_org: Org, at: Any
) -> None:
    tid, stint = handed_to_finance(sla_org, at)
    at("2026-03-02 03:30")  # Mon 11:30 Shanghai
    services.ticket_wait_on_customer(
        principal=sla_org.agent("FIN"), ticket_id=tid, reason="Bank details"
    )
    assert clock(stint).state == "paused" and clock(tid).state == "paused"
    at("2026-03-03 02:00")  # Tue 10:00 Shanghai
    services.ticket_record_customer_reply(
        principal=services.principal_for_customer(customer_ref="CUST-1"),
        ticket_id=tid,
        body="Here",
    )
    resumed = {
        e.clock_id: e for e in stored_events(tid) if isinstance(e, Ticket.ClockResumed)
    }
    # Finance paused: Mon 11:30-12:00, 13:00-18:00, Tue 09:00-10:00 = 6.5h.
    assert resumed[stint].paused_seconds == 6.5 * 3600
    # Due Mon 15:30 + 6.5h: Mon 15:30-18:00 (2.5h), Tue 09:00-12:00 (3h),
    # 13:00-14:00 (1h) -> Tue 14:00 Shanghai = 06:00Z.
    row = clock(stint)
    assert (row.state, row.due_at, row.paused_seconds) == (
        "running",
        z("2026-03-03 06:00"),
        6.5 * 3600,
    )
    # The ticket-level clock pauses on the front line's calendar: Mon
    # 11:30-18:00 and Tue 09:00-10:00 = 7.5h; Tue 17:00 + 7.5h -> Wed 15:30.
    assert resumed[tid].paused_seconds == 7.5 * 3600
    assert clock(tid).due_at == z("2026-03-04 07:30")
    at("2026-03-03 05:00")  # Tue 13:00: 2.5h Monday + 1h + 2h... still in time
    services.ticket_respond(principal=sla_org.agent("FIN"), ticket_id=tid, body="Done")
    row = clock(stint)
    assert row.state == "met"
    # Used: Mon 10:30-11:30 (1h) + Tue 10:00-12:00 (2h) = 3h.
    assert row.business_seconds_used == 3 * 3600


def test_a_policy_edit_never_changes_a_running_clock(sla_org: Org, at: Any) -> None:
    tid, stint = handed_to_finance(sla_org, at)
    at("2026-03-02 03:00")
    sla_services.policy_version_create(
        department=sla_org.departments["FIN"], response_normal=H, note="Tighter"
    )
    row = clock(stint)
    assert (row.due_at, row.policy_version) == (z("2026-03-02 07:30"), 1)
    # A new stint in Finance starts under version 2.
    at("2026-03-02 03:10")
    services.ticket_hand_off(
        principal=sla_org.agent("FIN"),
        ticket_id=tid,
        to_department="CS",
        reason="Needs customer call",
    )
    at("2026-03-02 03:20")
    services.ticket_hand_off(
        principal=sla_org.agent("CS"),
        ticket_id=tid,
        to_department="FIN",
        reason="Back for refund",
    )
    new = clock(fin_stint(tid))
    # 1h from 11:20 Shanghai: 11:20-12:00, lunch, 13:00-13:20 -> 05:20Z.
    assert (new.policy_version, new.due_at) == (2, z("2026-03-02 05:20"))
    assert clock(stint).due_at == z("2026-03-02 07:30")


def test_the_ticket_level_clock_runs_across_three_handoffs_and_a_reopen(
    sla_org: Org, at: Any
) -> None:
    at("2026-03-02 02:00")
    tid = open_ticket(sla_org)
    cs, fin, log, risk = (sla_org.agent(c) for c in ("CS", "FIN", "LOG", "RISK"))
    at("2026-03-02 02:10")
    services.ticket_hand_off(
        principal=cs, ticket_id=tid, to_department="FIN", reason="a"
    )
    at("2026-03-02 02:20")
    services.ticket_hand_off(
        principal=fin, ticket_id=tid, to_department="LOG", reason="b"
    )
    at("2026-03-02 14:20")  # Mon 09:20 New York
    services.ticket_hand_off(
        principal=log, ticket_id=tid, to_department="RISK", reason="c"
    )
    at("2026-03-03 01:30")  # Tue 09:30 Shanghai
    services.ticket_resolve(
        principal=risk, ticket_id=tid, resolution="Unblocked", root_cause="policy"
    )
    ticket_clock = clock(tid)
    # CS calendar: Mon 10:00-18:00 (8h) + Tue 09:00-09:30 = 8.5h used, met.
    assert (ticket_clock.state, ticket_clock.business_seconds_used) == (
        "met",
        8.5 * 3600,
    )

    at("2026-03-03 03:00")  # Tue 11:00: the customer reopens
    services.ticket_reopen(
        principal=services.principal_for_customer(customer_ref="CUST-1"),
        ticket_id=tid,
        reason="Still blocked",
    )
    ticket_clock = clock(tid)
    # Stopped Tue 09:30-11:00 = 1.5h moves the due (Tue 17:00) to Wed 09:30.
    assert (ticket_clock.state, ticket_clock.paused_seconds) == ("running", 1.5 * 3600)
    assert ticket_clock.due_at == z("2026-03-04 01:30")
    at("2026-03-04 02:00")  # Wed 10:00: past the moved due time
    services.ticket_resolve(
        principal=risk,
        ticket_id=tid,
        resolution="Really unblocked",
        root_cause="policy",
    )
    ticket_clock = clock(tid)
    # Used: 8.5h + Tue 11:00-18:00 (7h) + Wed 09:00-10:00 (1h) = 16.5h > 16h.
    assert (ticket_clock.state, ticket_clock.business_seconds_used) == (
        "breached",
        16.5 * 3600,
    )
    responses = SLAClock.objects.filter(ticket_id=tid, kind="response").order_by(
        "started_at"
    )
    assert [c.department for c in responses] == ["CS", "FIN", "LOG", "RISK", "RISK"]
    assert [c.outcome for c in responses] == ["handed_on"] * 3 + ["resolved"] * 2
    assert SLAClock.objects.filter(ticket_id=tid, handoff__isnull=True).count() == 1


def test_replaying_the_log_rebuilds_clocks_identically_after_config_changes(
    sla_org: Org, at: Any
) -> None:
    tid, _ = handed_to_finance(sla_org, at)
    at("2026-03-02 03:30")
    services.ticket_wait_on_customer(principal=sla_org.agent("FIN"), ticket_id=tid)
    at("2026-03-03 02:00")
    services.ticket_end_waiting(principal=sla_org.agent("FIN"), ticket_id=tid)
    at("2026-03-03 09:00")
    sla_services.sla_sweep()
    before = list(SLAClock.objects.order_by("pk").values())
    assert len(before) == 3  # CS response, ticket resolution, FIN response

    # Everything changes afterwards: policies, calendars, holidays.
    for code in ("CS", "FIN"):
        sla_services.policy_version_create(
            department=sla_org.departments[code],
            response_normal=10 * H,
            resolution_normal=99 * H,
        )
        sla_services.calendar_version_create(
            department=sla_org.departments[code],
            timezone="UTC",
            saturday="00:00-24:00",
            holiday_country="CN",
        )
    rebuild(get_tickets_application(), projection_group("core"))
    assert list(SLAClock.objects.order_by("pk").values()) == before
    call_command("rebuild_projections")
    assert list(SLAClock.objects.order_by("pk").values()) == before


def test_versions_are_immutable(sla_org: Org) -> None:
    from django.core.exceptions import ValidationError

    from sla.models import SLAPolicyVersion

    version = SLAPolicyVersion.objects.get(policy__department__code="FIN")
    version.warn_percent = 50
    with pytest.raises(ValidationError, match="immutable"):
        version.save()
    with pytest.raises(ValidationError):
        version.delete()
    assert SLAPolicyVersion.objects.get(pk=version.pk).warn_percent == 75


def test_departments_without_a_policy_run_no_clock(sla_org: Org, at: Any) -> None:
    at("2026-03-02 02:00")
    tid = open_ticket(sla_org)
    at("2026-03-02 02:10")
    services.ticket_hand_off(
        principal=sla_org.agent("CS"), ticket_id=tid, to_department="PROD", reason="Bug"
    )
    assert not SLAClock.objects.filter(ticket_id=tid, department="PROD").exists()
