"""The disputes inbox: the open disputes, oldest first, with their reasons,
department, kind, who raised them and a link to decide them. Front-line
leads (and superusers) see every department's; department staff only
their own department's; staff in no department are refused."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.test import Client

from tests.helpers import Org, make_user
from tests.sla.test_scorecards import (  # noqa: F401 -- fixtures too
    History,
    history,
    project,
    stints,
)
from tickets import services
from tickets.domain import dispute_id_for

URL = "/admin/sla/scorecard/disputes/"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def inbox(user: Any) -> list[dict[str, Any]]:
    page = client_for(user).get(URL)
    assert page.status_code == 200
    return list(page.context["rows"])


def keys(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(r["department"], r["kind"]) for r in rows]


def cs_breach_dispute(org: Org, history: History, at: Any) -> None:  # noqa: F811
    """Customer Service disputes its own breach on T3 (it took 2.5
    business hours to pass the ticket on), after Product's rating dispute
    on T4 was raised: the inbox then has two open disputes."""
    at("2026-03-11 03:00")
    cs3 = stints(history.t3)[2]  # the bounce back to CS
    services.ticket_dispute(
        principal=org.agent("CS"),
        ticket_id=history.t3,
        handoff_id=cs3,
        subject="breach",
        reason="The customer sent the parcel number only on Monday",
    )
    project()


def test_a_front_line_lead_sees_every_open_dispute_oldest_first(
    history: History,  # noqa: F811
    sla_org: Org,
    at: Any,
) -> None:
    cs_breach_dispute(sla_org, history, at)
    rows = inbox(sla_org.leads["CS"])
    # T2's disputes were decided: only the open ones, the oldest first.
    assert keys(rows) == [("PROD", "rating"), ("CS", "breach")]
    product, service = rows
    assert product["reason"] == "Rated the app, not our fix"
    assert product["raised_by"] == "Prodlead LeadsurnameProd"
    assert product["department_name"] == "Product"
    assert product["fact"].ticket_id == history.t4
    assert product["subject"] == "Refund not received"
    assert service["reason"] == "The customer sent the parcel number only on Monday"
    assert service["raised_by"] == "Csagent SurnameofCs"
    # The viewer's timezone (Customer Service's, Shanghai), named.
    assert service["raised_at"] == "2026-03-11 11:00 (Asia/Shanghai)"
    # The lead of the tickets' front line decides: each row links there.
    assert [r["can_decide"] for r in rows] == [True, True]
    html = client_for(sla_org.leads["CS"]).get(URL).content.decode()
    assert html.index("Rated the app, not our fix") < html.index(
        "The customer sent the parcel number only on Monday"
    )
    assert "Product" in html and "Rating" in html and "Breach" in html
    decide = client_for(sla_org.leads["CS"]).get(product["decide_url"])
    assert decide.status_code == 200
    block = decide.content.decode()
    anchor = product["decide_url"].split("#")[1]
    assert f'id="{anchor}"' in block and 'value="waived"' in block


def test_department_staff_see_only_their_own_departments_disputes(
    history: History,  # noqa: F811
    sla_org: Org,
    at: Any,
) -> None:
    cs_breach_dispute(sla_org, history, at)
    # Product's staff: Product's dispute, without the power to decide it.
    for user in (sla_org.agents["PROD"], sla_org.leads["PROD"]):
        rows = inbox(user)
        assert keys(rows) == [("PROD", "rating")]
        assert rows[0]["can_decide"] is False
    prod_page = client_for(sla_org.leads["PROD"]).get(URL).content.decode()
    assert "parcel number only on Monday" not in prod_page
    assert ">Decide<" not in prod_page
    # A Customer Service agent: the front line's own dispute only (agents do
    # not see the other departments' disputes), and no decision.
    rows = inbox(sla_org.agents["CS"])
    assert keys(rows) == [("CS", "breach")]
    assert rows[0]["can_decide"] is False
    # Finance's disputes were decided, Logistics raised none: nothing.
    assert inbox(sla_org.leads["FIN"]) == []
    assert inbox(sla_org.agents["LOG"]) == []
    # Staff in no department may not read scorecards at all.
    assert client_for(make_user("outsider")).get(URL).status_code == 403
    # A superuser sees everything but decides nothing (no front line).
    root = User.objects.create_superuser("root", "root@example.com", "pw")
    rows = inbox(root)
    assert keys(rows) == [("PROD", "rating"), ("CS", "breach")]
    assert [r["can_decide"] for r in rows] == [False, False]


def test_a_decided_dispute_leaves_the_inbox(
    history: History,  # noqa: F811
    sla_org: Org,
    at: Any,
) -> None:
    [row] = inbox(sla_org.leads["CS"])
    at("2026-03-12 03:00")
    services.ticket_dispute_decide(
        principal=sla_org.lead("CS"),
        ticket_id=history.t4,
        dispute_id=dispute_id_for(row["fact"].id, "rating"),
        decision="accepted",
        reason="The rating stands",
    )
    project()
    assert inbox(sla_org.leads["CS"]) == []
    page = client_for(sla_org.leads["CS"]).get(URL).content.decode()
    assert "No open disputes." in page


def test_the_scorecard_list_links_to_the_inbox(
    history: History,  # noqa: F811
    sla_org: Org,
) -> None:
    page = client_for(sla_org.leads["CS"]).get("/admin/sla/scorecard/")
    assert f'href="{URL}" id="disputes-inbox-link"' in page.content.decode()
