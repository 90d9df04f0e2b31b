"""The sweep records exactly one breach per clock, even with two sweeps
running at once against the same due clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from sla import services as sla_services
from tests import helpers
from tests.sla.concurrent import concurrent_sweeps
from tickets import services
from tickets.domain import Ticket
from tickets.models import SLAClock

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def _due_clocks(count: int) -> helpers.Org:
    org = helpers.make_org()
    with time_machine.travel(T0 - timedelta(days=1), tick=False):
        sla_services.policy_version_create(
            department=org.departments["FIN"], response_normal=timedelta(hours=1)
        )
    with time_machine.travel(T0, tick=False):
        for n in range(count):
            tid = helpers.open_ticket(org, customer_ref=f"C{n}")
            services.ticket_hand_off(
                principal=org.agent("CS"),
                ticket_id=tid,
                to_department="FIN",
                reason="r",
            )
    return org


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_record_exactly_one_breach_per_clock() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "Concurrent sweeps need PostgreSQL: set DATABASE_URL=postgres://..."
        )
    _due_clocks(12)
    due = set(SLAClock.objects.filter(department="FIN").values_list("id", flat=True))
    assert len(due) == 12
    later = T0 + timedelta(hours=3)
    results = concurrent_sweeps(later)
    assert sum(r.breaches for r in results) == 12
    breaches = [e for e in helpers.stored_events() if isinstance(e, Ticket.SLABreached)]
    assert sorted(str(e.clock_id) for e in breaches) == sorted(str(c) for c in due)
    assert all(e.due_at == T0 + timedelta(hours=1) for e in breaches)
    assert SLAClock.objects.filter(id__in=due, state="breached_running").count() == 12


@pytest.mark.django_db
def test_a_retried_sweep_records_nothing_new() -> None:
    _due_clocks(3)
    later = T0 + timedelta(hours=3)
    first = sla_services.sla_sweep(now=later)
    retried = sla_services.sla_sweep(now=later)
    assert (first.breaches, retried.breaches, retried.warnings) == (3, 0, 0)
    breaches = [e for e in helpers.stored_events() if isinstance(e, Ticket.SLABreached)]
    assert len(breaches) == 3


@pytest.mark.django_db
def test_a_stale_read_model_cannot_make_the_sweep_breach_a_stopped_clock() -> None:
    """The aggregate, not the read model, decides: a clock that stopped in
    time is never breached, even if the sweep's query still saw it running."""
    org = _due_clocks(1)
    [fin_clock] = SLAClock.objects.filter(department="FIN")
    with time_machine.travel(T0 + timedelta(minutes=30), tick=False):
        services.ticket_respond(
            principal=org.agent("FIN"), ticket_id=fin_clock.ticket_id, body="hi"
        )
    SLAClock.objects.filter(pk=fin_clock.pk).update(state="running")  # stale row
    result = sla_services.sla_sweep(now=T0 + timedelta(hours=3))
    assert (result.breaches, result.skipped) == (0, 1)
