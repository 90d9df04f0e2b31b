"""Problems: root causes by scenario (and product area), with volumes,
weekly trend, departments, examples, comments, the linked issue and the
effect of a shipped fix; the CSV and the weekly report's section; the
resolve input (no default root cause, details only for product defects
and processes).

The story (times UTC; CS and FIN in Shanghai, UTC+8; Product in New York,
UTC-5, UTC-4 from Sunday 8 March 2026). The period under test is the two
ISO weeks from Monday 2 March to Sunday 15 March 2026.

* t0 APP_BUG, opened Fri 20 Feb, resolved by CS the same day:
  product_defect / Checkout (the period before).
* t1 APP_BUG, opened Mon 2 Mar, handed to PROD, resolved by PROD Tue 3 Mar:
  product_defect / Checkout; the customer rates PROD 1 "Still broken".
* t2 APP_BUG, opened Mon 9 Mar, resolved by CS Tue 10 Mar:
  product_defect / Checkout; rated CS 4 "Fine now".
* t3 APP_BUG, opened Wed 4 Mar, resolved by CS the same day:
  product_defect, no area.
* t4 REFUND, opened Thu 5 Mar, handed to FIN, resolved by FIN: policy.
* t5 APP_BUG, opened Fri 13 Mar, handed to PROD, resolved by PROD Mon 16
  Mar 03:00 UTC = Sun 15 Mar 23:00 in New York: in the period.
* t6 APP_BUG, opened Fri 13 Mar, resolved by CS Sun 15 Mar 17:00 UTC =
  Mon 16 Mar 01:00 in Shanghai: after the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from rest_framework.test import APIClient

from sla.models import ProblemLink, ScorecardHandoff
from sla.problems import ProblemKey, ProblemLinks, effect, problem, problems
from sla.reports import parse_problems_csv, problems_csv, report_data
from sla.reports.render import render_report_html, render_report_text
from tests.helpers import Org, event_count, open_ticket
from tickets import services
from tickets.application import get_tickets_application
from tickets.models import Handoff
from tickets.problems_port import known_problem
from tickets.projection_runner import catch_up, projection_group

START, END = date(2026, 3, 2), date(2026, 3, 16)
CHECKOUT = ProblemKey("APP_BUG", "product_defect", "Checkout")


def project() -> None:
    catch_up(get_tickets_application(), projection_group("scorecards"))


def stints(ticket_id: UUID) -> list[UUID]:
    return list(
        Handoff.objects.filter(ticket_id=ticket_id)
        .order_by("started_position")
        .values_list("id", flat=True)
    )


def resolve(org: Org, who: str, ticket: UUID, cause: str, **extra: Any) -> None:
    services.ticket_resolve(
        principal=org.agent(who),
        ticket_id=ticket,
        resolution="Done.",
        root_cause=cause,
        **extra,
    )


def rate(ticket: UUID, stint: UUID, score: int, comment: str) -> None:
    services.ticket_rate_handoff(
        principal=services.principal_for_customer(customer_ref="CUST-1"),
        ticket_id=ticket,
        handoff_id=stint,
        score=score,
        comment=comment,
    )


@dataclass
class Story:
    t0: UUID
    t1: UUID
    t2: UUID
    t3: UUID
    t4: UUID
    t5: UUID
    t6: UUID


@pytest.fixture
def story(sla_org: Org, at: Any) -> Story:
    org = sla_org
    checkout = {"product_area": "Checkout"}
    at("2026-02-20 02:00")
    t0 = open_ticket(org, scenario="APP_BUG")
    resolve(org, "CS", t0, "product_defect", **checkout)

    at("2026-03-02 02:00")
    t1 = open_ticket(org, scenario="APP_BUG", subject="Pay button greyed out")
    services.ticket_hand_off(
        principal=org.agent("CS"), ticket_id=t1, to_department="PROD", reason="Bug"
    )
    at("2026-03-03 15:00")
    resolve(
        org,
        "PROD",
        t1,
        "product_defect",
        root_cause_detail="Button disabled when the cart has a voucher",
        **checkout,
    )
    rate(t1, stints(t1)[1], 1, "Still broken for days")

    at("2026-03-04 03:00")
    t3 = open_ticket(org, scenario="APP_BUG")
    resolve(org, "CS", t3, "product_defect")

    at("2026-03-05 03:00")
    t4 = open_ticket(org, scenario="REFUND")
    services.ticket_hand_off(
        principal=org.agent("CS"), ticket_id=t4, to_department="FIN", reason="Refund"
    )
    resolve(org, "FIN", t4, "policy")

    at("2026-03-09 02:00")
    t2 = open_ticket(org, scenario="APP_BUG")
    at("2026-03-10 02:00")
    resolve(org, "CS", t2, "product_defect", **checkout)
    rate(t2, stints(t2)[0], 4, "Fine now")

    at("2026-03-13 02:00")
    t5 = open_ticket(org, scenario="APP_BUG")
    services.ticket_hand_off(
        principal=org.agent("CS"), ticket_id=t5, to_department="PROD", reason="Bug"
    )
    t6 = open_ticket(org, scenario="APP_BUG")
    at("2026-03-15 17:00")
    resolve(org, "CS", t6, "product_defect", **checkout)
    at("2026-03-16 03:00")
    resolve(org, "PROD", t5, "product_defect", **checkout)
    at("2026-03-20 12:00")
    project()
    return Story(t0, t1, t2, t3, t4, t5, t6)


def test_the_resolving_stint_keeps_its_product_area_and_detail(story: Story) -> None:
    fact = ScorecardHandoff.objects.get(id=stints(story.t1)[1])
    assert (fact.root_cause, fact.product_area, fact.root_cause_detail) == (
        "product_defect",
        "Checkout",
        "Button disabled when the cart has a voucher",
    )
    other = ScorecardHandoff.objects.get(id=stints(story.t4)[1])
    assert (other.root_cause, other.product_area) == ("policy", "")


def test_problems_of_a_period(story: Story) -> None:
    report = problems(START, END)
    assert report.weeks == [date(2026, 3, 2), date(2026, 3, 9)]
    keys = [p.key for p in report.problems]
    assert keys == [
        CHECKOUT,
        ProblemKey("APP_BUG", "product_defect", ""),
        ProblemKey("REFUND", "policy", ""),
    ]
    checkout = report.problems[0]
    # t1 (PROD, Tue 3), t2 (CS, Tue 10) and t5 (PROD, Sun 15 in New
    # York); not t6 (Mon 16 in Shanghai) nor t0 (the period before).
    assert checkout.volume == checkout.tickets == 3
    assert set(checkout.ticket_ids) == {story.t1, story.t2, story.t5}
    assert checkout.weekly == [1, 2]
    assert checkout.departments == [("PROD", 2), ("CS", 1)]
    assert checkout.previous == 1  # t0, in the two weeks before
    assert checkout.change == 2
    assert checkout.examples == [story.t5, story.t2, story.t1]  # latest first
    assert checkout.details == ["Button disabled when the cart has a voucher"]
    # Comments on the problem's tickets, dissatisfied first.
    assert [(c.score, c.comment) for c in checkout.comments] == [
        (1, "Still broken for days"),
        (4, "Fine now"),
    ]
    # Each resolution names the event that decided it.
    positions = {r.handoff_id: r.position for r in checkout.resolutions}
    for handoff_id, position in positions.items():
        assert ScorecardHandoff.objects.get(id=handoff_id).ended_position == position
    assert report.total == 5
    assert report.problems[0].link is None and report.problems[0].effect is None


def test_filters(story: Story) -> None:
    by_prod = problems(START, END, department="PROD")
    assert [(p.key, p.volume) for p in by_prod.problems] == [(CHECKOUT, 2)]
    refund = problems(START, END, scenario="REFUND")
    assert [p.key.root_cause for p in refund.problems] == ["policy"]
    policy = problems(START, END, root_cause="policy")
    assert [p.key.scenario for p in policy.problems] == ["REFUND"]
    assert problems(START, END, department="LOG").problems == []
    # The next day, in Shanghai, holds t6.
    monday = problems(date(2026, 3, 16), date(2026, 3, 17))
    assert [(p.key, p.tickets) for p in monday.problems] == [(CHECKOUT, 1)]
    assert monday.problems[0].ticket_ids == [story.t6]
    with pytest.raises(ValueError):
        problems(END, START)


def test_a_linked_fix_shows_its_effect(story: Story, sla_org: Org) -> None:
    ProblemLink.objects.create(
        scenario="APP_BUG",
        root_cause="product_defect",
        product_area="Checkout",
        url="https://tracker.example/PROD-42",
        title="PROD-42 voucher disables pay button",
        shipped_on=date(2026, 3, 9),
    )
    found = problems(START, END, effect_weeks=1, today=date(2026, 3, 20))
    checkout = found.problems[0]
    assert checkout.link is not None and checkout.link.title.startswith("PROD-42")
    e = checkout.effect
    assert e is not None and e.complete
    # Before (2-8 Mar): APP_BUG tickets t1, t3; stints received then: t1's
    # CS and PROD stints and t3's CS stint; one rating (1): all dissatisfied.
    assert set(e.before.ticket_ids) == {story.t1, story.t3}
    assert e.before.weekly_tickets == 2
    assert (e.before.ratings, e.before.dissatisfied) == (1, 1)
    assert e.before.dissatisfied_share == 1.0
    assert e.before.dissatisfied_handoffs == (stints(story.t1)[1],)
    assert e.before.problem_resolutions == 1  # t1
    # After (9-15 Mar): t2, t5, t6; t2's rating 4: none dissatisfied.
    assert set(e.after.ticket_ids) == {story.t2, story.t5, story.t6}
    assert (e.after.ratings, e.after.dissatisfied) == (1, 0)
    assert e.after.dissatisfied_share == 0.0
    assert e.after.problem_resolutions == 2  # t2, t5 (t6 is Monday in Shanghai)
    assert e.tickets_saved_weekly == -1
    # Four weeks from 9 March have not passed by the 20th: 11 days so far.
    partial = effect(CHECKOUT, date(2026, 3, 9), weeks=4, today=date(2026, 3, 20))
    assert not partial.complete
    assert partial.after.days == 11
    assert partial.after.weekly_tickets == pytest.approx(3 / (11 / 7))
    # Not shipped: no effect; shipped today: nothing after yet.
    assert (
        effect(
            CHECKOUT, date(2026, 3, 20), weeks=1, today=date(2026, 3, 20)
        ).after.weekly_tickets
        is None
    )


def test_one_problem_with_all_its_comments(story: Story) -> None:
    one = problem(CHECKOUT, START, END)
    assert one.volume == 3 and len(one.comments) == 2
    none = problem(ProblemKey("REFUND", "process", ""), START, END)
    assert none.volume == 0 and none.weekly == [0, 0]


def test_the_ticket_shows_the_linked_issue(story: Story) -> None:
    assert known_problem(story.t1) is None
    ProblemLink.objects.create(
        scenario="APP_BUG",
        root_cause="product_defect",
        product_area="Checkout",
        url="https://tracker.example/PROD-42",
        title="PROD-42",
        shipped_on=date(2026, 3, 9),
    )
    found = known_problem(story.t1)
    assert found is not None
    assert (found.url, found.shipped_on) == (
        "https://tracker.example/PROD-42",
        date(2026, 3, 9),
    )
    assert ProblemLinks().for_ticket(story.t3) is None  # no area: another problem
    assert known_problem(story.t4) is None


def test_the_csv_round_trips(story: Story) -> None:
    ProblemLink.objects.create(
        scenario="APP_BUG",
        root_cause="product_defect",
        product_area="Checkout",
        url="https://tracker.example/PROD-42",
        title="=HYPERLINK(evil)",
        shipped_on=date(2026, 3, 9),
    )
    report = problems(START, END, effect_weeks=1, today=date(2026, 3, 20))
    text = problems_csv(report)
    assert "'=HYPERLINK(evil)" in text  # a formula is defused
    rows = parse_problems_csv("\ufeff" + text)
    assert [(r["scenario"], r["root_cause"], r["product_area"]) for r in rows] == [
        ("APP_BUG", "product_defect", "Checkout"),
        ("APP_BUG", "product_defect", ""),
        ("REFUND", "policy", ""),
    ]
    first = rows[0]
    assert first["period_start"] == START and first["period_end"] == date(2026, 3, 15)
    assert (first["resolutions"], first["tickets"], first["previous_resolutions"]) == (
        3,
        3,
        1,
    )
    assert first["departments"] == "PROD 2; CS 1"
    assert first["issue_title"] == "=HYPERLINK(evil)"
    assert first["shipped_on"] == date(2026, 3, 9)
    assert (first["before_tickets"], first["after_tickets"]) == (2, 3)
    assert first["before_dissatisfied_share"] == 1.0
    assert first["after_dissatisfied_share"] == 0.0
    assert first["weekly"] == {date(2026, 3, 2): 1, date(2026, 3, 9): 2}
    assert first["example_tickets"].split() == [
        str(t) for t in (story.t5, story.t2, story.t1)
    ]
    assert rows[2]["issue_url"] == "" and rows[2]["before_tickets"] is None
    with pytest.raises(ValueError):
        parse_problems_csv("period,start\r\n")


def test_the_weekly_report_has_a_problems_section(story: Story) -> None:
    ProblemLink.objects.create(
        scenario="APP_BUG",
        root_cause="product_defect",
        product_area="Checkout",
        url="https://tracker.example/PROD-42",
        title="PROD-42",
        shipped_on=date(2026, 3, 9),
    )
    data = report_data(period="week", start=date(2026, 3, 9))
    assert data.problems is not None
    [checkout] = [p for p in data.problems.problems if p.key == CHECKOUT]
    assert (checkout.volume, checkout.previous, checkout.change) == (2, 1, 1)
    html = render_report_html(data)
    assert 'id="problems"' in html
    assert 'data-product-area="Checkout"' in html
    assert "https://tracker.example/PROD-42" in html
    text = render_report_text(data)
    assert "PROBLEMS" in text
    assert (
        "APP_BUG: Product defect / Checkout: 2 (+1), issue "
        "https://tracker.example/PROD-42 (fix shipped 2026-03-09)" in text
    )
    # A department's report lists only what it resolved.
    fin = report_data(period="week", start=date(2026, 3, 2), department="FIN")
    assert fin.problems is not None
    assert [p.key.scenario for p in fin.problems.problems] == ["REFUND"]


# -- the resolve input -----------------------------------------------------------


def test_the_api_requires_a_root_cause_and_refuses_details_on_other_causes(
    sla_org: Org, at: Any
) -> None:
    at("2026-03-02 02:00")
    ticket = open_ticket(sla_org, scenario="APP_BUG")
    client = APIClient()
    client.force_authenticate(sla_org.agents["CS"])
    url = f"/api/v1/tickets/{ticket}/resolve/"
    before = event_count()
    missing = client.post(url, {"resolution": "Done."}, format="json")
    assert missing.status_code == 400
    assert missing.json()["code"] == "validation_failed"
    assert [e["field"] for e in missing.json()["errors"]] == ["root_cause"]
    refused = client.post(
        url,
        {
            "resolution": "Done.",
            "root_cause": "policy",
            "product_area": "Checkout",
            "root_cause_detail": "x",
        },
        format="json",
    )
    assert refused.status_code == 400
    body = refused.json()
    # A rule of the domain, documented with the command's refusals.
    assert (body["code"], body["field"]) == (
        "root_cause_detail_not_allowed",
        "product_area",
    )
    assert event_count() == before
    ok = client.post(
        url,
        {
            "resolution": "Done.",
            "root_cause": "process",
            "product_area": "Onboarding",
            "root_cause_detail": "KYC email never sent",
        },
        format="json",
    )
    assert ok.status_code in (200, 202), ok.content
    assert event_count() > before
    project()
    fact = ScorecardHandoff.objects.get(ticket_id=ticket, ended_how="resolved")
    assert (fact.root_cause, fact.product_area, fact.root_cause_detail) == (
        "process",
        "Onboarding",
        "KYC email never sent",
    )
