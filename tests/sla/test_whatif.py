"""What-if: replaying a period's response clocks against proposed targets.

Finance works 09:00-12:00 and 13:00-18:00 Shanghai time (UTC+8), that is
01:00-04:00Z and 05:00-10:00Z, Monday to Friday. Its policy (v2, from
February) promises a first response in 4h (normal) or 1h (high).

The week of Monday 2026-03-02 (Shanghai) holds four Finance handoffs:

A  normal, received Mon 10:30 SH (02:30Z), answered 14:00 SH (06:00Z);
   due 15:30 SH (07:30Z): met.
B  high (raised before the handoff), received Tue 10:00 SH (02:00Z),
   handed back 10:45 SH (02:45Z); due 11:00 SH (03:00Z): met.
C  normal, received Fri 16:00 SH (08:00Z): due Mon 11:00 SH. Waits on the
   customer from Fri 17:00 SH to Mon 12:30 SH (over the weekend, reply in
   the lunch break): paused 1h + 3h = 4h, due moves to Mon 16:00 SH
   (08:00Z). Answered Mon 18:30 SH (10:30Z), after closing: breached.
D  normal, scenario CHARGEBACK, received Fri 14:00 SH (06:00Z): due Fri
   18:00 SH (10:00Z), exactly closing time. Waits on the customer at 18:30
   SH (already late: breach recorded), the customer replies Mon 09:30 SH
   (paused 0.5h, due moves to Mon 09:30 SH = 01:30Z) and Finance answers
   that same instant: still breached (the breach happened before the
   pause), though the reply is not later than the moved due time.

Outside the week: F, received Sun 23:00 SH (the week before), and H,
received Mon 2026-03-09 01:00 SH (Sunday 17:00Z: the same UTC week, but
the next week in Finance's time). Both would breach under a 2h target.
"""

from __future__ import annotations

import io
import json
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from sla import services as sla_services
from sla.models import (
    Scorecard,
    ScorecardHandoff,
    ScorecardTicket,
    SLANotification,
)
from sla.whatif import (
    ClockReplay,
    Simulation,
    WhatIfError,
    parse_duration,
    parse_target,
    parse_targets,
    simulate_policy,
)
from sla.whatif_admin import whatif_view
from tests.helpers import Org, event_count, make_user, open_ticket
from tests.sla.conftest import H, fin_stint, z
from tickets import services
from tickets.application import get_tickets_application
from tickets.models import (
    Handoff,
    ProjectionTracking,
    SLAClock,
    TicketSummary,
    TimelineEntry,
)
from tickets.projection_runner import catch_up, projection_group

M = 60.0
WEEK = date(2026, 3, 2)
AFTER_ALL = z("2026-03-09 12:00")


# ---------------------------------------------------------------------------
# History
# ---------------------------------------------------------------------------


def _customer() -> Any:
    return services.principal_for_customer(customer_ref="CUST-1")


def _to_finance(org: Org, at: Any, opened: str, handed: str, **fields: Any) -> UUID:
    at(opened)
    tid = open_ticket(org, **fields)
    at(handed)
    services.ticket_hand_off(
        principal=org.agent("CS"), ticket_id=tid, to_department="FIN", reason="Refund"
    )
    return tid


def _respond(org: Org, at: Any, when: str, tid: UUID) -> None:
    at(when)
    services.ticket_respond(principal=org.agent("FIN"), ticket_id=tid, body="Done")


def _wait(org: Org, at: Any, when: str, tid: UUID) -> None:
    at(when)
    services.ticket_wait_on_customer(principal=org.agent("FIN"), ticket_id=tid)


def _reply(at: Any, when: str, tid: UUID) -> None:
    at(when)
    services.ticket_record_customer_reply(
        principal=_customer(), ticket_id=tid, body="Here you are"
    )


def _finance_policy(org: Org, at: Any) -> None:
    at("2026-02-01 00:00")
    sla_services.policy_version_create(
        department=org.departments["FIN"],
        response_normal=4 * H,
        response_high=H,
        warn_percent=75,
    )


def _project_scorecards() -> None:
    catch_up(get_tickets_application(), projection_group("scorecards"))


@pytest.fixture
def history(sla_org: Org, at: Any) -> dict[str, UUID]:
    """The Finance stints (response clock ids) A, B, C, D, F, H above."""
    org = sla_org
    _finance_policy(org, at)
    stints: dict[str, UUID] = {}

    a = _to_finance(org, at, "2026-03-02 02:00", "2026-03-02 02:30")
    stints["A"] = fin_stint(a)
    _respond(org, at, "2026-03-02 06:00", a)

    at("2026-03-03 01:30")
    b = open_ticket(org)
    at("2026-03-03 01:45")
    services.ticket_change_priority(
        principal=org.agent("CS"), ticket_id=b, priority="high"
    )
    at("2026-03-03 02:00")
    services.ticket_hand_off(
        principal=org.agent("CS"), ticket_id=b, to_department="FIN", reason="Refund"
    )
    stints["B"] = fin_stint(b)
    at("2026-03-03 02:45")
    services.ticket_hand_off(
        principal=org.agent("FIN"), ticket_id=b, to_department="CS", reason="Done"
    )

    c = _to_finance(org, at, "2026-03-06 07:30", "2026-03-06 08:00")
    stints["C"] = fin_stint(c)
    _wait(org, at, "2026-03-06 09:00", c)
    _reply(at, "2026-03-09 04:30", c)
    _respond(org, at, "2026-03-09 10:30", c)

    d = _to_finance(
        org, at, "2026-03-06 05:30", "2026-03-06 06:00", scenario="CHARGEBACK"
    )
    stints["D"] = fin_stint(d)
    _wait(org, at, "2026-03-06 10:30", d)
    _reply(at, "2026-03-09 01:30", d)
    _respond(org, at, "2026-03-09 01:30", d)

    f = _to_finance(org, at, "2026-03-01 14:30", "2026-03-01 15:00")
    stints["F"] = fin_stint(f)
    _respond(org, at, "2026-03-02 05:30", f)

    h = _to_finance(org, at, "2026-03-08 16:30", "2026-03-08 17:00")
    stints["H"] = fin_stint(h)
    _respond(org, at, "2026-03-09 03:30", h)

    _project_scorecards()
    at("2026-03-09 12:00")
    return stints


def _by_stint(simulation: Simulation) -> dict[UUID, ClockReplay]:
    return {c.stint_id: c for c in simulation.clocks}


def _flips(simulation: Simulation, stints: dict[str, UUID]) -> dict[str, str]:
    names = {v: k for k, v in stints.items()}
    return {names[c.stint_id]: c.change for c in simulation.flips}


def _week(**kwargs: Any) -> Simulation:
    kwargs.setdefault("now", AFTER_ALL)
    return simulate_policy(department="FIN", period="week", start=WEEK, **kwargs)


# ---------------------------------------------------------------------------
# The replay
# ---------------------------------------------------------------------------


def test_the_history_is_what_the_scenario_says(history: dict[str, UUID]) -> None:
    verdicts = dict(
        ScorecardHandoff.objects.filter(department="FIN", week=WEEK).values_list(
            "id", "verdict"
        )
    )
    assert verdicts == {
        history["A"]: "met",
        history["B"]: "met",
        history["C"]: "breached",
        history["D"]: "breached",
    }
    clocks = {c.id: c for c in SLAClock.objects.filter(department="FIN")}
    assert clocks[history["C"]].due_at == z("2026-03-09 08:00")
    assert clocks[history["C"]].paused_seconds == 4 * 3600
    assert clocks[history["D"]].due_at == z("2026-03-09 01:30")
    assert clocks[history["D"]].stopped_at == z("2026-03-09 01:30")


def test_own_targets_reproduce_every_stored_verdict(history: dict[str, UUID]) -> None:
    own = {"normal": 4 * 3600, "high": 3600}
    for simulation in (_week(response={}), _week(response=own)):
        assert simulation.flips == []
        clocks = _by_stint(simulation)
        assert set(clocks) == {history[k] for k in "ABCD"}
        for clock in clocks.values():
            assert clock.proposed_due_at == clock.stored_due_at
            assert clock.breached_proposed == clock.breached_now
        assert [clocks[history[k]].breached_now for k in "ABCD"] == [
            False,
            False,
            True,
            True,
        ]
        assert (clocks[history["B"]].priority, clocks[history["A"]].priority) == (
            "high",
            "normal",
        )
        total = simulation.total
        assert (total.clocks, total.breached_now, total.breached_proposed) == (4, 2, 2)
        assert (total.rate_now, total.rate_proposed, total.rate_change) == (
            0.5,
            0.5,
            0.0,
        )


def test_tighter_targets_breach_exactly_the_clocks_computed_by_hand(
    history: dict[str, UUID],
) -> None:
    simulation = _week(response={"normal": "2h", "high": "30m"})
    # A: 10:30 SH + 2h (lunch skipped) = 13:30 SH, answered 14:00 SH.
    # B: 10:00 SH + 30m = 10:30 SH, handed back 10:45 SH.
    # C: due Fri 18:00 SH, moved 4h by the pause -> Mon 14:00 SH: still late.
    # D: due Fri 16:00 SH, paused at 18:30 SH: late before the pause (the
    #    0.5h pause then moves the due time to 16:30 SH).
    assert _flips(simulation, history) == {
        "A": "newly breached",
        "B": "newly breached",
    }
    clocks = _by_stint(simulation)
    assert clocks[history["A"]].proposed_due_at == z("2026-03-02 05:30")
    assert clocks[history["A"]].stored_due_at == z("2026-03-02 07:30")
    assert clocks[history["A"]].stopped_at == z("2026-03-02 06:00")
    assert clocks[history["B"]].proposed_due_at == z("2026-03-03 02:30")
    assert clocks[history["C"]].proposed_due_at == z("2026-03-09 06:00")
    assert clocks[history["D"]].proposed_due_at == z("2026-03-06 08:30")
    normal, high = simulation.by_priority[1], simulation.by_priority[2]
    assert (normal.clocks, normal.breached_now, normal.breached_proposed) == (3, 2, 3)
    assert (normal.rate_now, normal.rate_proposed) == (0.6667, 1.0)
    assert (high.clocks, high.breached_now, high.breached_proposed) == (1, 0, 1)
    assert (high.rate_now, high.rate_proposed, high.breach_change) == (0.0, 1.0, 1)
    total = simulation.total
    assert (total.breached_now, total.breached_proposed, total.rate_change) == (
        2,
        4,
        0.5,
    )


def test_a_looser_target_unbreaches_exactly_the_expected_clocks(
    history: dict[str, UUID],
) -> None:
    simulation = _week(response={"normal": 7 * 3600})
    # C: Fri 2h + Mon 09-12, 13-15 -> Mon 15:00 SH; +4h paused -> Tue 10:00.
    # D: Fri 4h + Mon 09-12 -> Mon 12:00 SH; the pause at Fri 18:30 SH is no
    #    longer late; +0.5h (over lunch) -> Mon 13:30 SH.
    # A (Tue 09:30 SH) stays met; B keeps its own 1h high target.
    assert _flips(simulation, history) == {
        "C": "no longer breached",
        "D": "no longer breached",
    }
    clocks = _by_stint(simulation)
    assert clocks[history["C"]].proposed_due_at == z("2026-03-10 02:00")
    assert clocks[history["D"]].proposed_due_at == z("2026-03-09 05:30")
    assert clocks[history["A"]].proposed_due_at == z("2026-03-03 01:30")
    assert clocks[history["B"]].proposed_target_seconds == 3600
    assert clocks[history["B"]].proposed_due_at == clocks[history["B"]].stored_due_at
    total = simulation.total
    assert (total.breached_now, total.breached_proposed, total.breach_change) == (
        2,
        0,
        -2,
    )
    assert (total.rate_now, total.rate_proposed, total.rate_change) == (
        0.5,
        0.0,
        -0.5,
    )


def test_six_hours_still_breaches_a_reply_after_closing_time(
    history: dict[str, UUID],
) -> None:
    """C under 6h: Fri 2h + Mon 3h + 13-14 -> Mon 14:00 SH, +4h -> 18:00 SH,
    closing time. The reply at 18:30 SH uses exactly 6h of business time
    yet is later than the due instant: breached, as the aggregate judges."""
    simulation = _week(response={"normal": "6h"})
    clock = _by_stint(simulation)[history["C"]]
    assert clock.proposed_due_at == z("2026-03-09 10:00")
    assert clock.breached_proposed is True
    assert "C" not in _flips(simulation, history)


def test_the_cohort_follows_the_departments_period_and_scenario(
    history: dict[str, UUID],
) -> None:
    midweek = simulate_policy(
        department="FIN",
        period="week",
        start=date(2026, 3, 4),
        response={"normal": "2h"},
        now=AFTER_ALL,
    )
    assert midweek.start == WEEK and midweek.end == date(2026, 3, 9)
    assert {c.stint_id for c in midweek.clocks} == {history[k] for k in "ABCD"}
    friday = simulate_policy(
        department="FIN",
        period="day",
        start=date(2026, 3, 6),
        response={},
        now=AFTER_ALL,
    )
    assert {c.stint_id for c in friday.clocks} == {history["C"], history["D"]}
    march = simulate_policy(
        department="FIN",
        period="month",
        start=date(2026, 3, 31),
        response={},
        now=AFTER_ALL,
    )
    # F was received Sun 23:00 SH on March 1st; H Mon 01:00 SH on March 9th.
    assert {c.stint_id for c in march.clocks} == {history[k] for k in "ABCDFH"}
    next_week = simulate_policy(
        department="FIN",
        period="week",
        start=date(2026, 3, 9),
        response={"normal": "2h"},
        now=AFTER_ALL,
    )
    assert [c.stint_id for c in next_week.flips] == [history["H"]]
    chargeback = _week(response={"normal": "7h"}, scenario="chargeback")
    assert chargeback.scenario == "CHARGEBACK"
    assert [c.stint_id for c in chargeback.clocks] == [history["D"]]
    assert _flips(chargeback, history) == {"D": "no longer breached"}
    customer_service = simulate_policy(
        department="CS", period="week", start=WEEK, response={}, now=AFTER_ALL
    )
    cs_stints = {c.stint_id for c in customer_service.clocks}
    assert cs_stints and not cs_stints & set(history.values())


def test_a_running_clock_is_judged_at_now(sla_org: Org, at: Any) -> None:
    """E: received Fri 17:30 SH (09:30Z), no reply yet. Stored due: 0.5h on
    Friday + Mon 09-12, 13:00-13:30 -> Mon 13:30 SH (05:30Z)."""
    _finance_policy(sla_org, at)
    tid = _to_finance(sla_org, at, "2026-03-06 09:00", "2026-03-06 09:30")
    stint = fin_stint(tid)
    _project_scorecards()

    before_due = _week(response={"normal": "2h"}, now=z("2026-03-09 05:00"))
    [clock] = before_due.clocks
    assert clock.stopped_at is None and clock.stored_due_at == z("2026-03-09 05:30")
    # 2h: 0.5h Friday + Mon 09:00-10:30 SH = 02:30Z, already past at 05:00Z.
    assert clock.proposed_due_at == z("2026-03-09 02:30")
    assert (clock.breached_now, clock.breached_proposed) == (False, True)
    assert [c.stint_id for c in before_due.flips] == [stint]

    past_due = _week(response={}, now=z("2026-03-09 06:00"))
    [clock] = past_due.clocks
    # No sweep recorded the breach, yet a running clock past due counts.
    assert (clock.breached_now, clock.breached_proposed) == (True, True)
    looser = _week(response={"normal": "7h"}, now=z("2026-03-09 06:00"))
    # 7h: 0.5h Friday + Mon 3h + 13:00-16:30 SH = 08:30Z.
    assert looser.clocks[0].proposed_due_at == z("2026-03-09 08:30")
    assert looser.flips[0].change == "no longer breached"


def test_a_paused_clock_is_not_breached_by_waiting(sla_org: Org, at: Any) -> None:
    _finance_policy(sla_org, at)
    tid = _to_finance(sla_org, at, "2026-03-02 02:00", "2026-03-02 02:30")
    _wait(sla_org, at, "2026-03-02 03:00", tid)  # 0.5h used
    _project_scorecards()
    simulation = _week(response={"normal": "45m"}, now=z("2026-03-04 00:00"))
    [clock] = simulation.clocks
    assert clock.paused and clock.stopped_at is None
    assert (clock.breached_now, clock.breached_proposed) == (False, False)
    tighter = _week(response={"normal": "20m"}, now=z("2026-03-04 00:00"))
    # Paused at 11:00 SH, 10 minutes after a 10:50 SH due time.
    assert tighter.clocks[0].proposed_due_at == z("2026-03-02 02:50")
    assert tighter.clocks[0].breached_proposed is True


def test_bad_requests_are_rejected_clearly(sla_org: Org) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"department": "NOPE"}, "No department with code 'NOPE'"),
        ({"period": "year"}, "Unknown period 'year': use day, week, month"),
        ({"response": {"critical": "2h"}}, "Unknown priority 'critical'"),
        ({"response": {"normal": "2x"}}, "'2x' is not a duration"),
        ({"response": {"normal": 0}}, "must be longer than zero"),
        ({"response": {"high": -60.0}}, "must be longer than zero"),
    ]
    for overrides, message in cases:
        kwargs: dict[str, Any] = {
            "department": "FIN",
            "period": "week",
            "start": WEEK,
            "response": {},
            **overrides,
        }
        with pytest.raises(WhatIfError, match=message):
            simulate_policy(**kwargs)


# ---------------------------------------------------------------------------
# Durations
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2h", 7200),
        ("30m", 1800),
        ("1h30m", 5400),
        ("90m", 5400),
        ("1.5h", 5400),
        ("45s", 45),
        (" 1h 30m ", 5400),
        ("2H", 7200),
        ("1h0m30s", 3630),
        ("0.25m", 15),
    ],
)
def test_durations_parse(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is not a duration"),
        ("2", "is not a duration"),
        ("2x", "is not a duration"),
        ("h", "is not a duration"),
        ("30m2h", "is not a duration"),
        ("-2h", "is not a duration"),
        ("1h30", "is not a duration"),
        ("0h", "longer than zero"),
        ("0m0s", "longer than zero"),
    ],
)
def test_bad_durations_are_rejected(text: str, message: str) -> None:
    with pytest.raises(WhatIfError, match=message):
        parse_duration(text)


def test_targets_parse_by_priority() -> None:
    assert parse_target("normal=2h") == ("normal", 7200)
    assert parse_targets(["normal=2h", "URGENT=15m"]) == {
        "normal": 7200,
        "urgent": 900,
    }
    with pytest.raises(WhatIfError, match="Unknown priority 'critical'"):
        parse_target("critical=2h")
    with pytest.raises(WhatIfError, match="PRIORITY=DURATION"):
        parse_target("2h")
    with pytest.raises(WhatIfError, match="given twice"):
        parse_targets(["high=1h", "high=2h"])


# ---------------------------------------------------------------------------
# Nothing is stored
# ---------------------------------------------------------------------------

READ_MODELS = (
    Scorecard,
    ScorecardHandoff,
    ScorecardTicket,
    SLAClock,
    SLANotification,
    TicketSummary,
    Handoff,
    TimelineEntry,
    ProjectionTracking,
)


def _snapshot() -> dict[str, Any]:
    state: dict[str, Any] = {"events": event_count()}
    for model in READ_MODELS:
        state[model.__name__] = sorted(map(repr, model._default_manager.values_list()))
    return state


def _assert_nothing_written(run: Any) -> Any:
    before = _snapshot()
    assert before["events"] > 0 and before["ScorecardHandoff"]
    with CaptureQueriesContext(connection) as queries:
        result = run()
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert _snapshot() == before
    return result


def test_simulating_stores_nothing(history: dict[str, UUID]) -> None:
    simulation = _assert_nothing_written(
        lambda: _week(response={"normal": "2h", "high": "30m"})
    )
    assert len(simulation.flips) == 2


# ---------------------------------------------------------------------------
# The management command
# ---------------------------------------------------------------------------


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command("simulate_policy", *args, stdout=out)
    return out.getvalue()


def test_the_command_reports_json_and_stores_nothing(
    history: dict[str, UUID],
) -> None:
    output = _assert_nothing_written(
        lambda: _command(
            "--department",
            "FIN",
            "--period",
            "week",
            "--start",
            "2026-03-02",
            "--response",
            "normal=2h",
            "--response",
            "high=30m",
            "--json",
        )
    )
    report = json.loads(output)
    assert (report["department"], report["period"], report["start"]) == (
        "FIN",
        "week",
        "2026-03-02",
    )
    assert report["proposed"] == {"normal": 7200.0, "high": 1800.0}
    assert report["total"] == {
        "priority": "total",
        "clocks": 4,
        "breached_now": 2,
        "breached_proposed": 4,
        "breach_change": 2,
        "rate_now": 0.5,
        "rate_proposed": 1.0,
        "rate_change": 0.5,
    }
    assert [p["priority"] for p in report["priorities"]] == [
        "low",
        "normal",
        "high",
        "urgent",
    ]
    flips = {f["stint_id"]: f for f in report["flips"]}
    assert set(flips) == {str(history["A"]), str(history["B"])}
    a = flips[str(history["A"])]
    assert (a["stored_due_at"], a["proposed_due_at"], a["stopped_at"]) == (
        "2026-03-02T07:30:00+00:00",
        "2026-03-02T05:30:00+00:00",
        "2026-03-02T06:00:00+00:00",
    )
    assert a["change"] == "newly breached" and a["priority"] == "normal"


def test_the_command_prints_a_readable_table(history: dict[str, UUID]) -> None:
    output = _command(
        "--department", "FIN", "--start", "2026-03-04", "--response", "normal=7h"
    )
    assert "What-if for FIN: week from 2026-03-02" in output
    assert "Proposed response targets: normal 7h" in output
    lines = output.splitlines()
    [total] = [line for line in lines if line.startswith("total")]
    assert total.split() == [
        "total",
        "4",
        "2",
        "0",
        "-2",
        "50.0%",
        "0.0%",
        "-50.0",
        "pts",
    ]
    assert "Handoffs whose verdict would change (2):" in output
    assert "no longer breached: ticket" in output
    assert str(history["C"]) in output and str(history["D"]) in output
    assert str(history["A"]) not in output


def test_the_command_defaults_to_the_current_week_in_the_departments_time(
    history: dict[str, UUID], at: Any
) -> None:
    at("2026-03-08 17:00")  # Sunday in UTC, Monday 01:00 in Shanghai
    report = json.loads(_command("--department", "FIN", "--json"))
    assert report["start"] == "2026-03-09"
    assert [f["stint_id"] for f in report["flips"]] == []
    at("2026-03-08 15:00")  # Sunday 23:00 in Shanghai
    report = json.loads(_command("--department", "FIN", "--json"))
    assert report["start"] == "2026-03-02"
    assert report["total"]["clocks"] == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--department", "NOPE"], "No department with code 'NOPE'"),
        (["--department", "FIN", "--response", "critical=2h"], "Unknown priority"),
        (["--department", "FIN", "--response", "normal=2x"], "is not a duration"),
        (["--department", "FIN", "--response", "normal=0m"], "longer than zero"),
        (["--department", "FIN", "--response", "normal"], "PRIORITY=DURATION"),
        (["--department", "FIN", "--start", "03/02/2026"], "not a date"),
        (["--department", "FIN", "--period", "year"], "invalid choice"),
    ],
)
def test_the_command_rejects_bad_input_clearly(
    sla_org: Org, args: list[str], message: str
) -> None:
    before = event_count()
    with pytest.raises(CommandError, match=message):
        _command(*args)
    assert event_count() == before


# ---------------------------------------------------------------------------
# The admin view
# ---------------------------------------------------------------------------

URL = "/admin/sla/scorecard/what-if/"
QUERY = {
    "department": "FIN",
    "period": "week",
    "start": "2026-03-02",
    "response_normal": "2h",
    "response_high": "30m",
}


def _staff(username: str, *, permission: bool) -> User:
    user = make_user(username)
    if permission:
        user.user_permissions.add(
            Permission.objects.get(
                content_type__app_label="sla", codename="view_slapolicyversion"
            )
        )
    return user


def test_the_admin_view_shows_the_result_and_stores_nothing(
    history: dict[str, UUID], sla_org: Org
) -> None:
    client = Client()
    # A front-line lead: sees every ticket, so every flipped handoff is listed.
    client.force_login(sla_org.leads["CS"])
    response = _assert_nothing_written(lambda: client.get(URL, QUERY))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="whatif-result"' in body
    simulation: Simulation = response.context["simulation"]
    assert {c.stint_id for c in simulation.flips} == {history["A"], history["B"]}
    assert str(history["A"]) in body and str(history["B"]) in body
    assert str(history["C"]) not in body
    assert "newly breached" in body and "50.0%" in body and "100.0%" in body


def test_the_admin_view_starts_with_an_empty_form(sla_org: Org) -> None:
    client = Client()
    client.force_login(_staff("planner", permission=True))
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["simulation"] is None
    assert 'name="response_urgent"' in response.content.decode()


def test_the_admin_view_explains_bad_input(sla_org: Org) -> None:
    client = Client()
    client.force_login(_staff("planner", permission=True))
    response = client.get(URL, {**QUERY, "response_normal": "2 hours"})
    assert response.status_code == 400
    assert response.context["simulation"] is None
    assert "is not a duration" in response.content.decode()
    response = client.get(URL, {**QUERY, "department": "NOPE"})
    assert response.status_code == 400


def test_the_admin_view_needs_staff_with_the_policy_permission(
    sla_org: Org,
) -> None:
    client = Client()
    assert client.get(URL, QUERY).status_code == 302  # to the admin login
    client.force_login(_staff("nosy", permission=False))
    assert client.get(URL, QUERY).status_code == 403
    client.force_login(_staff("planner", permission=True))
    assert client.get(URL, QUERY).status_code == 200
    assert client.post(URL, QUERY).status_code == 405
    # Called directly (not wrapped by admin_view): staff status is checked too.
    outsider = _staff("outsider", permission=True)
    outsider.is_staff = False
    outsider.save()
    request = RequestFactory().get(URL, QUERY)
    request.user = User.objects.get(pk=outsider.pk)
    with pytest.raises(PermissionDenied):
        whatif_view(request)
