"""The scorecard admin pages: scoped to the reader, drilling down to the
handoffs, disputes waived or accepted from the page, and disputes kept off
the customer's timeline."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from sla.scorecards import DERIVED
from tests.helpers import Org, event_count
from tests.sla.test_scorecards import (  # noqa: F401 -- fixtures too
    History,
    card,
    exactly,
    history,
    project,
)
from tickets.application import get_tickets_application


def admin_client(user: Any) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_admin_scorecards_are_scoped_and_drill_down(
    history: History,  # noqa: F811
    sla_org: Org,
) -> None:
    from django.contrib.admin.utils import quote

    fin = admin_client(sla_org.agents["FIN"])
    listing = fin.get("/admin/sla/scorecard/?period__exact=week")
    assert listing.status_code == 200
    shown = {row.department for row in listing.context["cl"].result_list}
    assert shown == {"FIN"}
    key = quote("FIN|week|2026-03-02|*")
    page = fin.get(f"/admin/sla/scorecard/{key}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="figure-breached"' in html and "Confirmed: misrouted mail" in html
    # Durations read as everywhere else (tickets.durations), not as seconds.
    assert 'id="figure-median_response_seconds">2h</a>' in html
    assert "Median business time to first response</td>" in html
    median = fin.get(f"/admin/sla/scorecard/{key}/figures/median_response_seconds/")
    assert median.context["value"] == 7200.0
    assert '<strong id="figure-value">2h</strong>' in median.content.decode()
    assert [r["response"] for r in median.context["rows"]] == ["2h"]
    assert (
        fin.get(
            f"/admin/sla/scorecard/{quote('LOG|week|2026-03-02|*')}/change/"
        ).status_code
        == 404
    )
    drill = fin.get(f"/admin/sla/scorecard/{key}/figures/bounced/")
    assert drill.status_code == 200
    assert [r["fact"].ticket_id for r in drill.context["rows"]] == [history.t2]
    assert drill.context["value"] == 1
    # Every figure page lists exactly as many handoffs as the API does.
    for name in ("received", "breached", "breach_rate", "ratings", "satisfied"):
        rows = fin.get(f"/admin/sla/scorecard/{key}/figures/{name}/").context["rows"]
        basis = DERIVED[name].over if name in DERIVED else name
        assert len(rows) == card("FIN")[basis], name
    assert fin.get(f"/admin/sla/scorecard/{key}/figures/nope/").status_code == 404
    # Staff outside every department see no scorecards at all.
    from tests.helpers import make_user

    outsider = admin_client(make_user("outsider"))
    assert outsider.get("/admin/sla/scorecard/").status_code == 403


def test_admin_dispute_then_waive_changes_the_adjusted_figures(
    history: History,  # noqa: F811
    sla_org: Org,
) -> None:
    from django.contrib.admin.utils import quote

    key = quote("CS|week|2026-03-02|*")
    url = f"/admin/sla/scorecard/{key}/figures/breached/"
    agent = admin_client(sla_org.agents["CS"])
    rows = agent.get(url).context["rows"]
    assert len(rows) == 1
    fact = rows[0]["fact"]
    assert not agent.get(url).context["can_decide"]
    before = event_count()
    posted = agent.post(
        url,
        {
            "action": "dispute",
            "ticket_id": fact.ticket_id,
            "handoff_id": fact.id,
            "subject": "breach",
            "reason": "Weekend handoff from Logistics",
        },
    )
    assert posted.status_code == 302 and event_count() == before + 1
    # The agent cannot decide it: nothing stored.
    refused = agent.post(
        url,
        {
            "action": "decide",
            "ticket_id": fact.ticket_id,
            "dispute_id": rows[0]["breach_dispute_id"],
            "decision": "waived",
            "reason": "ok",
        },
    )
    assert refused.status_code == 403 and event_count() == before + 1
    lead = admin_client(sla_org.leads["CS"])
    assert lead.get(url).context["can_decide"]
    decided = lead.post(
        url,
        {
            "action": "decide",
            "ticket_id": fact.ticket_id,
            "dispute_id": rows[0]["breach_dispute_id"],
            "decision": "waived",
            "reason": "Logistics sent it on a Sunday",
        },
    )
    assert decided.status_code == 302 and event_count() == before + 2
    malformed = lead.post(url, {"action": "decide", "ticket_id": "nope"})
    assert malformed.status_code == 400 and event_count() == before + 2
    project()
    figures = card("CS")
    assert (figures["breached"], figures["breached_adjusted"]) == (1, 0)
    assert figures["breach_rate_adjusted"] == 0.0
    page = lead.get(f"/admin/sla/scorecard/{key}/change/").content.decode()
    assert "Logistics sent it on a Sunday" in page


def test_disputes_are_on_the_internal_timeline_never_the_customers(
    history: History,  # noqa: F811
    sla_org: Org,
) -> None:
    from tickets.models import TicketSummary, TimelineEntry

    entries = TimelineEntry.objects.filter(
        ticket_id=history.t2,
        event_type__in=["Ticket.DisputeOpened", "Ticket.DisputeDecided"],
    )
    assert {(e.audience, e.text) for e in entries} == {
        ("internal", "FIN's breach on this ticket was disputed."),
        ("internal", "FIN's rating on this ticket was disputed."),
        ("internal", "The dispute over FIN's breach was waived."),
        ("internal", "The dispute over FIN's rating was accepted."),
    }
    # The read model's version follows the dispute events (If-Match works).
    version = get_tickets_application().get_ticket(history.t2).version
    assert TicketSummary.objects.get(pk=history.t2).version == version
    client = APIClient()
    client.force_authenticate(sla_org.agents["CS"])
    timeline = client.get(f"/api/v1/tickets/{history.t2}/timeline/").content.decode()
    assert "dispute" not in timeline.lower() and "mailbox" not in timeline
