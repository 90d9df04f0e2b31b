"""The scorecard audit on a randomized history of more than 10,000 events:
generated through the real Ticket aggregate (clocks, pauses, bounces,
ping-pong, reopens, ratings and disputes), projected incrementally in
small batches, then recomputed from the log in memory."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sla.models import Scorecard, ScorecardHandoff
from sla.terms import SnapshotSLAPort
from tests.helpers import Org, event_count
from tests.sla.conftest import z
from tickets.application import get_tickets_application
from tickets.projection_runner import audit, catch_up, projection_group, rebuild
from tickets.services import department_ref
from tickets.simulation import HistoryGenerator, synthetic_staff


@pytest.fixture
def random_history(sla_org: Org) -> int:
    app = get_tickets_application()
    end = z("2026-03-30 00:00")
    generator = HistoryGenerator(
        staff=synthetic_staff([department_ref(c) for c in sla_org.departments]),
        start=end - timedelta(weeks=8),
        end=end,
        seed=11,
        sla=SnapshotSLAPort(),
    )
    generator.save(app, 950)
    catch_up(app, projection_group("scorecards"), batch_size=250)
    return event_count()


def test_audit_passes_on_a_randomized_history(random_history: int, capsys: Any) -> None:
    assert random_history >= 10_000
    figures = [
        row.figures for row in Scorecard.objects.filter(period="month", scenario="*")
    ]
    # The history exercises every kind of fact the scorecards count.
    for name in (
        "breached",
        "met",
        "bounced",
        "ping_pong",
        "reopened",
        "dissatisfied",
        "breaches_waived",
        "ratings_waived",
        "disputes_open",
        "root_cause_product_defect",
    ):
        assert sum(f[name] for f in figures) > 0, name
    call_command("audit_scorecards")
    assert "Audit passed" in capsys.readouterr().out

    # Incremental (250-event batches) and rebuilt read models are identical.
    before = {row.key: row.figures for row in Scorecard.objects.all()}
    facts = ScorecardHandoff.objects.count()
    rebuild(get_tickets_application(), projection_group("scorecards"))
    assert {row.key: row.figures for row in Scorecard.objects.all()} == before
    assert ScorecardHandoff.objects.count() == facts

    # One tampered figure in one row is found, and only that one.
    row = Scorecard.objects.filter(period="day", scenario="*").order_by("key")[3]
    row.figures = row.figures | {"received": row.figures["received"] + 1}
    row.save()
    with pytest.raises(CommandError, match=r"1 difference"):
        call_command("audit_scorecards")
    out = capsys.readouterr().out
    assert f"Scorecard {row.key}: figures.received: stored" in out
    differences = audit(get_tickets_application(), projection_group("scorecards"))
    assert [str(d.key) for d in differences] == [row.key]
