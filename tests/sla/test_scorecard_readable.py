"""The scorecard pages read like a product: rates as percentages,
durations as "1h 34m", times with their zone named; the list shows one
period type (weeks) unless another is chosen; drill-down rows name the
ticket and the agent; the dispute's reason (who raised it, when) stands
beside the accept/waive form."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.admin.utils import quote
from django.test import Client

from sla.models import Scorecard
from tests.helpers import Org
from tests.sla.test_scorecards import (  # noqa: F401 -- fixtures too
    History,
    card,
    history,
    project,
)
from tickets.models import Handoff

FIN_WEEK = quote("FIN|week|2026-03-02|*")
PROD_WEEK = quote("PROD|week|2026-03-02|*")


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def figure_cell(html: str, name: str) -> str:
    found = re.search(rf'id="figure-{name}">([^<]*)</a>', html)
    assert found, name
    return found.group(1)


def test_the_scorecard_page_shows_percentages_and_durations_and_names_the_zone(
    history: History,  # noqa: F811
    sla_org: Org,
) -> None:
    figures = card("FIN")
    assert figures["breach_rate"] == 0.5 and figures["average_score"] == 3.0
    page = client_for(sla_org.leads["FIN"]).get(
        f"/admin/sla/scorecard/{FIN_WEEK}/change/"
    )
    html = page.content.decode()
    assert figure_cell(html, "breach_rate") == "50.0%"
    assert figure_cell(html, "average_score") == "3.00"
    assert figure_cell(html, "median_response_seconds") == "2h"
    assert figure_cell(html, "received") == "2"
    # No raw fraction, no seconds, no "(s)" label anywhere among the figures.
    table = html[html.index('id="figures"') : html.index('id="adjustments"')]
    assert "0.5<" not in table and "7200" not in table and "(s)" not in table
    # The period's days are the department's: its zone is named.
    assert "Asia/Shanghai" in html


def test_a_drill_down_value_reads_as_a_percentage(
    history: History,  # noqa: F811
    sla_org: Org,
) -> None:
    page = client_for(sla_org.leads["FIN"]).get(
        f"/admin/sla/scorecard/{FIN_WEEK}/figures/breach_rate/"
    )
    assert page.context["value"] == 0.5
    assert '<strong id="figure-value">50.0%</strong>' in page.content.decode()


def test_the_list_shows_weeks_by_default_and_the_filter_changes_it(
    history: History,  # noqa: F811
    sla_org: Org,
) -> None:
    lead = client_for(sla_org.leads["CS"])  # a front-line lead: every department
    periods = set(Scorecard.objects.values_list("period", flat=True))
    assert periods == {"day", "week", "month"}

    def listed(query: str = "") -> set[str]:
        page = lead.get(f"/admin/sla/scorecard/{query}")
        assert page.status_code == 200
        return {row.period for row in page.context["cl"].result_list}

    assert listed() == {"week"}
    assert listed("?period__exact=day") == {"day"}
    assert listed("?period__exact=month") == {"month"}
    assert listed("?period__exact=all") == {"day", "week", "month"}
    # The filter is on the page, with weeks chosen and the others offered.
    page = lead.get("/admin/sla/scorecard/")
    [spec] = [s for s in page.context["cl"].filter_specs if s.title == "period"]
    choices = list(spec.choices(page.context["cl"]))
    assert [c["selected"] for c in choices] == [True, False, False, False]
    assert [str(c["display"]) for c in choices] == [
        "Weeks",
        "Months",
        "Days",
        "All periods",
    ]
    # Rates read as percentages in the list too.
    html = page.content.decode()
    assert '<td class="field-breach_rate">50.0%</td>' in html  # Finance: 1 of 2


def test_drill_down_rows_name_the_ticket_and_the_agent(
    history: History,  # noqa: F811
    sla_org: Org,
) -> None:
    page = client_for(sla_org.leads["FIN"]).get(
        f"/admin/sla/scorecard/{FIN_WEEK}/figures/received/"
    )
    rows = page.context["rows"]
    assert [r["fact"].ticket_id for r in rows] == [history.t1, history.t2]
    agents = {
        h.id: h.agent_name
        for h in Handoff.objects.filter(ticket_id__in=[history.t1, history.t2])
    }
    assert [r["subject"] for r in rows] == ["Refund not received"] * 2
    assert [r["agent"] for r in rows] == [agents[r["fact"].id] for r in rows]
    # Finance's agent replied on T1: the stint has an agent, and it is shown.
    assert rows[0]["agent"] == "Finagent SurnameofFin"
    html = page.content.decode()
    assert html.count('<span class="subject">Refund not received</span>') == 2
    assert '<td class="agent">Finagent SurnameofFin</td>' in html
    # Times are the viewer's, the zone named once on the page.
    assert page.context["zone"] == "Asia/Shanghai"
    assert "times in Asia/Shanghai" in html
    assert "2026-03-02 09:30" in html  # T1 reached Finance at 01:30 UTC


def test_the_reason_stands_beside_accept_and_waive(
    history: History,  # noqa: F811
    sla_org: Org,
) -> None:
    lead = client_for(sla_org.leads["CS"])
    page = lead.get(f"/admin/sla/scorecard/{PROD_WEEK}/figures/ratings/")
    [row] = [r for r in page.context["rows"] if r["fact"].rating_dispute == "open"]
    assert row["rating"]["reason"] == "Rated the app, not our fix"
    assert row["rating"]["by"] == "Prodlead LeadsurnameProd"
    html = page.content.decode()
    block = html[html.index(f'id="dispute-rating-{row["fact"].id}"') :]
    block = block[: block.index("</div>")]
    assert "Rated the app, not our fix" in block
    assert "Prodlead LeadsurnameProd" in block
    assert 'value="accepted"' in block and 'value="waived"' in block
    # A decided dispute shows both reasons, and no form.
    fin = lead.get(f"/admin/sla/scorecard/{FIN_WEEK}/figures/breached/")
    [decided] = fin.context["rows"]
    assert decided["breach"]["reason"] == "Receipt went to the wrong mailbox"
    assert decided["breach"]["decision_reason"] == "Confirmed: misrouted mail"
    text = fin.content.decode()
    block = text[text.index(f'id="dispute-breach-{decided["fact"].id}"') :]
    block = block[: block.index("</div>")]
    assert "Confirmed: misrouted mail" in block and 'value="waived"' not in block
