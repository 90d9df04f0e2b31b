"""manage.py evaluate_routing on a generated history: the held-out replay
reports the suggestion's hit rate against the usual-owner baseline."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from sla.management.commands.evaluate_routing import evaluate
from sla.terms import SnapshotSLAPort
from tests.helpers import Org
from tickets import services
from tickets.application import get_tickets_application
from tickets.projection_runner import projection_group, rebuild
from tickets.simulation import HistoryGenerator, synthetic_staff

END = datetime(2026, 3, 2, tzinfo=UTC)


def generate(count: int = 120) -> None:
    refs = [services.department_ref(c) for c in ("CS", "FIN", "LOG", "RISK", "PROD")]
    app = get_tickets_application()
    HistoryGenerator(
        staff=synthetic_staff(refs),
        start=END - timedelta(weeks=6),
        end=END,
        seed=3,
        sla=SnapshotSLAPort(),
    ).save(app, count)
    rebuild(app, projection_group("scorecards"))


@pytest.mark.django_db
def test_evaluation_replays_held_out_tickets(org: Org) -> None:
    with time_machine.travel(END, tick=False):
        generate()
        result = evaluate(2)
    assert result["tickets"] > 10
    assert 0 <= result["suggestion_hit_rate"] <= 1
    assert 0 <= result["baseline_hit_rate"] <= 1
    assert result["no_baseline"] == 0  # every simulated scenario has an owner
    assert (
        result["followed"]["tickets"] + result["against"]["tickets"]
        == result["tickets"]
    )
    assert result["ships"] == (
        result["suggestion_hit_rate"] >= result["baseline_hit_rate"]
    )


@pytest.mark.django_db
def test_the_command_prints_both_hit_rates_and_json(org: Org) -> None:
    with time_machine.travel(END, tick=False):
        generate(60)
        out = StringIO()
        call_command("evaluate_routing", stdout=out)
        text = out.getvalue()
        assert "Suggestion hit rate:" in text
        assert "Usual-owner baseline hit rate:" in text
        out = StringIO()
        call_command("evaluate_routing", "--json", stdout=out)
    document = json.loads(out.getvalue())
    assert {"suggestion_hit_rate", "baseline_hit_rate", "ships"} <= set(document)


@pytest.mark.django_db
def test_an_empty_log_has_nothing_to_evaluate(org: Org) -> None:
    out = StringIO()
    call_command("evaluate_routing", stdout=out)
    assert "No held-out tickets" in out.getvalue()
