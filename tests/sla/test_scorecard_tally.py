"""The fast paths behind the scorecards, each checked against the plain
definition it replaces: figures computed from tallies (handoffs counted by
shape) against figures computed handoff by handoff; every count figure's
database filter against its test; drill-down pages against the whole
list; and an incremental batch that reads what it needs in a few queries
whatever its size."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from departments.models import Department
from sla.models import Scorecard, ScorecardHandoff
from sla.scorecards import (
    COUNT_FIGURES,
    COUNT_WHERE,
    COUNTS,
    DERIVED,
    DERIVED_FIGURES,
    FIGURE_NAMES,
    WAIVED,
    Tally,
    compute_figures,
    figure_rows,
    tally,
)
from sla.selectors import ScorecardPeriod, scorecard_drilldown
from sla.terms import SnapshotSLAPort
from tests.helpers import Org
from tests.sla.conftest import z
from tickets.application import get_tickets_application
from tickets.domain import RootCause
from tickets.projection_runner import catch_up, projection_group, rebuild
from tickets.services import department_ref
from tickets.simulation import HistoryGenerator, synthetic_staff

# -- the plain definition: every figure computed handoff by handoff ----------


def _values(derived: Any, rows: list[Any]) -> list[Any]:
    return [getattr(r, derived.reads) for r in rows] if derived.reads else []


def reference_figures(facts: list[Any]) -> dict[str, Any]:
    """What the figures mean, computed the slow and obvious way: each
    count figure's test over every handoff, each derived figure over the
    handoffs of its count figure."""
    selected = {f.name: [r for r in facts if f.test(r)] for f in COUNT_FIGURES}
    counts = {name: len(rows) for name, rows in selected.items()}
    figures: dict[str, Any] = dict(counts)
    for derived in DERIVED_FIGURES:
        figures[derived.name] = derived.compute(
            counts, _values(derived, selected[derived.over])
        )
    return figures


def _maybe(rnd: random.Random, value: Any, chance: float = 0.5) -> Any:
    return value if rnd.random() < chance else None


def random_fact(
    rnd: random.Random, *, realistic: bool = False, **fields: Any
) -> dict[str, Any]:
    """The figure-relevant columns of a handoff, drawn so that every
    combination the figures distinguish turns up (``realistic``: only
    those the events can produce, e.g. ratings of finished stints only)."""
    ended = rnd.choice(["", "handed_on", "resolved"])
    fact = {
        "responded_position": _maybe(rnd, rnd.randrange(1, 10**6)),
        "response_seconds": _maybe(rnd, round(rnd.uniform(0, 200_000), 3), 0.7),
        "verdict": rnd.choice(["", "met", "breached"]),
        "ended_how": ended,
        "root_cause": rnd.choice(["", *(c.value for c in RootCause)])
        if ended == "resolved"
        else rnd.choice(["", "product_defect"]),
        "bounced_position": _maybe(rnd, rnd.randrange(1, 10**6), 0.2),
        "ping_pong_position": _maybe(rnd, rnd.randrange(1, 10**6), 0.1),
        "reopened_position": _maybe(rnd, rnd.randrange(1, 10**6), 0.2),
        "rating_score": _maybe(rnd, rnd.randint(1, 5), 0.4),
        "breach_dispute": rnd.choice(["", "", "open", "accepted", WAIVED]),
        "rating_dispute": rnd.choice(["", "", "open", "accepted", WAIVED]),
        "stalled_position": _maybe(rnd, rnd.randrange(1, 10**6), 0.2),
        "abandoned_position": _maybe(rnd, rnd.randrange(1, 10**6), 0.1),
        **fields,
    }
    if fact["abandoned_position"] is not None:
        fact["ended_how"], fact["root_cause"] = "abandoned", ""
    if realistic:
        if not ended:
            fact["rating_score"] = None
        if fact["rating_score"] is None:
            fact["rating_dispute"] = ""
        if fact["verdict"] != "breached":
            fact["breach_dispute"] = ""
    return fact


def test_tallies_give_the_figures_handoff_by_handoff_gives() -> None:
    rnd = random.Random(13)
    for size in (0, 1, 2, 3, 7, 10, 11, 99, 400):
        facts = [SimpleNamespace(**random_fact(rnd)) for _ in range(size)]
        assert compute_figures(facts) == reference_figures(facts), size
    # Ties and repeated response times: nearest-rank picks an observed one.
    facts = [
        SimpleNamespace(**random_fact(rnd, response_seconds=float(s)))
        for s in (5, 5, 5, 1, 9, 9, 2, 2, 2, 2)
    ]
    assert compute_figures(facts) == reference_figures(facts)
    assert compute_figures(facts)["median_response_seconds"] == 2.0


def test_tallies_add_up() -> None:
    """A month's tally is the sum of its days': merging gives the figures
    of the union."""
    rnd = random.Random(7)
    days = [
        [SimpleNamespace(**random_fact(rnd)) for _ in range(rnd.randrange(0, 40))]
        for _ in range(10)
    ]
    month = Tally()
    for day in days:
        month.merge(tally(day))
    everything = [fact for day in days for fact in day]
    assert len(month) == len(everything)
    assert month.figures() == reference_figures(everything)


def test_every_derived_figure_reads_what_its_tally_keeps() -> None:
    """Response times are kept for the timed responses only; any other
    value a derived figure reads must be part of the shape."""
    for derived in DERIVED_FIGURES:
        assert derived.over in COUNTS
        if derived.reads == "response_seconds":
            assert derived.over == "timed_responses"


# -- database filters, drill-down pages --------------------------------------

MONTH = date(2026, 3, 1)


def _store_facts(count: int, seed: int) -> list[ScorecardHandoff]:
    rnd = random.Random(seed)
    received = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    rows = []
    for n in range(count):
        day = MONTH + timedelta(days=rnd.randrange(31))
        rows.append(
            ScorecardHandoff(
                id=uuid4(),
                ticket_id=uuid4(),
                department="FIN",
                kind="handoff",
                scenario=rnd.choice(["REFUND", "DELIVERY", ""]),
                timezone="Asia/Shanghai",
                day=day,
                week=day - timedelta(days=day.weekday()),
                month=MONTH,
                received_at=received,
                received_position=1000 + n,
                **random_fact(rnd, realistic=True),
            )
        )
    ScorecardHandoff.objects.bulk_create(rows)
    return rows


@pytest.mark.django_db
def test_every_count_figure_filters_in_the_database_as_its_test_selects() -> None:
    assert set(COUNT_WHERE) == set(COUNTS)
    facts = _store_facts(600, seed=5)
    for figure in COUNT_FIGURES:
        want = {f.id for f in facts if figure.test(f)}
        have = set(
            ScorecardHandoff.objects.filter(COUNT_WHERE[figure.name]).values_list(
                "id", flat=True
            )
        )
        assert have == want, figure.name


@pytest.mark.django_db
def test_drilldown_pages_are_slices_of_the_whole_list() -> None:
    facts = _store_facts(300, seed=9)
    fin = Department.objects.get_or_create(
        code="FIN", defaults={"name": "Finance", "kind": "back_office"}
    )[0]
    address = ScorecardPeriod(fin, "month", MONTH, date(2026, 4, 1))
    for scenario in ("*", "REFUND", ""):
        cohort = [f for f in facts if scenario == "*" or f.scenario == scenario]
        figures = reference_figures(cohort)
        for name in FIGURE_NAMES:
            behind = figure_rows(name, cohort)
            value, count, rows = scorecard_drilldown(address, name, scenario)
            assert (value, count) == (figures[name], len(behind)), name
            assert [r.id for r in rows] == [r.id for r in behind]
            basis = DERIVED[name].over if name in DERIVED else name
            assert count == figures[basis]
        whole = [r.id for r in figure_rows("received", cohort)]
        pages = []
        for offset in range(0, len(whole) + 30, 30):
            value, count, rows = scorecard_drilldown(
                address, "received", scenario, offset=offset, limit=30
            )
            assert (value, count) == (len(whole), len(whole))
            pages.extend(r.id for r in rows)
        assert pages == whole
        value, count, rows = scorecard_drilldown(
            address, "received", scenario, offset=len(whole) + 5, limit=30
        )
        assert (count, rows) == (len(whole), [])


# -- incremental batches -------------------------------------------------------


def test_a_batch_reads_in_a_few_queries_whatever_its_size(sla_org: Org) -> None:
    """The handlers' look-ups are loaded up front (tickets, then handoffs)
    and every touched scorecard is recomputed from one query and written
    by one upsert: the queries of a batch do not grow with its events.
    The result is still exactly what a rebuild computes."""
    app = get_tickets_application()
    end = z("2026-03-30 00:00")
    generator = HistoryGenerator(
        staff=synthetic_staff([department_ref(c) for c in sla_org.departments]),
        start=end - timedelta(weeks=3),
        end=end,
        seed=3,
        sla=SnapshotSLAPort(),
    )
    generator.save(app, 60)
    projections = projection_group("scorecards")
    catch_up(app, projections, batch_size=100)  # a first part, stored
    generator.save(app, 120)
    with CaptureQueriesContext(connection) as queries:
        done = catch_up(app, projections, batch_size=5000)
    assert done > 1000
    lookups = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith("SELECT")
        and (
            '"sla_scorecardhandoff"' in q["sql"] or '"sla_scorecardticket"' in q["sql"]
        )
    ]
    # Tickets, handoffs by id (a second round for stints a ticket's state
    # names), and the touched cohorts.
    assert len(lookups) <= 4, lookups
    assert len(queries.captured_queries) < 40
    incremental = {row.key: row.figures for row in Scorecard.objects.all()}
    facts = {row.id: row for row in ScorecardHandoff.objects.all()}
    rebuild(app, projections)
    assert {row.key: row.figures for row in Scorecard.objects.all()} == incremental
    assert set(ScorecardHandoff.objects.values_list("id", flat=True)) == set(facts)
    assert incremental
