"""Department scorecards against a hand-checked history.

Calendars (tests/sla/conftest.py): Customer Service 09:00-18:00 and Risk
09:00-18:00 Shanghai (UTC+8); Finance 09:00-12:00 + 13:00-18:00 Shanghai;
Logistics 09:00-17:00 New York; Product has no policy (no clocks).
Response targets (normal priority): CS 1h, FIN 4h, LOG 8h, RISK 2h.

The week under test is Monday 2026-03-02 to Sunday 2026-03-08. New York
moves to daylight time on Sunday 2026-03-08 (UTC-5 -> UTC-4), so
Logistics' week ends at 04:00Z on Monday the 9th, while Shanghai's ended
at 16:00Z on Sunday the 8th. Every figure below was worked out by hand
from the story in ``history`` (times in UTC unless a zone is named).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from sla.models import Scorecard, ScorecardHandoff
from sla.scorecards import COUNTS, DERIVED, FIGURE_NAMES
from tests.helpers import Org, event_count, open_ticket, stored_events
from tickets import services
from tickets.application import get_tickets_application
from tickets.domain import Ticket
from tickets.models import Handoff
from tickets.projection_runner import audit, catch_up, projection_group, rebuild

WEEK = date(2026, 3, 2)
NEXT_WEEK = date(2026, 3, 9)


def project() -> None:
    catch_up(get_tickets_application(), projection_group("scorecards"), batch_size=7)


def stints(ticket_id: UUID) -> list[UUID]:
    return list(
        Handoff.objects.filter(ticket_id=ticket_id)
        .order_by("started_position")
        .values_list("id", flat=True)
    )


def customer(ref: str = "CUST-1") -> Any:
    return services.principal_for_customer(customer_ref=ref)


@dataclass
class History:
    t1: UUID
    t2: UUID
    t3: UUID
    t4: UUID
    t5: UUID


def hand(org: Org, who: str, ticket: UUID, to: str) -> None:
    services.ticket_hand_off(
        principal=org.agent(who), ticket_id=ticket, to_department=to, reason="r"
    )


def reply(org: Org, who: str, ticket: UUID) -> None:
    services.ticket_respond(principal=org.agent(who), ticket_id=ticket, body="On it.")


def resolve(org: Org, who: str, ticket: UUID, cause: str) -> None:
    services.ticket_resolve(
        principal=org.agent(who), ticket_id=ticket, resolution="Done.", root_cause=cause
    )


def rate(ticket: UUID, stint: UUID, score: int, comment: str = "") -> None:
    services.ticket_rate_handoff(
        principal=customer(),
        ticket_id=ticket,
        handoff_id=stint,
        score=score,
        comment=comment,
    )


@pytest.fixture
def history(sla_org: Org, at: Any) -> History:
    org = sla_org
    # T1 REFUND: CS 09:00 Mon Shanghai -> FIN at 09:30; FIN replies at 11:30
    # (2h of business time, met), resolves (policy); rated FIN 5, CS 4.
    at("2026-03-02 01:00")
    t1 = open_ticket(org, scenario="REFUND")
    at("2026-03-02 01:30")
    hand(org, "CS", t1, "FIN")
    at("2026-03-02 03:30")
    reply(org, "FIN", t1)
    at("2026-03-02 04:30")
    resolve(org, "FIN", t1, "policy")
    cs1, fin1 = stints(t1)
    rate(t1, fin1, 5, "Fast refund")
    rate(t1, cs1, 4)

    # T2 REFUND: FIN receives at 10:10 Mon Shanghai (due 15:10), waits on
    # the customer at 11:00 (50 min used), the customer answers Tue 10:00
    # (7h of business time paused: due moves to Tue 14:10), FIN hands it
    # straight back to CS at Tue 15:00 without a reply: breached and
    # bounced. CS replies 20 min later and resolves (process).
    at("2026-03-02 02:00")
    t2 = open_ticket(org, scenario="REFUND")
    at("2026-03-02 02:10")
    hand(org, "CS", t2, "FIN")
    at("2026-03-02 03:00")
    services.ticket_wait_on_customer(
        principal=org.agent("FIN"), ticket_id=t2, reason="Need the receipt"
    )
    at("2026-03-03 02:00")
    services.ticket_record_customer_reply(
        principal=customer(), ticket_id=t2, body="Receipt attached."
    )
    at("2026-03-03 07:00")
    hand(org, "FIN", t2, "CS")
    at("2026-03-03 07:20")
    reply(org, "CS", t2)
    at("2026-03-03 07:30")
    resolve(org, "CS", t2, "process")
    _, fin2, _ = stints(t2)
    rate(t2, fin2, 1, "Nobody called me back")
    # FIN disputes both; the service team waives the breach (the customer
    # sent the receipt to the wrong address) and lets the rating stand.
    at("2026-03-04 02:00")
    breach_dispute = services.ticket_dispute(
        principal=org.lead("FIN"),
        ticket_id=t2,
        handoff_id=fin2,
        subject="breach",
        reason="Receipt went to the wrong mailbox",
    ).detail
    rating_dispute = services.ticket_dispute(
        principal=org.lead("FIN"),
        ticket_id=t2,
        handoff_id=fin2,
        subject="rating",
        reason="Customer angry at the carrier",
    ).detail
    services.ticket_dispute_decide(
        principal=org.lead("CS"),
        ticket_id=t2,
        dispute_id=breach_dispute,
        decision="waived",
        reason="Confirmed: misrouted mail",
    )
    services.ticket_dispute_decide(
        principal=org.lead("CS"),
        ticket_id=t2,
        dispute_id=rating_dispute,
        decision="accepted",
        reason="The delay was ours",
    )

    # T3 LOST_PARCEL, the ping-pong across New York's DST change: CS (Sat
    # 12:00 Shanghai) -> LOG Fri 23:20 EST -> back to CS Sat 23:30 EST
    # (bounce) -> LOG again Sun 23:30 EDT (third CS/LOG transfer: ping-pong;
    # still Logistics' week of the 2nd). CS took 2.5 business hours to pass
    # it on (breached). LOG replies Mon 10:00 EDT (1h), resolves (product
    # defect); the customer reopens Tue; LOG replies in 1h, resolves.
    at("2026-03-07 04:00")
    t3 = open_ticket(org, scenario="LOST_PARCEL")
    at("2026-03-07 04:20")
    hand(org, "CS", t3, "LOG")
    at("2026-03-08 04:30")
    hand(org, "LOG", t3, "CS")
    at("2026-03-09 03:30")
    hand(org, "CS", t3, "LOG")
    at("2026-03-09 14:00")
    reply(org, "LOG", t3)
    at("2026-03-09 15:00")
    resolve(org, "LOG", t3, "product_defect")
    at("2026-03-10 15:00")
    services.ticket_reopen(principal=customer(), ticket_id=t3, reason="Still lost")
    at("2026-03-10 16:00")
    reply(org, "LOG", t3)
    at("2026-03-10 17:00")
    resolve(org, "LOG", t3, "product_defect")

    # T4 ACCOUNT_LOCKED: RISK receives 13:05 Mon Shanghai, replies in 1h;
    # the front line re-labels the ticket FRAUD while RISK has it; RISK
    # passes it to PRODUCT (no SLA policy: no clock) which replies and
    # resolves. Rated RISK 3, PRODUCT 2; PRODUCT disputes (undecided).
    at("2026-03-02 05:00")
    t4 = open_ticket(org, scenario="ACCOUNT_LOCKED")
    at("2026-03-02 05:05")
    hand(org, "CS", t4, "RISK")
    at("2026-03-02 06:05")
    reply(org, "RISK", t4)
    at("2026-03-02 06:30")
    services.ticket_change_scenario(
        principal=org.agent("CS"), ticket_id=t4, scenario="FRAUD"
    )
    at("2026-03-02 07:00")
    hand(org, "RISK", t4, "PROD")
    at("2026-03-02 16:00")
    reply(org, "PROD", t4)
    at("2026-03-02 17:00")
    resolve(org, "PROD", t4, "product_defect")
    _, risk4, prod4 = stints(t4)
    rate(t4, risk4, 3)
    rate(t4, prod4, 2, "Bug still there")
    services.ticket_dispute(
        principal=org.lead("PROD"),
        ticket_id=t4,
        handoff_id=prod4,
        subject="rating",
        reason="Rated the app, not our fix",
    )

    # T5 REFUND: opened Mon 03:50 Shanghai, FIN receives it at 04:00
    # Monday the 9th in Shanghai (still Sunday in UTC): next week for both.
    at("2026-03-08 19:50")
    t5 = open_ticket(org, scenario="REFUND")
    at("2026-03-08 20:00")
    hand(org, "CS", t5, "FIN")

    project()
    return History(t1, t2, t3, t4, t5)


def card(department: str, start: date = WEEK, scenario: str = "*") -> dict[str, Any]:
    row = Scorecard.objects.get(
        department=department, period="week", start=start, scenario=scenario
    )
    return dict(row.figures)


def exactly(**given: Any) -> dict[str, Any]:
    """Every figure: the counts given, 0 for the others; the rates,
    averages and percentiles given, None (nothing to compute them over)
    for the others."""
    unknown = set(given) - set(FIGURE_NAMES)
    assert not unknown, unknown
    return dict.fromkeys(COUNTS, 0) | dict.fromkeys(DERIVED) | given


def test_finance_week_every_figure(history: History) -> None:
    assert set(card("FIN")) == set(FIGURE_NAMES)
    assert card("FIN") == exactly(
        **{
            "received": 2,
            "responded": 1,
            "handed_on": 1,
            "resolved": 1,
            "finished": 2,
            "met": 1,
            "breached": 1,
            "decided": 2,
            "timed_responses": 1,
            "ratings": 2,
            "satisfied": 1,
            "dissatisfied": 1,
            "bounced": 1,
            "root_cause_policy": 1,
            "breaches_waived": 1,
            "decided_adjusted": 1,
            "ratings_adjusted": 2,
            "satisfied_adjusted": 1,
            "dissatisfied_adjusted": 1,
            "breach_rate": 0.5,
            "median_response_seconds": 7200.0,
            "p90_response_seconds": 7200.0,
            "rating_rate": 1.0,
            "average_score": 3.0,
            "satisfied_share": 0.5,
            "dissatisfied_share": 0.5,
            "average_score_adjusted": 3.0,
            "satisfied_share_adjusted": 0.5,
            "dissatisfied_share_adjusted": 0.5,
            "breach_rate_adjusted": 0.0,
        }
    )
    assert card("FIN", scenario="REFUND") == card("FIN")
    # T5 reached Finance on Monday the 9th in Shanghai (Sunday in UTC).
    assert card("FIN", NEXT_WEEK) == exactly(**{"received": 1})


def test_customer_service_week_every_figure(history: History) -> None:
    assert card("CS") == exactly(
        **{
            "received": 6,
            "responded": 1,
            "handed_on": 5,
            "resolved": 1,
            "finished": 6,
            "met": 5,
            "breached": 1,
            "decided": 6,
            "timed_responses": 1,
            "ratings": 1,
            "satisfied": 1,
            "bounced": 1,
            "root_cause_process": 1,
            "breached_adjusted": 1,
            "decided_adjusted": 6,
            "ratings_adjusted": 1,
            "satisfied_adjusted": 1,
            "breach_rate": 0.1667,
            "median_response_seconds": 1200.0,
            "p90_response_seconds": 1200.0,
            "rating_rate": 0.1667,
            "average_score": 4.0,
            "satisfied_share": 1.0,
            "breach_rate_adjusted": 0.1667,
            "average_score_adjusted": 4.0,
            "satisfied_share_adjusted": 1.0,
            "dissatisfied_share": 0.0,
            "dissatisfied_share_adjusted": 0.0,
        }
    )
    by_scenario = {
        s: card("CS", scenario=s)["received"]
        for s in ("REFUND", "LOST_PARCEL", "ACCOUNT_LOCKED")
    }
    assert by_scenario == {"REFUND": 3, "LOST_PARCEL": 2, "ACCOUNT_LOCKED": 1}
    assert card("CS", NEXT_WEEK) == exactly(
        **{
            "received": 1,
            "handed_on": 1,
            "finished": 1,
            "met": 1,
            "decided": 1,
            "decided_adjusted": 1,
            "breach_rate": 0.0,
            "breach_rate_adjusted": 0.0,
            "rating_rate": 0.0,
        }
    )


def test_logistics_week_across_the_dst_change(history: History) -> None:
    assert card("LOG") == exactly(
        **{
            "received": 2,
            "responded": 1,
            "handed_on": 1,
            "resolved": 1,
            "finished": 2,
            "met": 2,
            "decided": 2,
            "timed_responses": 1,
            "reopened": 1,
            "bounced": 1,
            "ping_pong": 1,
            "root_cause_product_defect": 1,
            "decided_adjusted": 2,
            "median_response_seconds": 3600.0,
            "p90_response_seconds": 3600.0,
            "breach_rate": 0.0,
            "breach_rate_adjusted": 0.0,
            "rating_rate": 0.0,
        }
    )
    # Friday the 6th (EST) and Sunday the 8th (EDT), both in New York.
    days = sorted(
        ScorecardHandoff.objects.filter(department="LOG", week=WEEK).values_list(
            "day", flat=True
        )
    )
    assert days == [date(2026, 3, 6), date(2026, 3, 8)]
    assert card("LOG", NEXT_WEEK) == exactly(
        **{
            "received": 1,
            "responded": 1,
            "resolved": 1,
            "finished": 1,
            "met": 1,
            "decided": 1,
            "timed_responses": 1,
            "root_cause_product_defect": 1,
            "decided_adjusted": 1,
            "median_response_seconds": 3600.0,
            "p90_response_seconds": 3600.0,
            "breach_rate": 0.0,
            "breach_rate_adjusted": 0.0,
            "rating_rate": 0.0,
        }
    )


def test_risk_and_product_with_a_scenario_change_and_no_policy(
    history: History,
) -> None:
    risk = card("RISK")
    assert risk == exactly(
        **{
            "received": 1,
            "responded": 1,
            "handed_on": 1,
            "finished": 1,
            "met": 1,
            "decided": 1,
            "timed_responses": 1,
            "ratings": 1,
            "decided_adjusted": 1,
            "ratings_adjusted": 1,
            "median_response_seconds": 3600.0,
            "p90_response_seconds": 3600.0,
            "rating_rate": 1.0,
            "average_score": 3.0,
            "average_score_adjusted": 3.0,
            "breach_rate": 0.0,
            "breach_rate_adjusted": 0.0,
            "satisfied_share": 0.0,
            "dissatisfied_share": 0.0,
            "satisfied_share_adjusted": 0.0,
            "dissatisfied_share_adjusted": 0.0,
        }
    )
    # The stint in progress moved to FRAUD; the front line's finished one
    # stayed ACCOUNT_LOCKED.
    assert card("RISK", scenario="FRAUD") == risk
    assert not Scorecard.objects.filter(department="RISK", scenario="ACCOUNT_LOCKED")
    product = card("PROD")
    assert product == exactly(
        **{
            "received": 1,
            "responded": 1,
            "resolved": 1,
            "finished": 1,
            "ratings": 1,
            "dissatisfied": 1,
            "root_cause_product_defect": 1,
            "disputes_open": 1,
            "ratings_adjusted": 1,
            "dissatisfied_adjusted": 1,
            "rating_rate": 1.0,
            "average_score": 2.0,
            "dissatisfied_share": 1.0,
            "average_score_adjusted": 2.0,
            "dissatisfied_share_adjusted": 1.0,
            "satisfied_share": 0.0,
            "satisfied_share_adjusted": 0.0,
        }
    )


def test_days_and_months_bucket_in_the_department_timezone(history: History) -> None:
    fin_days = {
        row.start: row.figures["received"]
        for row in Scorecard.objects.filter(
            department="FIN", period="day", scenario="*"
        )
    }
    assert fin_days == {date(2026, 3, 2): 2, date(2026, 3, 9): 1}
    month = Scorecard.objects.get(
        department="LOG", period="month", start=date(2026, 3, 1), scenario="*"
    )
    assert month.figures["received"] == 3 and month.figures["reopened"] == 1


def test_incremental_equals_rebuild_and_audit(history: History) -> None:
    app = get_tickets_application()
    group = projection_group("scorecards")
    assert audit(app, group) == []
    before = {r.key: r.figures for r in Scorecard.objects.all()}
    rebuild(app, group)
    assert {r.key: r.figures for r in Scorecard.objects.all()} == before
    call_command("audit_scorecards")


def test_audit_detects_a_tampered_scorecard_and_fact(history: History) -> None:
    row = Scorecard.objects.get(key="FIN|week|2026-03-02|*")
    row.figures = row.figures | {"breached": 0, "breach_rate": 0.0}
    row.save()
    fact = ScorecardHandoff.objects.filter(
        department="LOG", ping_pong_position__isnull=False
    ).get()
    ScorecardHandoff.objects.filter(pk=fact.pk).update(ping_pong_position=None)
    with pytest.raises(CommandError, match="difference"):
        call_command("audit_scorecards")
    differences = audit(get_tickets_application(), projection_group("scorecards"))
    described = {(d.model, str(d.key)): d.problem for d in differences}
    assert (
        "figures.breached: stored 0, events say 1"
        in described[("Scorecard", "FIN|week|2026-03-02|*")]
    )
    assert (
        f"ping_pong_position: stored None, events say {fact.ping_pong_position}"
        in (described[("ScorecardHandoff", str(fact.pk))])
    )
    # A row no event explains is reported too.
    Scorecard.objects.create(
        key="FIN|week|2026-02-23|*",
        department="FIN",
        period="week",
        start=date(2026, 2, 23),
        scenario="*",
        figures={},
    )
    problems = {
        str(d.key): d.problem
        for d in audit(get_tickets_application(), projection_group("scorecards"))
    }
    assert problems["FIN|week|2026-02-23|*"] == "not derived from any event"


def test_disputes_change_adjusted_figures_only_and_are_events(
    history: History,
) -> None:
    types = [type(e).__name__ for e in stored_events(history.t2)]
    assert types.count("DisputeOpened") == 2 and types.count("DisputeDecided") == 2
    # The breach itself is still in the log and in the raw figure.
    assert "SLABreached" in types
    assert card("FIN")["breached"] == 1 and card("FIN")["breached_adjusted"] == 0


def _drill(client: APIClient, department: str, figure: str, **query: str) -> Any:
    response = client.get(
        f"/api/v1/scorecards/{department}/week/{WEEK}/figures/{figure}/", query
    )
    assert response.status_code == 200, response.content
    return response.json()


#: The events that may decide each kind of fact (drill-down positions).
DECIDING_EVENTS = {
    "received_position": {"Opened", "HandedOff", "Reopened"},
    "responded_position": {"Responded"},
    "ended_position": {"HandedOff", "Resolved"},
    "verdict_position": {"SLABreached", "ClockStopped"},
    "response_seconds_position": {"ClockStopped"},
    "rating_position": {"HandoffRated"},
    "reopened_position": {"Reopened"},
    "bounced_position": {"HandedOff"},
    "ping_pong_position": {"HandedOff"},
    "breach_dispute_position": {"DisputeDecided"},
    "rating_dispute_position": {"DisputeDecided"},
    "dispute_position": {"DisputeOpened"},
}


def test_drilldown_lists_exactly_the_handoffs_behind_every_figure(
    history: History, sla_org: Org
) -> None:
    client = APIClient()
    client.force_authenticate(sla_org.leads["CS"])
    events = {
        n.id: get_tickets_application().mapper.to_domain_event(n)
        for n in get_tickets_application().recorder.select_notifications(
            start=1, limit=10_000
        )
    }
    checked = 0
    for department in ("CS", "FIN", "LOG", "RISK", "PROD"):
        for scenario in [
            "*",
            *Scorecard.objects.filter(department=department, period="week", start=WEEK)
            .exclude(scenario="*")
            .values_list("scenario", flat=True),
        ]:
            figures = card(department, scenario=scenario)
            for name in FIGURE_NAMES:
                body = _drill(client, department, name, scenario=scenario)
                assert body["value"] == figures[name]
                basis = DERIVED[name].over if name in DERIVED else name
                assert body["count"] == figures[basis] == len(body["handoffs"]), (
                    department,
                    scenario,
                    name,
                )
                field = COUNTS[basis].position
                for row in body["handoffs"]:
                    event = events[row["deciding_position"]]
                    assert type(event).__name__ in DECIDING_EVENTS[field], (name, row)
                    assert str(event.originator_id) == row["ticket_id"]
                checked += 1
    weekly = Scorecard.objects.filter(period="week", start=WEEK).count()
    assert weekly == 12 and checked == len(FIGURE_NAMES) * weekly


def test_scorecard_api_raw_and_adjusted_with_the_trail(
    history: History, sla_org: Org
) -> None:
    client = APIClient()
    client.force_authenticate(sla_org.agents["FIN"])
    body = client.get(f"/api/v1/scorecards/FIN/week/{WEEK}/").json()
    assert body["timezone"] == "Asia/Shanghai" and body["end"] == "2026-03-09"
    overall = body["scenarios"][0]
    assert overall["scenario"] == "*" and overall["figures"] == card("FIN")
    assert overall["raw_vs_adjusted"]["breached"] == {"raw": 1, "adjusted": 0}
    assert overall["raw_vs_adjusted"]["breach_rate"] == {"raw": 0.5, "adjusted": 0.0}
    trail = {
        (a["subject"], a["state"], a["reason"], a["decision_reason"])
        for a in body["adjustments"]
    }
    assert trail == {
        (
            "breach",
            "waived",
            "Receipt went to the wrong mailbox",
            "Confirmed: misrouted mail",
        ),
        ("rating", "accepted", "Customer angry at the carrier", "The delay was ours"),
    }
    # A department reads only its own scorecards; the service team all.
    denied = client.get(f"/api/v1/scorecards/LOG/week/{WEEK}/")
    assert denied.status_code == 403 and denied.json()["code"] == "not_permitted"
    bad_start = client.get("/api/v1/scorecards/FIN/week/2026-03-03/")
    assert bad_start.status_code == 400
    assert bad_start.json()["code"] == "invalid_period_start"
    assert "2026-03-02" in bad_start.json()["detail"]
    for path, code in (
        ("/api/v1/scorecards/NOPE/week/2026-03-02/", "scorecard_not_found"),
        ("/api/v1/scorecards/FIN/year/2026-03-02/", "scorecard_not_found"),
        (f"/api/v1/scorecards/FIN/week/{WEEK}/figures/nope/", "scorecard_not_found"),
        ("/api/v1/scorecards/FIN/week/2026-02-31/", "not_found"),
    ):
        response = client.get(path)
        assert (response.status_code, response.json()["code"]) == (404, code), path
    # An empty period: zeros, not an error.
    empty = client.get("/api/v1/scorecards/FIN/week/2026-01-05/").json()
    assert empty["scenarios"][0]["figures"]["received"] == 0
    assert APIClient().get(f"/api/v1/scorecards/FIN/week/{WEEK}/").status_code == 401


def test_dispute_rules_store_nothing_when_rejected(
    history: History, sla_org: Org
) -> None:
    client = APIClient()
    cs1, fin2, cs2 = stints(history.t2)
    t2 = history.t2
    before = event_count()

    def post(user: Any, path: str, data: dict[str, Any]) -> Any:
        client.force_authenticate(user)
        return client.post(f"/api/v1/tickets/{t2}/{path}/", data, format="json")

    cases = [
        # Risk never handled it (it cannot even see it); already disputed;
        # a clock that was met; a handoff nobody rated; an unknown subject.
        (
            sla_org.agents["RISK"],
            "disputes",
            {"handoff_id": fin2, "subject": "breach", "reason": "x"},
            404,
            "ticket_not_found",
        ),
        (
            sla_org.agents["FIN"],
            "disputes",
            {"handoff_id": fin2, "subject": "breach", "reason": "x"},
            400,
            "already_disputed",
        ),
        (
            sla_org.agents["CS"],
            "disputes",
            {"handoff_id": cs2, "subject": "breach", "reason": "x"},
            400,
            "nothing_to_dispute",
        ),
        (
            sla_org.agents["CS"],
            "disputes",
            {"handoff_id": cs1, "subject": "rating", "reason": "x"},
            400,
            "nothing_to_dispute",
        ),
        (
            sla_org.agents["CS"],
            "disputes",
            {"handoff_id": cs1, "subject": "mood", "reason": "x"},
            400,
            "invalid_choice",
        ),
        (
            sla_org.agents["FIN"],
            "disputes",
            {"handoff_id": fin2, "subject": "breach", "reason": ""},
            400,
            "already_disputed",
        ),
    ]
    for user, path, data, status, code in cases:
        response = post(user, path, data)
        assert (response.status_code, response.json()["code"]) == (status, code), data
    # Deciding: only a front-line lead, only once.
    t4 = history.t4
    prod = stints(t4)[2]
    from tickets.domain import dispute_id_for

    dispute = dispute_id_for(prod, "rating")
    client.force_authenticate(sla_org.agents["CS"])
    not_lead = client.post(
        f"/api/v1/tickets/{t4}/dispute-decisions/",
        {"dispute_id": dispute, "decision": "waived", "reason": "ok"},
        format="json",
    )
    assert (not_lead.status_code, not_lead.json()["code"]) == (403, "not_permitted")
    client.force_authenticate(sla_org.leads["FIN"])
    other_lead = client.post(
        f"/api/v1/tickets/{t4}/dispute-decisions/",
        {"dispute_id": dispute, "decision": "waived", "reason": "ok"},
        format="json",
    )
    assert other_lead.status_code in (403, 404)
    assert event_count() == before
    client.force_authenticate(sla_org.leads["CS"])
    no_reason = client.post(
        f"/api/v1/tickets/{t4}/dispute-decisions/",
        {"dispute_id": dispute, "decision": "waived", "reason": ""},
        format="json",
    )
    assert no_reason.json()["code"] == "reason_required"
    assert event_count() == before
    ok = client.post(
        f"/api/v1/tickets/{t4}/dispute-decisions/",
        {"dispute_id": dispute, "decision": "waived", "reason": "App bug, not theirs"},
        format="json",
    )
    assert ok.status_code == 200, ok.content
    assert event_count() == before + 1
    again = client.post(
        f"/api/v1/tickets/{t4}/dispute-decisions/",
        {"dispute_id": dispute, "decision": "accepted", "reason": "Changed my mind"},
        format="json",
    )
    assert again.json()["code"] == "dispute_already_decided"
    assert event_count() == before + 1
    project()
    product = card("PROD")
    assert (product["disputes_open"], product["ratings_waived"]) == (0, 1)
    assert (product["ratings"], product["ratings_adjusted"]) == (1, 0)
    assert product["average_score"] == 2.0 and product["average_score_adjusted"] is None


def test_a_dispute_over_the_api_returns_its_id(history: History, sla_org: Org) -> None:
    t1 = history.t1
    fin1 = stints(t1)[1]
    client = APIClient()
    client.force_authenticate(sla_org.leads["FIN"])
    response = client.post(
        f"/api/v1/tickets/{t1}/disputes/",
        {"handoff_id": fin1, "subject": "rating", "reason": "Wrong team rated"},
        format="json",
    )
    assert response.status_code == 200, response.content
    from tickets.domain import dispute_id_for

    assert response.json()["dispute_id"] == str(dispute_id_for(fin1, "rating"))
    opened = [e for e in stored_events(t1) if isinstance(e, Ticket.DisputeOpened)]
    assert [(e.subject, e.department, e.reason) for e in opened] == [
        ("rating", "FIN", "Wrong team rated")
    ]
