"""Abandoned tickets: a ticket waiting on the customer longer (calendar time)
than its department's ``abandon_after`` is closed by the sweep with reason
``abandoned``, once; its clocks stop, its stint ends and it counts on the
department's scorecard, per scenario.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest
from django.db import connection

from sla import services as sla_services
from sla.models import Scorecard, ScorecardHandoff
from sla.selectors import ScorecardPeriod, scorecard_drilldown
from tests.helpers import Org, event_count, open_ticket, stored_events
from tests.sla.concurrent import concurrent_sweeps
from tests.sla.conftest import H, z
from tickets import services
from tickets.application import get_tickets_application
from tickets.domain import Ticket
from tickets.models import Handoff, SLAClock, TicketSummary
from tickets.projection_runner import audit, catch_up, projection_group

DAY = timedelta(days=1)


@pytest.fixture
def abandon_org(sla_org: Org) -> Org:
    sla_services.policy_version_create(
        department=sla_org.departments["FIN"],
        effective_from=z("2026-02-01 00:00"),
        response_normal=4 * H,
        warn_percent=75,
        abandon_after=3 * DAY,
    )
    return sla_org


def waiting_with_finance(
    org: Org, at: Any, scenario: str = "REFUND", when: str = "2026-03-02 02:00"
) -> UUID:
    at(when)
    tid = open_ticket(org, scenario=scenario)
    services.ticket_hand_off(
        principal=org.agent("CS"), ticket_id=tid, to_department="FIN", reason="r"
    )
    at("2026-03-02 03:00")  # Mon 11:00 Shanghai
    services.ticket_wait_on_customer(
        principal=org.agent("FIN"), ticket_id=tid, reason="Bank details"
    )
    return tid


def closings(tid: UUID) -> list[Any]:
    return [e for e in stored_events(tid) if isinstance(e, Ticket.Closed)]


def sweep(at: Any, when: str) -> sla_services.SweepResult:
    at(when)
    return sla_services.sla_sweep()


def project_scorecards() -> None:
    catch_up(get_tickets_application(), projection_group("scorecards"))


def test_waiting_past_the_limit_closes_the_ticket_as_abandoned_once(
    abandon_org: Org, at: Any
) -> None:
    tid = waiting_with_finance(abandon_org, at)
    stint = TicketSummary.objects.get(pk=tid).current_stint_id
    assert TicketSummary.objects.get(pk=tid).waiting_since == z("2026-03-02 03:00")
    # Calendar time: three days, weekends and nights included.
    assert sweep(at, "2026-03-05 02:59").abandoned == 0
    assert closings(tid) == []
    assert sweep(at, "2026-03-05 03:00").abandoned == 1
    [closed] = closings(tid)
    assert closed.reason == "abandoned"
    assert closed.stint_id == stint
    assert closed.actor.kind == "system"
    row = TicketSummary.objects.get(pk=tid)
    assert (row.status, row.closed_at, row.waiting_since) == (
        "closed",
        z("2026-03-05 03:00"),
        None,
    )
    # Every clock stopped, as abandoned; waiting time never counted.
    clocks = SLAClock.objects.filter(ticket_id=tid)
    assert {c.outcome for c in clocks} == {"handed_on", "abandoned"}
    assert all(c.stopped_at is not None for c in clocks)
    finance = clocks.get(pk=stint)
    assert finance.outcome == "abandoned"
    assert finance.business_seconds_used == 3600  # Mon 10:00-11:00 Shanghai
    handoff = Handoff.objects.get(pk=stint)
    assert handoff.ended_at == z("2026-03-05 03:00")
    assert handoff.outcome == "abandoned"
    # Once: later sweeps find nothing to do and store nothing.
    before = event_count()
    assert sweep(at, "2026-03-06 03:00").abandoned == 0
    assert event_count() == before
    assert len(closings(tid)) == 1


def test_a_reply_in_time_keeps_the_ticket_open(abandon_org: Org, at: Any) -> None:
    tid = waiting_with_finance(abandon_org, at)
    at("2026-03-05 02:00")
    services.ticket_record_customer_reply(
        principal=services.principal_for_customer(customer_ref="CUST-1"),
        ticket_id=tid,
        body="Here are my bank details",
    )
    assert sweep(at, "2026-03-09 03:00").abandoned == 0
    assert closings(tid) == []
    assert TicketSummary.objects.get(pk=tid).status == "open"


def test_waiting_again_counts_from_the_new_wait(abandon_org: Org, at: Any) -> None:
    tid = waiting_with_finance(abandon_org, at)
    at("2026-03-04 03:00")
    services.ticket_end_waiting(principal=abandon_org.agent("FIN"), ticket_id=tid)
    at("2026-03-04 04:00")
    services.ticket_wait_on_customer(
        principal=abandon_org.agent("FIN"), ticket_id=tid, reason="Still need it"
    )
    assert sweep(at, "2026-03-07 03:59").abandoned == 0
    assert sweep(at, "2026-03-07 04:00").abandoned == 1


def test_departments_without_a_limit_wait_forever(abandon_org: Org, at: Any) -> None:
    at("2026-03-02 02:00")
    tid = open_ticket(abandon_org)
    services.ticket_wait_on_customer(
        principal=abandon_org.agent("CS"), ticket_id=tid, reason="Photo"
    )
    assert sweep(at, "2026-06-01 00:00").abandoned == 0
    assert TicketSummary.objects.get(pk=tid).status == "waiting"


def test_abandonment_counts_per_department_and_scenario_with_its_drilldown(
    abandon_org: Org, at: Any
) -> None:
    refunds = [waiting_with_finance(abandon_org, at) for _ in range(2)]
    other = waiting_with_finance(abandon_org, at, scenario="ACCOUNT_LOCKED")
    answered = waiting_with_finance(abandon_org, at)
    at("2026-03-03 00:00")
    services.ticket_record_customer_reply(
        principal=services.principal_for_customer(customer_ref="CUST-1"),
        ticket_id=answered,
        body="Here",
    )
    assert sweep(at, "2026-03-06 00:00").abandoned == 3
    project_scorecards()
    address = ScorecardPeriod(
        department=abandon_org.departments["FIN"],
        period="day",
        start=date(2026, 3, 2),
        end=date(2026, 3, 3),
    )
    value, count, rows = scorecard_drilldown(address, "abandoned")
    assert value == count == len(rows) == 3
    assert {r.ticket_id for r in rows} == {*refunds, other}
    value, count, rows = scorecard_drilldown(address, "abandoned", "REFUND")
    assert value == count == 2
    assert {r.ticket_id for r in rows} == set(refunds)
    card = Scorecard.objects.get(key="FIN|day|2026-03-02|*")
    assert card.figures["abandoned"] == 3
    assert card.figures["finished"] == 3  # abandoned stints ended
    assert (
        Scorecard.objects.get(key="FIN|day|2026-03-02|REFUND").figures["abandoned"] == 2
    )
    assert (
        Scorecard.objects.get(key="FIN|month|2026-03-01|ACCOUNT_LOCKED").figures[
            "abandoned"
        ]
        == 1
    )
    fact = ScorecardHandoff.objects.get(ticket_id=other, department="FIN")
    assert fact.ended_how == "abandoned"
    assert fact.abandoned_position == fact.ended_position
    # Incremental scorecards equal a rebuild from the log.
    assert audit(get_tickets_application(), projection_group("scorecards")) == []


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_abandon_each_ticket_once(
    abandon_org: Org, at: Any
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "Concurrent sweeps need PostgreSQL: set DATABASE_URL=postgres://..."
        )
    tickets = [waiting_with_finance(abandon_org, at) for _ in range(6)]
    later = z("2026-03-06 00:00")
    results = concurrent_sweeps(later)
    assert sum(r.abandoned for r in results) == 6
    closed = [e for e in stored_events() if isinstance(e, Ticket.Closed)]
    assert sorted(str(e.originator_id) for e in closed) == sorted(map(str, tickets))
    assert all(e.reason == "abandoned" for e in closed)


def test_a_lead_sets_both_limits_in_the_policy_admin(sla_org: Org, at: Any) -> None:
    from django.test import Client

    from sla.models import SLAPolicyVersion

    at("2026-03-02 02:00")
    client = Client()
    client.force_login(sla_org.leads["CS"])
    url = "/admin/sla/slapolicyversion/add/"
    form = client.get(url).content.decode()
    assert 'name="stall_after"' in form and 'name="abandon_after"' in form
    response = client.post(
        url,
        {
            "department": sla_org.departments["FIN"].pk,
            "effective_from_0": "2026-03-02",
            "effective_from_1": "12:00:00",
            "response_normal": "04:00:00",
            "warn_percent": "75",
            "pause_on_waiting": "on",
            "scenario_overrides": "{}",
            "stall_after": "1 00:00:00",
            "abandon_after": "14 00:00:00",
            "note": "Journeys",
        },
    )
    assert response.status_code == 302, response.content[:500]
    latest = SLAPolicyVersion.objects.filter(policy__department__code="FIN").latest(
        "version"
    )
    assert (latest.stall_after, latest.abandon_after) == (DAY, 14 * DAY)
    listing = client.get("/admin/sla/slapolicyversion/").content.decode()
    assert "14 days" in listing


def test_the_customer_is_told_the_request_was_closed_and_how_to_come_back(
    abandon_org: Org, at: Any
) -> None:
    from django.core import mail

    from tickets.mail import notifications

    at("2026-03-02 02:00")
    tid = open_ticket(abandon_org, customer_contact="dana@example.com")
    services.ticket_hand_off(
        principal=abandon_org.agent("CS"),
        ticket_id=tid,
        to_department="FIN",
        reason="r",
    )
    at("2026-03-02 03:00")
    services.ticket_wait_on_customer(
        principal=abandon_org.agent("FIN"), ticket_id=tid, reason="Bank details"
    )
    assert sweep(at, "2026-03-05 03:00").abandoned == 1
    mail.outbox.clear()
    notifications.send_due()
    [email] = [m for m in mail.outbox if "did not hear back" in m.subject]
    assert email.to == ["dana@example.com"]
    assert email.subject == "Closed, we did not hear back: Refund not received"
    assert "Finance was waiting for your reply" in email.body
    assert "Reply to this email" in email.body
    assert "Bank details" not in email.body  # the waiting reason is internal
    # Once: a later sweep closes nothing more and emails nothing more.
    assert sweep(at, "2026-03-06 03:00").abandoned == 0
    notifications.send_due()
    assert len([m for m in mail.outbox if "did not hear back" in m.subject]) == 1
