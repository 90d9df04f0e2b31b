"""The Problems page in the admin: who may open it, the table, the CSV,
a problem's own page, linking a problem to an issue from its row, and the
link on the tickets it covers; the resolve form has no preselected root
cause. The story is that of ``test_problems``."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from sla.models import ProblemLink
from sla.reports import parse_problems_csv
from tests.helpers import Org, event_count, open_ticket
from tests.sla.test_problems import CHECKOUT, Story, story  # noqa: F401

PERIOD = {"start": "2026-03-02", "end": "2026-03-15"}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_only_the_service_team_leads_and_superusers_open_it(
    story: Story,  # noqa: F811
    sla_org: Org,
) -> None:
    url = reverse("admin:sla_problemlink_problems")
    assert client_for(sla_org.leads["CS"]).get(url).status_code == 200
    for user in (sla_org.agents["CS"], sla_org.agents["PROD"], sla_org.leads["FIN"]):
        assert client_for(user).get(url).status_code == 403
        assert (
            client_for(user)
            .get(reverse("admin:sla_problemlink_problems_csv"))
            .status_code
            == 403
        )
        assert (
            client_for(user).get(reverse("admin:sla_problemlink_add")).status_code
            == 403
        )


def test_the_table_the_csv_and_a_problem(story: Story, sla_org: Org) -> None:  # noqa: F811
    lead = client_for(sla_org.leads["CS"])
    links = lead.get(reverse("admin:sla_problemlink_changelist")).content.decode()
    assert reverse("admin:sla_problemlink_problems") in links
    page = lead.get(reverse("admin:sla_problemlink_problems"), PERIOD)
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('class="problem"') == 3
    assert 'data-product-area="Checkout"' in html
    assert 'class="sparkline"' in html
    assert reverse("admin:tickets_queueticket_change", args=[story.t5]) in html
    assert "Still broken for days" in html
    assert "Resolutions from Mon 2 Mar 2026 to Sun 15 Mar 2026" in html

    only_prod = lead.get(
        reverse("admin:sla_problemlink_problems"), {**PERIOD, "department": "PROD"}
    )
    assert only_prod.content.decode().count('class="problem"') == 1

    bad = lead.get(
        reverse("admin:sla_problemlink_problems"),
        {"start": "2026-03-15", "end": "2026-03-02"},
    )
    assert bad.status_code == 200
    assert "The period ends before it starts." in bad.content.decode()

    csv = lead.get(reverse("admin:sla_problemlink_problems_csv"), PERIOD)
    assert csv["Content-Type"] == "text/csv; charset=utf-8"
    assert "problems-2026-03-02-2026-03-15.csv" in csv["Content-Disposition"]
    rows = parse_problems_csv(csv.content.decode("utf-8"))
    assert [(r["scenario"], r["product_area"], r["resolutions"]) for r in rows] == [
        ("APP_BUG", "Checkout", 3),
        ("APP_BUG", "", 1),
        ("REFUND", "", 1),
    ]

    one = lead.get(
        reverse("admin:sla_problemlink_problem"),
        {
            **PERIOD,
            "scenario": "APP_BUG",
            "root_cause": "product_defect",
            "product_area": "Checkout",
        },
    )
    text = one.content.decode()
    assert one.status_code == 200
    for ticket in (story.t1, story.t2, story.t5):
        assert str(ticket) in text
    assert str(story.t6) not in text
    assert "Button disabled when the cart has a voucher" in text


def test_linking_a_problem_to_an_issue_from_its_row(
    story: Story,  # noqa: F811
    sla_org: Org,
) -> None:
    lead = client_for(sla_org.leads["CS"])
    page = lead.get(reverse("admin:sla_problemlink_problems"), PERIOD).content.decode()
    add = reverse("admin:sla_problemlink_add")
    assert (
        f"{add}?scenario=APP_BUG&amp;root_cause=product_defect&amp;product_area=Checkout"
        in page
    )
    form = lead.get(
        add,
        {
            "scenario": "APP_BUG",
            "root_cause": "product_defect",
            "product_area": "Checkout",
        },
    )
    assert 'value="APP_BUG"' in form.content.decode()
    saved = lead.post(
        add,
        {
            "scenario": "app_bug",
            "root_cause": "product_defect",
            "product_area": " Checkout ",
            "title": "PROD-42 voucher disables pay button",
            "url": "https://tracker.example/PROD-42",
            "shipped_on": "2026-03-09",
        },
    )
    assert saved.status_code == 302, saved.content.decode()
    link = ProblemLink.objects.get()
    assert (link.scenario, link.product_area, link.shipped_on) == (
        "APP_BUG",
        "Checkout",
        date(2026, 3, 9),
    )
    assert link.created_by == sla_org.leads["CS"]
    page = lead.get(
        reverse("admin:sla_problemlink_problems"), {**PERIOD, "effect_weeks": "1"}
    ).content.decode()
    assert "PROD-42 voucher disables pay button" in page
    assert 'data-before-tickets="2" data-after-tickets="3"' in page

    # The tickets the problem covers show the issue; others do not.
    ticket_page = lead.get(
        reverse("admin:tickets_queueticket_change", args=[story.t1])
    ).content.decode()
    assert 'id="known-problem"' in ticket_page
    assert "https://tracker.example/PROD-42" in ticket_page
    assert "9 Mar 2026" in ticket_page
    other = lead.get(
        reverse("admin:tickets_queueticket_change", args=[story.t3])
    ).content.decode()
    assert 'id="known-problem"' not in other


def test_the_resolve_form_preselects_no_root_cause(sla_org: Org, at: Any) -> None:
    at("2026-03-02 02:00")
    ticket = open_ticket(sla_org, scenario="APP_BUG")
    agent = client_for(sla_org.agents["CS"])
    url = reverse("admin:tickets_queueticket_change", args=[ticket])
    html = agent.get(url).content.decode()
    assert '<option value="" selected disabled>' in html
    assert 'name="product_area"' in html and 'name="root_cause_detail"' in html
    version = html.split('name="version" value="', 1)[1].split('"', 1)[0]
    before = event_count()
    refused = agent.post(
        url, {"action": "resolve", "version": version, "resolution": "Done."}
    )
    assert refused.status_code == 400
    assert event_count() == before
    refused = agent.post(
        url,
        {
            "action": "resolve",
            "version": version,
            "resolution": "Done.",
            "root_cause": "customer_error",
            "product_area": "Checkout",
        },
    )
    assert refused.status_code == 400
    assert event_count() == before
    done = agent.post(
        url,
        {
            "action": "resolve",
            "version": version,
            "resolution": "Done.",
            "root_cause": "product_defect",
            "product_area": "Checkout",
            "root_cause_detail": "Voucher bug",
        },
    )
    assert done.status_code == 302
    assert event_count() > before


@pytest.fixture(autouse=True)
def _frozen(at: Any) -> None:
    at("2026-03-20 12:00")


@pytest.mark.django_db
def test_the_demo_links_a_problem_whose_fix_shows_its_effect() -> None:
    from django.core.management import call_command

    from sla.problems import default_period, problems

    call_command("load_demo", force_demo_accounts=True)
    link = ProblemLink.objects.get(product_area="Checkout")
    assert link.shipped_on is not None
    start, end = default_period(weeks=12)
    found = problems(start, end)
    [checkout] = [p for p in found.problems if p.key == CHECKOUT]
    assert checkout.link == link and checkout.volume > 0
    assert checkout.effect is not None
    assert checkout.effect.before.tickets > 0 and checkout.effect.after.tickets > 0
    # Product defects of the generated history name product areas.
    assert {p.key.product_area for p in found.problems} >= {"Checkout", "Login"}
    admin_user = client_for(User.objects.get(username="admin"))
    page = admin_user.get(reverse("admin:sla_problemlink_problems"), {"weeks": "12"})
    assert "APP-412 Pay button disabled with a voucher" in page.content.decode()
