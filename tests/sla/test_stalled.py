"""Stalled stints: an open stint with no public activity for longer than its
department's ``stall_after`` (business time) is recorded once by the sweep,
alerts the department, shows in the queue and counts on the scorecard.

Finance works Mon-Fri 09:00-12:00 and 13:00-18:00 Shanghai (01:00-04:00
and 05:00-10:00 UTC) and allows 8 business hours without public activity.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import pytest
from django.core import mail
from django.db import connection

from sla import services as sla_services
from sla.models import ScorecardHandoff, SLANotification
from sla.selectors import ScorecardPeriod, scorecard_drilldown
from tests.helpers import Org, open_ticket, stored_events
from tests.sla.concurrent import concurrent_sweeps
from tests.sla.conftest import H, z
from tickets import services
from tickets.application import get_tickets_application
from tickets.domain import Ticket
from tickets.models import TicketSummary
from tickets.projection_runner import audit, catch_up, projection_group
from tickets.sla_clocks import STALLED, is_stalled, stalled_condition


@pytest.fixture
def stall_org(sla_org: Org) -> Org:
    sla_services.policy_version_create(
        department=sla_org.departments["FIN"],
        effective_from=z("2026-02-01 00:00"),
        response_normal=4 * H,
        warn_percent=75,
        stall_after=8 * H,
    )
    return sla_org


def to_finance(org: Org, at: Any, when: str = "2026-03-02 02:00") -> UUID:
    at(when)
    tid = open_ticket(org)
    services.ticket_hand_off(
        principal=org.agent("CS"), ticket_id=tid, to_department="FIN", reason="r"
    )
    return tid


def stalls(tid: UUID) -> list[Any]:
    return [e for e in stored_events(tid) if isinstance(e, Ticket.StintStalled)]


def sweep(at: Any, when: str) -> sla_services.SweepResult:
    at(when)
    return sla_services.sla_sweep()


def project_scorecards() -> None:
    catch_up(get_tickets_application(), projection_group("scorecards"))


def test_a_quiet_stint_stalls_after_its_business_hours_once(
    stall_org: Org, at: Any
) -> None:
    tid = to_finance(stall_org, at)  # Mon 10:00 Shanghai
    stint = TicketSummary.objects.get(pk=tid).current_stint_id
    # Mon 10:00-12:00, 13:00-18:00 = 7h; Tue 09:00-10:00 = the 8th hour.
    assert sweep(at, "2026-03-03 01:59").stalls == 0
    assert stalls(tid) == []
    first = sweep(at, "2026-03-03 02:30")
    assert first.stalls == 1
    [event] = stalls(tid)
    assert (event.stint_id, event.department) == (stint, "FIN")
    assert event.quiet_since == z("2026-03-02 02:00")
    assert event.stalled_at == z("2026-03-03 02:00")
    assert event.stall_after_seconds == 8 * 3600
    row = TicketSummary.objects.get(pk=tid)
    assert row.stalled_at == z("2026-03-03 02:00")
    assert is_stalled(row)
    # Exactly once: later sweeps record no other stall (they may record the
    # clocks' warnings and breaches).
    assert sweep(at, "2026-03-03 02:31").stalls == 0
    assert sweep(at, "2026-03-04 09:00").stalls == 0
    assert len(stalls(tid)) == 1
    # One alert to the department, saying "stalled".
    [alert] = SLANotification.objects.filter(kind="stalled")
    assert (alert.ticket_id, alert.clock_id, alert.department) == (tid, stint, "FIN")
    assert alert.due_at == z("2026-03-03 02:00")
    # (On-commit enqueues never run in a test transaction: send it here.)
    assert sla_services.notification_send(position=alert.position)
    assert not sla_services.notification_send(position=alert.position)
    [sent] = mail.outbox
    assert "stalled" in sent.subject and "Refund not received" in sent.subject
    assert "Stalled at:" in sent.body
    assert "fin_agent@example.com" in sent.to


def test_the_weekend_does_not_count(stall_org: Org, at: Any) -> None:
    # Friday 17:00 Shanghai: 1h left on Friday, then Monday 09:00-12:00,
    # 13:00-17:00 -> stalls Monday 17:00 Shanghai (09:00 UTC).
    tid = to_finance(stall_org, at, "2026-03-06 09:00")
    assert sweep(at, "2026-03-08 12:00").stalls == 0  # Sunday: 51h later
    assert sweep(at, "2026-03-09 08:59").stalls == 0
    assert sweep(at, "2026-03-09 09:00").stalls == 1
    assert stalls(tid)[0].stalled_at == z("2026-03-09 09:00")


def test_public_activity_restarts_the_quiet_period_and_it_may_stall_again(
    stall_org: Org, at: Any
) -> None:
    tid = to_finance(stall_org, at)
    at("2026-03-02 09:00")  # Mon 17:00 Shanghai: after 6 quiet hours
    services.ticket_record_customer_reply(
        principal=services.principal_for_customer(customer_ref="CUST-1"),
        ticket_id=tid,
        body="Any news?",
    )
    assert TicketSummary.objects.get(pk=tid).last_public_at == z("2026-03-02 09:00")
    # 8h from Mon 17:00: Mon 17:00-18:00, Tue 09:00-12:00, 13:00-17:00.
    assert sweep(at, "2026-03-03 08:59").stalls == 0
    assert sweep(at, "2026-03-03 09:00").stalls == 1
    at("2026-03-03 09:30")
    services.ticket_respond(
        principal=stall_org.agent("FIN"), ticket_id=tid, body="Looking into it"
    )
    row = TicketSummary.objects.get(pk=tid)
    assert row.stalled_at is None and not is_stalled(row)
    # Tue 17:30 + 8h -> Wed 17:30 Shanghai (09:30 UTC).
    assert sweep(at, "2026-03-04 09:29").stalls == 0
    assert sweep(at, "2026-03-04 09:30").stalls == 1
    assert [e.quiet_since for e in stalls(tid)] == [
        z("2026-03-02 09:00"),
        z("2026-03-03 09:30"),
    ]
    assert SLANotification.objects.filter(kind="stalled").count() == 2
    # The scorecard counts the stint once.
    project_scorecards()
    fact = ScorecardHandoff.objects.get(pk=row.current_stint_id)
    first_alert = SLANotification.objects.filter(kind="stalled").order_by("position")[0]
    assert fact.stalled_position == first_alert.position


def test_waiting_on_the_customer_is_not_stalling(stall_org: Org, at: Any) -> None:
    tid = to_finance(stall_org, at)
    at("2026-03-02 03:00")  # Mon 11:00 Shanghai
    services.ticket_wait_on_customer(
        principal=stall_org.agent("FIN"), ticket_id=tid, reason="IBAN"
    )
    assert sweep(at, "2026-03-05 03:00").stalls == 0
    at("2026-03-05 03:00")  # Thu 11:00 Shanghai: Finance stops waiting
    services.ticket_end_waiting(principal=stall_org.agent("FIN"), ticket_id=tid)
    # The quiet period starts again when waiting ends: Thu 11:00 + 8h ->
    # Fri 11:00 Shanghai (03:00 UTC).
    assert sweep(at, "2026-03-06 02:59").stalls == 0
    assert sweep(at, "2026-03-06 03:00").stalls == 1
    assert stalls(tid)[0].quiet_since == z("2026-03-05 03:00")


def test_departments_without_a_limit_never_stall(stall_org: Org, at: Any) -> None:
    tid = open_ticket_at(stall_org, at)  # stays with CS, which has no limit
    assert sweep(at, "2026-03-20 02:00").stalls == 0
    assert stalls(tid) == []


def open_ticket_at(org: Org, at: Any) -> UUID:
    at("2026-03-02 02:00")
    return open_ticket(org)


def test_the_queue_filter_and_the_scorecard_drilldown_match_the_count(
    stall_org: Org, at: Any
) -> None:
    quiet = [to_finance(stall_org, at) for _ in range(3)]
    busy = to_finance(stall_org, at)
    at("2026-03-02 08:00")
    services.ticket_respond(principal=stall_org.agent("FIN"), ticket_id=busy, body="Hi")
    assert sweep(at, "2026-03-03 02:00").stalls == 3
    stalled_rows = TicketSummary.objects.filter(stalled_condition())
    assert set(stalled_rows.values_list("ticket_id", flat=True)) == set(quiet)
    assert STALLED == "stalled"
    project_scorecards()
    address = ScorecardPeriod(
        department=stall_org.departments["FIN"],
        period="day",
        start=date(2026, 3, 2),
        end=date(2026, 3, 3),
    )
    value, count, rows = scorecard_drilldown(address, "stalled")
    assert value == count == len(rows) == 3
    assert {r.ticket_id for r in rows} == set(quiet)
    assert all(r.stalled_position is not None for r in rows)
    from sla.models import Scorecard

    card = Scorecard.objects.get(key="FIN|day|2026-03-02|*")
    assert card.figures["stalled"] == 3
    assert card.figures["abandoned"] == 0
    # The scorecards built incrementally equal a rebuild from the log.
    assert audit(get_tickets_application(), projection_group("scorecards")) == []


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_record_one_stall_per_stint(
    stall_org: Org, at: Any
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "Concurrent sweeps need PostgreSQL: set DATABASE_URL=postgres://..."
        )
    tickets = [to_finance(stall_org, at) for _ in range(6)]
    later = z("2026-03-03 03:00")
    results = concurrent_sweeps(later)
    assert sum(r.stalls for r in results) == 6
    recorded = [e for e in stored_events() if isinstance(e, Ticket.StintStalled)]
    assert sorted(str(e.originator_id) for e in recorded) == sorted(map(str, tickets))
    assert SLANotification.objects.filter(kind="stalled").count() == 6


def test_the_work_queue_shows_the_stalled_chip_count_and_filter(
    stall_org: Org, at: Any
) -> None:
    from django.test import Client

    from tests.tickets.test_admin_queue import subjects

    quiet = to_finance(stall_org, at)
    busy = open_ticket(stall_org, subject="Answered in time")
    services.ticket_hand_off(
        principal=stall_org.agent("CS"), ticket_id=busy, to_department="FIN", reason="r"
    )
    at("2026-03-02 08:00")
    services.ticket_respond(principal=stall_org.agent("FIN"), ticket_id=busy, body="Hi")
    assert sweep(at, "2026-03-03 04:00").stalls == 1
    client = Client()
    client.force_login(stall_org.agents["FIN"])
    queue = "/admin/tickets/queueticket/?dept=FIN"
    page = client.get(queue).content.decode()
    assert "Stalled: 1" in page
    assert page.count('class="baton-sla baton-stalled" title=') == 1
    assert subjects(client.get(queue + "&stalled=yes").content.decode()) == [
        TicketSummary.objects.get(pk=quiet).subject
    ]
    assert subjects(client.get(queue + "&stalled=no").content.decode()) == [
        "Answered in time"
    ]
