"""The demo loader gives `make run` something to see, exactly once."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from departments.models import Department, Membership
from tests.helpers import event_count
from tickets.models import Handoff, TicketSummary


@pytest.mark.django_db
def test_demo_data_loads_every_state_and_a_second_run_adds_nothing(capsys: Any) -> None:
    call_command("load_demo")
    first = capsys.readouterr().out
    assert "Loaded 20 demo tickets; the SLA sweep recorded" in first
    assert "DEMO ONLY" in first and "admin-demo-pass" in first

    assert set(Department.objects.values_list("code", flat=True)) == {
        "CS",
        "FIN",
        "LOG",
        "RISK",
        "PROD",
    }
    assert Department.objects.get(code="CS").is_front_line
    assert Membership.objects.filter(department__code="CS", role="lead").exists()
    assert User.objects.get(username="admin").is_superuser
    statuses = Counter(TicketSummary.objects.values_list("status", flat=True))
    assert set(statuses) == {"open", "waiting", "resolved", "closed"}
    assert sum(statuses.values()) == 20
    assert set(Handoff.objects.values_list("outcome", flat=True)) == {
        "",
        "responded",
        "handed_on",
        "resolved",
    }
    assert Handoff.objects.filter(kind="reopen").exists()
    # Calendars and policies exist, and clocks ran under them.
    from sla.models import SLAClock, SLAPolicyVersion

    assert SLAPolicyVersion.objects.count() == 5
    # The front line works round the clock, so these hold at any hour.
    states = set(SLAClock.objects.values_list("state", flat=True))
    assert {"met", "running", "paused", "breached_running"} <= states
    events, users = event_count(), User.objects.count()

    call_command("load_demo")
    second = capsys.readouterr().out
    assert "already loaded" in second and "DEMO ONLY" in second
    assert (event_count(), User.objects.count(), TicketSummary.objects.count()) == (
        events,
        users,
        20,
    )
    assert Membership.objects.count() == 10
