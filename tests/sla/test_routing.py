"""Routing suggestions: the ranking on hand-built histories (a clear best
department, a tie, a cold start, thin data, an overloaded best department),
and the suggestion recorded on the handoff event and the scorecard stint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from sla import routing
from sla.models import ScorecardHandoff
from sla.routing import (
    Candidate,
    Catalogue,
    Load,
    rank_departments,
)
from sla.routing_history import (
    Tally,
    history_from_database,
    history_from_rows,
    load_fact_rows,
)
from tests.helpers import Org, open_ticket, stored_events
from tickets import services
from tickets.application import get_tickets_application
from tickets.projection_runner import catch_up, projection_group

FIN = Candidate("FIN", "Finance")
LOG = Candidate("LOG", "Logistics")
RISK = Candidate("RISK", "Risk Control")
CANDIDATES = [FIN, LOG, RISK]
NOW = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)  # Wednesday 11:00 in Shanghai


def stints(
    finished: int,
    resolved: int,
    *,
    bounced: int = 0,
    rating: float = 0,
    ratings: int = 0,
    met: int = 0,
    decided: int = 0,
) -> Tally:
    return Tally(
        received=finished,
        finished=finished,
        resolved=resolved,
        bounced=bounced,
        met=met,
        decided=decided,
        ratings=ratings,
        rating_sum=round(rating * ratings),
        final=resolved,
    )


def rank(
    history: dict[tuple[str, str], Tally],
    *,
    owner: str = "",
    loads: dict[str, Load] | None = None,
    scenario: str = "REFUND",
) -> Any:
    return rank_departments(
        history,
        scenario=scenario,
        candidates=CANDIDATES,
        catalogue=Catalogue(usual_owner=owner),
        loads=loads or {},
        weeks=8,
    )


def test_a_clear_best_department_comes_first_with_its_numbers() -> None:
    history = {
        ("LOG", "REFUND"): stints(
            212, 199, bounced=13, rating=4.6, ratings=80, met=190, decided=200
        ),
        ("FIN", "REFUND"): stints(
            200, 80, bounced=90, rating=2.1, ratings=70, met=100, decided=200
        ),
        ("RISK", "REFUND"): stints(30, 5, bounced=20, rating=2.0, ratings=10),
    }
    basis, note, ranked = rank(history)
    assert basis == "history"
    assert "442 finished REFUND stints" in note
    assert [s.code for s in ranked] == ["LOG", "FIN", "RISK"]
    top = ranked[0]
    assert not top.usual_owner
    assert ranked[0].score > ranked[1].score + 0.1
    text = " ".join(top.reasons)
    assert (
        "Logistics resolved 199 of 212 REFUND stints in 8 weeks, 93.9% "
        "without a bounce." in text
    )
    assert "Average rating 4.6 (80 ratings)." in text
    assert "Response promise met 95.0% of 200 times." in text
    assert top.figures["scenario_stints"] == 212


def test_a_usual_owner_with_a_poor_record_is_not_kept_first() -> None:
    history = {
        ("LOG", "REFUND"): stints(200, 190, rating=4.5, ratings=50),
        ("FIN", "REFUND"): stints(200, 40, bounced=120, rating=1.5, ratings=50),
    }
    _, _, ranked = rank(history, owner="FIN")
    assert ranked[0].code == "LOG"
    fin = next(s for s in ranked if s.code == "FIN")
    assert fin.usual_owner
    assert "Usual owner of REFUND in the scenario catalogue." in fin.reasons


def test_a_tie_is_broken_by_load_then_code_and_says_so() -> None:
    history = {
        ("FIN", "REFUND"): stints(50, 40, rating=4.0, ratings=20),
        ("LOG", "REFUND"): stints(50, 40, rating=4.0, ratings=20),
    }
    _, _, ranked = rank(history)
    assert ranked[0].score == ranked[1].score
    assert [s.code for s in ranked[:2]] == ["FIN", "LOG"]
    assert ranked[0].reasons[-1] == (
        "Level with Logistics on these figures; first because by code, as "
        "nothing else tells them apart."
    )
    light = {
        "FIN": Load(open_tickets=6, members=2),
        "LOG": Load(open_tickets=2, members=2),
    }
    _, _, ranked = rank(history, loads=light)
    assert [s.code for s in ranked[:2]] == ["LOG", "FIN"]
    assert "fewer open tickets per agent" in ranked[0].reasons[-1]


def test_cold_start_suggests_the_usual_owner_and_says_so() -> None:
    # Plenty of history elsewhere, none of this scenario.
    history = {
        ("LOG", "OTHER"): stints(100, 95, rating=4.8, ratings=40),
        ("FIN", "OTHER"): stints(100, 50, rating=3.0, ratings=40),
    }
    basis, note, ranked = rank(history, owner="FIN", scenario="REFUND")
    assert basis == "cold_start"
    assert note == (
        "No REFUND stints in the last 8 weeks yet: suggesting the usual owner, Finance."
    )
    assert ranked[0].code == "FIN"
    assert any("using its overall figures (95 of 100" in r for r in ranked[1].reasons)


def test_cold_start_without_an_owner_ranks_on_overall_figures() -> None:
    history = {
        ("LOG", "OTHER"): stints(100, 95, rating=4.8, ratings=40),
        ("FIN", "OTHER"): stints(100, 50, rating=3.0, ratings=40),
    }
    basis, note, ranked = rank(history, scenario="REFUND")
    assert basis == "cold_start"
    assert "no usual owner in the catalogue" in note
    assert ranked[0].code == "LOG"


def test_thin_history_shrinks_toward_the_usual_owner() -> None:
    # Three good Logistics stints are not enough to overrule the catalogue.
    history = {
        ("LOG", "REFUND"): stints(3, 3, rating=5, ratings=3),
        ("FIN", "OTHER"): stints(100, 70, rating=4.0, ratings=40),
        ("LOG", "OTHER"): stints(100, 70, rating=4.0, ratings=40),
    }
    basis, note, ranked = rank(history, owner="FIN")
    assert basis == "thin_history"
    assert "Few REFUND stints yet (3 in 8 weeks)" in note
    assert "the usual owner, Finance" in note
    assert ranked[0].code == "FIN"


def test_an_overloaded_best_department_gives_way() -> None:
    history = {
        ("LOG", "REFUND"): stints(100, 90, rating=4.5, ratings=40),
        ("FIN", "REFUND"): stints(100, 80, rating=4.2, ratings=40),
    }
    _, _, ranked = rank(history)
    assert ranked[0].code == "LOG"
    loads = {
        "LOG": Load(open_tickets=40, members=2),
        "FIN": Load(open_tickets=4, members=2),
    }
    _, _, ranked = rank(history, loads=loads)
    assert ranked[0].code == "FIN"
    log = next(s for s in ranked if s.code == "LOG")
    assert log.figures["load_penalty"] == routing.MAX_LOAD_PENALTY
    assert (
        "20.0 open tickets per agent now (40 open, 2 members; capacity 8 each)."
        in log.reasons
    )


def test_a_department_without_members_or_hours_is_penalised() -> None:
    history = {("LOG", "REFUND"): stints(100, 90), ("FIN", "REFUND"): stints(100, 88)}
    closed = Load(
        open_tickets=0,
        members=1,
        working_now=False,
        opens_in=timedelta(hours=3, minutes=20),
    )
    _, _, ranked = rank(history, loads={"LOG": closed})
    log = next(s for s in ranked if s.code == "LOG")
    assert "Outside its working hours now (opens in 3h 20m)." in log.reasons
    _, _, ranked = rank(history, loads={"LOG": Load(members=0)})
    assert ranked[-1].code == "LOG"
    assert "No active members to take it." in ranked[-1].reasons


# -- on the real log ------------------------------------------------------------


def project() -> None:
    app = get_tickets_application()
    catch_up(app, projection_group("scorecards"))


def resolved_by(org: Org, department: str, *, scenario: str = "REFUND") -> Any:
    ticket = open_ticket(org, scenario=scenario)
    services.ticket_hand_off(
        principal=org.agent("CS"),
        ticket_id=ticket,
        to_department=department,
        reason="Theirs",
    )
    services.ticket_resolve(
        principal=org.agent(department),
        ticket_id=ticket,
        resolution="Done",
        root_cause="other",
    )
    return ticket


@pytest.mark.django_db
def test_the_handoff_records_the_suggestion_and_the_stint_keeps_it(org: Org) -> None:
    with time_machine.travel(NOW, tick=False):
        for _ in range(3):
            resolved_by(org, "LOG", scenario="DELIVERY")
        ticket = open_ticket(org, scenario="REFUND")
        suggestion = routing.ScorecardRouting().suggest(ticket)
        assert suggestion is not None
        assert suggestion.top is not None and suggestion.top.code == "FIN"
        assert "CS" not in [d.code for d in suggestion.departments]
        services.ticket_hand_off(
            principal=org.agent("CS"),
            ticket_id=ticket,
            to_department="LOG",
            reason="I think it is a parcel problem",
        )
        project()
    [handed] = [e for e in stored_events(ticket) if type(e).__name__ == "HandedOff"]
    assert handed.suggested_department == "FIN"
    assert handed.to_department == "LOG"  # acting against it is allowed
    stint = ScorecardHandoff.objects.get(pk=handed.handoff_id)
    assert stint.suggested_department == "FIN"
    assert stint.department == "LOG"


@pytest.mark.django_db
def test_a_failing_ranking_never_blocks_a_handoff(org: Org, monkeypatch: Any) -> None:
    def broken(self: Any, ticket_id: Any, *, agents: bool = True) -> Any:
        raise RuntimeError("scorecards unavailable")

    monkeypatch.setattr(routing.ScorecardRouting, "suggest", broken)
    ticket = open_ticket(org)
    services.ticket_hand_off(
        principal=org.agent("CS"), ticket_id=ticket, to_department="FIN", reason="r"
    )
    [handed] = [e for e in stored_events(ticket) if type(e).__name__ == "HandedOff"]
    assert handed.suggested_department == ""


@pytest.mark.django_db
def test_the_database_and_replay_tallies_agree(org: Org) -> None:
    with time_machine.travel(NOW, tick=False):
        resolved_by(org, "FIN")
        resolved_by(org, "LOG", scenario="DELIVERY")
        bounced = open_ticket(org)
        services.ticket_hand_off(
            principal=org.agent("CS"),
            ticket_id=bounced,
            to_department="RISK",
            reason="r",
        )
        services.ticket_hand_off(
            principal=org.agent("RISK"),
            ticket_id=bounced,
            to_department="CS",
            reason="not ours",
        )
        project()
        later = NOW + timedelta(hours=1)
        from_db = history_from_database(NOW - timedelta(days=1), later)
        replayed = history_from_rows(load_fact_rows(), until=later)
    assert from_db == replayed
    assert from_db[("RISK", "REFUND")].bounced == 1
    assert from_db[("FIN", "REFUND")].final == 1
    assert from_db[("CS", "REFUND")].received == 1  # the bounce back
