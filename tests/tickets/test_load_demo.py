"""The demo loader gives `make run` something to see, exactly once."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import override_settings

from departments.models import Department, Membership
from tests.helpers import event_count
from tickets.models import Handoff, TicketSummary


@pytest.mark.django_db
def test_demo_data_loads_every_state_and_a_second_run_adds_nothing(capsys: Any) -> None:
    call_command("load_demo", force_demo_accounts=True)
    first = capsys.readouterr().out
    assert "Loaded 400 tickets of history and 22 current demo tickets" in first
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
    assert sum(statuses.values()) == 422
    assert set(Handoff.objects.values_list("outcome", flat=True)) == {
        "",
        "responded",
        "handed_on",
        "resolved",
        "abandoned",
    }
    # A stint left quiet with Finance is stalled; a ticket the customer
    # never answered was closed as abandoned.
    stalled = TicketSummary.objects.get(subject="Refund approval sitting with Finance")
    assert stalled.status == "open" and stalled.stalled_at is not None
    abandoned = TicketSummary.objects.get(subject="Parcel damaged, photos requested")
    assert abandoned.status == "closed"
    assert Handoff.objects.filter(kind="reopen").exists()
    # Calendars and policies exist, and clocks ran under them.
    from sla.models import SLAPolicyVersion
    from tickets.models import SLAClock

    # One per department, and a second with journey limits for three.
    assert SLAPolicyVersion.objects.count() == 8
    # The front line works round the clock, so these hold at any hour.
    states = set(SLAClock.objects.values_list("state", flat=True))
    assert {"met", "running", "paused", "breached_running"} <= states
    events, users = event_count(), User.objects.count()

    call_command("load_demo", force_demo_accounts=True)
    second = capsys.readouterr().out
    assert "already loaded" in second and "DEMO ONLY" in second
    assert (event_count(), User.objects.count(), TicketSummary.objects.count()) == (
        events,
        users,
        422,
    )


@pytest.mark.django_db
def test_demo_history_feeds_scorecards_that_pass_the_audit(capsys: Any) -> None:
    from sla.models import Scorecard, SLANotification

    call_command("load_demo", force_demo_accounts=True)
    capsys.readouterr()
    weeks = set(
        Scorecard.objects.filter(period="week", department="FIN").values_list(
            "start", flat=True
        )
    )
    assert len(weeks) >= 10
    totals = Scorecard.objects.filter(period="month", scenario="*")
    figures = [row.figures for row in totals]
    for name in ("breached", "ratings", "dissatisfied", "bounced", "reopened"):
        assert sum(f[name] for f in figures) > 0, name
    assert sum(f["breaches_waived"] + f["ratings_waived"] for f in figures) > 0
    call_command("audit_scorecards")
    assert "Audit passed" in capsys.readouterr().out
    call_command("audit_projections")
    assert "Audit passed" in capsys.readouterr().out
    # The imported history's old breaches send no alerts today.
    history_breaches = SLANotification.objects.filter(
        occurred_at__lt=TicketSummary.objects.order_by("-opened_at")[20].opened_at
    )
    assert not history_breaches.exists()
    assert Membership.objects.count() == 10


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_with_debug_off_the_demo_accounts_are_refused() -> None:
    with pytest.raises(CommandError, match="--force-demo-accounts"):
        call_command("load_demo")

    assert not User.objects.exists()
    assert not Department.objects.exists()
    assert event_count() == 0


def test_with_debug_off_the_command_line_exits_non_zero(tmp_path: Any) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "BATON_ENV_FILE": "",
        "BATON_VAR_DIR": str(tmp_path),
        "DEBUG": "0",
        "SECRET_KEY": "a-long-random-test-key-" + "x" * 40,
    }

    refused = subprocess.run(
        [sys.executable, str(root / "manage.py"), "load_demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert refused.returncode == 1
    assert "refuses to run with DEBUG off" in refused.stderr
