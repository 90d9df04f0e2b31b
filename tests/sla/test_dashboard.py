"""The lead dashboard against the hand-checked history of
``tests/sla/test_scorecards.py`` (the week of Monday 2026-03-02): its
figures are the scorecards', its ranking follows the stated rule, the
period navigates, per-agent figures add up to the department's and equal
their drill-down rows, and each role sees only what it may."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.admin.utils import quote
from django.test import Client
from django.urls import reverse

from sla import dashboard
from sla.models import Scorecard
from sla.scorecards import DERIVED
from tests.helpers import Org, make_user
from tests.sla.test_scorecards import (  # noqa: F401 -- fixtures too
    WEEK,
    History,
    card,
    history,
    project,
)

URL = "/admin/sla/leaddashboard/"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client: Client, **query: str) -> Any:
    response = client.get(f"{URL}?{urlencode(query)}")
    assert response.status_code == 200, response.status_code
    return response


def lines(response: Any) -> dict[str, Any]:
    return {row["line"].code: row for row in response.context["rows"]}


def test_the_url_name_other_pages_reverse() -> None:
    assert reverse("admin:sla_dashboard") == URL


def test_departments_side_by_side_are_the_scorecards_figures(
    history: History,  # noqa: F811
    sla_org: Org,
) -> None:
    response = page(client_for(sla_org.leads["CS"]), start=WEEK.isoformat())
    shown = lines(response)
    assert set(shown) == {"CS", "FIN", "LOG", "RISK", "PROD"}
    fin = {c["name"]: c for c in shown["FIN"]["cells"]}
    # Rates as percentages, durations as people read them, scores to 2 places.
    assert fin["received"]["text"] == "2"
    assert fin["breach_rate"]["text"] == "50.0%"
    assert shown["FIN"]["breach_adjusted"] == "0.0%"  # the waived breach
    assert fin["median_response_seconds"]["text"] == "2h"
    assert fin["average_score"]["text"] == "3.00"
    assert fin["dissatisfied_share"]["text"] == "50.0%"
    assert fin["bounced"]["text"] == "1"
    # Every figure is the stored scorecard's.
    for code, row in shown.items():
        assert row["line"].figures == card(code), code
    # Each number drills through to the handoffs behind it, which are as
    # many as the figure counts.
    lead = client_for(sla_org.leads["CS"])
    key = quote("FIN|week|2026-03-02|*")
    assert fin["bounced"]["url"] == reverse(
        "admin:sla_scorecard_figure", args=[key, "bounced"]
    )
    for name in ("received", "bounced", "breach_rate"):
        rows = lead.get(shown["FIN"]["cells"][0]["url"].replace("received", name))
        basis = DERIVED[name].over if name in DERIVED else name
        assert len(rows.context["rows"]) == card("FIN")[basis], name
    assert shown["FIN"]["scorecard_url"] == reverse(
        "admin:sla_scorecard_change", args=[key]
    )
    html = response.content.decode()
    assert "Asia/Shanghai" in html and "America/New_York" in html
    assert 'id="dashboard-timezone"' in html


def test_ranking_follows_the_stated_rule(
    history: History,  # noqa: F811
    sla_org: Org,
) -> None:
    """Adjusted breach rates: RISK, FIN and LOG 0%, CS 16.7%, PROD none
    (no clock). Among the 0% ones, dissatisfied shares: RISK 0%, FIN 50%,
    LOG none (no ratings)."""
    response = page(client_for(sla_org.leads["CS"]), start=WEEK.isoformat())
    order = [row["line"].code for row in response.context["rows"]]
    assert order == ["RISK", "FIN", "LOG", "CS", "PROD"]
    assert [row["line"].rank for row in response.context["rows"]] == [1, 2, 3, 4, 5]


def test_a_department_that_received_nothing_is_not_ranked() -> None:
    busy = dashboard.DepartmentLine(
        department=_dept("AA"), figures={"received": 1}, key=""
    )
    idle = dashboard.DepartmentLine(
        department=_dept("BB"), figures={"received": 0}, key=""
    )
    assert dashboard.rank([idle, busy]) == [busy, idle]
    assert (busy.rank, idle.rank) == (1, None)


def _dept(code: str) -> Any:
    from departments.models import Department

    return Department(code=code, name=code)


def test_the_period_navigates_and_defaults_to_the_latest_with_figures(
    history: History,  # noqa: F811
    sla_org: Org,
) -> None:
    lead = client_for(sla_org.leads["CS"])
    # The clock stands on Sunday 2026-03-08 20:00 UTC, already Monday the
    # 9th in Shanghai: the latest week with figures is that one, and there
    # is no next week yet.
    latest = page(lead)
    assert latest.context["period"].start == date(2026, 3, 9)
    assert latest.context["next_url"] == ""
    assert lines(latest)["FIN"]["line"].figures == card("FIN", date(2026, 3, 9))
    previous = latest.context["previous_url"]
    assert "start=2026-03-02" in previous
    week = lead.get(URL + previous)
    assert week.context["period"].start == WEEK
    assert "start=2026-03-09" in week.context["next_url"]
    # Any day of a week shows the week it falls in.
    assert page(lead, start="2026-03-05").context["period"].start == WEEK
    # Months: March 2026 holds both weeks.
    month = page(lead, period="month", start="2026-03-17")
    assert month.context["period"].start == date(2026, 3, 1)
    march = Scorecard.objects.get(
        department="CS", period="month", start=date(2026, 3, 1), scenario="*"
    )
    assert lines(month)["CS"]["line"].figures == march.figures
    assert lead.get(f"{URL}?period=day").status_code == 404


def test_trends_and_charts_cover_the_last_eight_weeks(
    history: History,  # noqa: F811
    sla_org: Org,
) -> None:
    response = page(client_for(sla_org.leads["CS"]), start="2026-03-09")
    board = response.context["board"]
    assert board.trend_starts[-1] == date(2026, 3, 9)
    assert len(board.trend_starts) == 8
    fin = next(line for line in board.lines if line.code == "FIN")
    assert fin.trend["received"] == [0, 0, 0, 0, 0, 0, 2, 1]
    assert fin.trend["breach_rate"][-2:] == [0.5, None]
    html = response.content.decode()
    assert html.count('class="baton-chart"') == len(dashboard.CHARTS)
    assert '<title id="dashboard-breach-rate-title">' in html
    assert "Finance, 03-02: 50.0%" in html  # a point's tooltip
    assert html.count('class="sparkline"') == 2 * len(board.lines)
    # The charts' text alternative.
    assert 'class="chart-table"' in html


def test_one_scenario(
    history: History,  # noqa: F811
    sla_org: Org,
) -> None:
    response = page(
        client_for(sla_org.leads["CS"]), start=WEEK.isoformat(), scenario="REFUND"
    )
    shown = lines(response)
    assert shown["FIN"]["line"].figures == card("FIN", scenario="REFUND")
    assert shown["RISK"]["line"].figures["received"] == 0
    assert shown["RISK"]["line"].rank is None


def test_per_agent_figures_add_up_and_equal_their_drilldowns(
    history: History,  # noqa: F811
    sla_org: Org,
) -> None:
    lead = client_for(sla_org.leads["FIN"])
    response = page(lead, start=WEEK.isoformat(), department="FIN")
    agents = {row["line"].name: row for row in response.context["agent_rows"]}
    # Finance's agent replied to T1; T2 went back without anybody assigned.
    assert set(agents) == {"Finagent SurnameofFin", "Not assigned"}
    lines_ = [row["line"] for row in response.context["agent_rows"]]
    for name in ("received", "finished", "breached", "ratings", "dissatisfied"):
        assert dashboard.totals(lines_, name) == card("FIN")[name], name
    mine = {c["name"]: c for c in agents["Finagent SurnameofFin"]["cells"]}
    assert mine["received"]["text"] == "1"
    assert mine["median_response_seconds"]["text"] == "2h"
    assert mine["breach_rate"]["text"] == "0.0%"
    assert mine["average_score"]["text"] == "5.00"
    unassigned = {c["name"]: c for c in agents["Not assigned"]["cells"]}
    assert unassigned["breach_rate"]["text"] == "100.0%"
    assert unassigned["dissatisfied"]["text"] == "1"
    for row in response.context["agent_rows"]:
        for cell in row["cells"]:
            drill = lead.get(cell["url"])
            assert drill.status_code == 200, cell["url"]
            stints = drill.context["rows"]
            figure = cell["name"]
            basis = DERIVED[figure].over if figure in DERIVED else figure
            assert len(stints) == row["line"].figures[basis], (row, figure)
            assert drill.context["value_text"] == cell["text"]
    # The rows are the agent's own stints.
    drill = lead.get(mine["received"]["url"])
    assert [r["fact"].ticket_id for r in drill.context["rows"]] == [history.t1]
    assert drill.context["rows"][0]["subject"]


def test_a_department_lead_sees_only_their_department(
    history: History,  # noqa: F811
    sla_org: Org,
) -> None:
    lead = client_for(sla_org.leads["FIN"])
    response = page(lead, start=WEEK.isoformat())
    assert set(lines(response)) == {"FIN"}
    # Their own agents by default.
    assert response.context["department"].code == "FIN"
    for code in ("LOG", "CS"):
        assert lead.get(f"{URL}?department={code}").status_code == 403
        drill = reverse("admin:sla_dashboard_agent_figure")
        query = urlencode({"department": code, "start": WEEK.isoformat()})
        assert lead.get(f"{drill}?{query}&agent=-&figure=received").status_code == 403
    html = response.content.decode()
    assert "Logistics" not in html


def test_the_service_team_sees_any_departments_agents(
    history: History,  # noqa: F811
    sla_org: Org,
) -> None:
    response = page(
        client_for(sla_org.leads["CS"]), start=WEEK.isoformat(), department="LOG"
    )
    agents = [row["line"] for row in response.context["agent_rows"]]
    assert dashboard.totals(agents, "received") == card("LOG")["received"]


@pytest.mark.parametrize("who", ["agent", "outsider"])
def test_agents_and_outsiders_are_refused(
    history: History,  # noqa: F811
    sla_org: Org,
    who: str,
) -> None:
    user = sla_org.agents["FIN"] if who == "agent" else make_user("outsider")
    client = client_for(user)
    assert client.get(URL).status_code == 403
    drill = reverse("admin:sla_dashboard_agent_figure")
    assert client.get(f"{drill}?department=FIN&figure=received").status_code == 403
    # Nor is it offered on the admin index.
    index = client.get(reverse("admin:index"))
    assert URL not in index.content.decode()


def test_a_row_page_is_the_scorecards_page(
    history: History,  # noqa: F811
    sla_org: Org,
) -> None:
    key = quote("FIN|week|2026-03-02|*")
    response = client_for(sla_org.leads["FIN"]).get(f"{URL}{key}/change/")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:sla_scorecard_change", args=[key])


def test_an_unknown_agent_figure_is_not_found(
    history: History,  # noqa: F811
    sla_org: Org,
) -> None:
    drill = reverse("admin:sla_dashboard_agent_figure")
    query = urlencode({"department": "FIN", "start": WEEK.isoformat(), "figure": "x"})
    assert client_for(sla_org.leads["FIN"]).get(f"{drill}?{query}").status_code == 404


@pytest.mark.parametrize(
    "start", ["0001-01-01", "0001-01-08", "9999-12-01", "9999-12-31"]
)
def test_a_date_at_the_ends_of_the_calendar_reads_as_none_given(
    history: History,  # noqa: F811
    sla_org: Org,
    start: str,
) -> None:
    """Stepping a period from year 1 or 9999 would leave the calendar: such
    an address shows the default period, never a 500."""
    client = client_for(sla_org.leads["CS"])
    for period in ("week", "month"):
        assert page(client, start=start, period=period).context["rows"]
    drill = reverse("admin:sla_dashboard_agent_figure")
    query = urlencode({"department": "FIN", "start": start, "figure": "handled"})
    assert client.get(f"{drill}?{query}").status_code in (200, 404)


def test_the_follow_up_counts_link_to_the_inbox(
    history: History,  # noqa: F811
    sla_org: Org,
) -> None:
    response = page(client_for(sla_org.leads["CS"]), start=WEEK.isoformat())
    assert response.context["followups"]["url"] == reverse("admin:tickets_followups")
    assert reverse("admin:tickets_followups") in response.content.decode()


def test_leads_find_it_on_the_admin_index(
    history: History,  # noqa: F811
    sla_org: Org,
) -> None:
    for code in ("CS", "FIN"):
        index = client_for(sla_org.leads[code]).get(reverse("admin:index") + "?all=1")
        assert URL in index.content.decode(), code


def test_the_page_reads_in_chinese_too(
    history: History,  # noqa: F811
    sla_org: Org,
) -> None:
    response = client_for(sla_org.leads["CS"]).get(
        f"{URL}?start={WEEK.isoformat()}", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 200
    assert 'lang="zh-hans"' in response.content.decode()
    fin = {c["name"]: c for c in lines(response)["FIN"]["cells"]}
    assert fin["breach_rate"]["text"].startswith("50.0")


def test_the_queries_do_not_grow_with_departments_or_weeks(
    history: History,  # noqa: F811
    sla_org: Org,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    lead = client_for(sla_org.leads["CS"])
    lead.get(URL)  # warm the session and caches
    with CaptureQueriesContext(connection) as month:
        page(lead, period="month", start="2026-03-01", department="FIN")
    with CaptureQueriesContext(connection) as week:
        page(lead, start=WEEK.isoformat(), department="LOG")
    assert len(week) == len(month)
    scorecard_queries = [
        q["sql"] for q in week.captured_queries if '"sla_scorecard"' in q["sql"]
    ]
    assert len(scorecard_queries) == 1  # every department, every week, at once
