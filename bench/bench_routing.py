"""Routing suggestions, evaluated on a generated history: ten weeks of
tickets (the demo's generator and seed), the last two held out, the
suggestion's hit rate against the scenario's usual owner
(``manage.py evaluate_routing``'s figures, stored in the results JSON)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from bench_harness import Context, Figures, benchmark

ROUTING_TICKETS = 400
ROUTING_WEEKS = 10
HELD_OUT_WEEKS = 2


@benchmark("routing")
def routing_evaluation(ctx: Context) -> Figures:
    """Hit rate of the suggestion over the usual-owner baseline's (ratio),
    with both rates, the held-out tickets, and the evaluation's time."""
    from bench_sla import _scorecard_org

    from sla.management.commands.evaluate_routing import evaluate
    from sla.terms import SnapshotSLAPort
    from tickets.application import set_tickets_application
    from tickets.projection_runner import projection_group, rebuild
    from tickets.simulation import HistoryGenerator, synthetic_staff

    app = ctx.fresh_app()
    set_tickets_application(app)
    refs = _scorecard_org()
    end = datetime(2026, 11, 1, tzinfo=UTC)
    HistoryGenerator(
        staff=synthetic_staff(refs),
        start=end - timedelta(weeks=ROUTING_WEEKS),
        end=end,
        seed=2026,
        sla=SnapshotSLAPort(),
        customers=400,
    ).save(app, ROUTING_TICKETS)
    rebuild(app, projection_group("scorecards"))
    started = time.perf_counter()
    result = evaluate(HELD_OUT_WEEKS)
    seconds = time.perf_counter() - started
    suggestion = result.get("suggestion_hit_rate") or 0.0
    baseline = result.get("baseline_hit_rate") or 0.0
    return {
        "ratio": round(suggestion / baseline, 4) if baseline else 0.0,
        "suggestion_hit_rate": suggestion,
        "baseline_hit_rate": baseline,
        "held_out_tickets": result.get("tickets", 0),
        "evaluation_seconds": round(seconds, 2),
        "ships": bool(result.get("ships")),
        "evaluation": result,
    }
