"""Routing suggestions in the admin ticket page: the hand-off form
preselects the top department and shows the ranking with its reasons, the
assign form preselects the suggested agent; neither is forced, acting
against the advice is recorded on the handoff, and with routing off or
failing the forms work as before."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import pytest
from django.contrib.auth.models import User
from django.test import Client

from sla import routing
from sla.models import ScorecardHandoff
from tests.helpers import Org, event_count, open_ticket, stored_events
from tickets import services
from tickets.application import get_tickets_application
from tickets.models import TicketSummary
from tickets.projection_runner import catch_up, projection_group

QUEUE = "/admin/tickets/queueticket/"


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(org: Org, ticket: UUID, department: str = "CS") -> str:
    response = login(org.agents[department]).get(f"{QUEUE}{ticket}/change/")
    assert response.status_code == 200
    return response.content.decode()


def select(html: str, name: str) -> str:
    found = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert found is not None, f"no {name} select"
    return found.group(1)


def selected(options: str) -> list[str]:
    return re.findall(r'<option value="([^"]+)"[^>]*\bselected\b', options)


def hand_off_via_the_form(org: Org, ticket: UUID, to: str) -> Any:
    version = TicketSummary.objects.get(pk=ticket).version
    return login(org.agents["CS"]).post(
        f"{QUEUE}{ticket}/change/",
        {
            "action": "hand_off",
            "version": version,
            "to_department": to,
            "reason": "The customer says the parcel never came",
        },
    )


@pytest.mark.django_db
def test_the_hand_off_form_preselects_the_suggestion_and_shows_why(
    org: Org,
) -> None:
    # DELIVERY's usual owner is Logistics, which is not the first choice
    # (Finance sorts before it): the preselection is the suggestion's.
    ticket = open_ticket(org, scenario="DELIVERY")
    html = page(org, ticket)
    options = select(html, "to_department")
    assert selected(options) == ["LOG"]
    assert '<option value="LOG" selected>Logistics (suggested)</option>' in options
    # Never forced: every other active department but the owner is offered.
    assert set(re.findall(r'value="([^"]+)"', options)) == {
        "FIN",
        "LOG",
        "RISK",
        "PROD",
    }
    shown = html[html.index('id="routing-suggestions"') :]
    shown = shown[: shown.index("</div>")]
    assert "advice only: any department can be chosen" in shown
    assert "suggesting the usual owner, Logistics" in shown  # the cold-start note
    assert "Usual owner of DELIVERY in the scenario catalogue." in shown
    assert "open tickets per agent now" in shown  # the load, in plain words
    ranked = re.findall(r"<summary><strong>([^<]+)</strong>", shown)
    assert ranked[0] == "Logistics" and len(ranked) == 4


@pytest.mark.django_db
def test_choosing_another_department_works_and_the_handoff_records_the_advice(
    org: Org,
) -> None:
    ticket = open_ticket(org, scenario="REFUND")
    assert selected(select(page(org, ticket), "to_department")) == ["FIN"]
    response = hand_off_via_the_form(org, ticket, "LOG")
    assert response.status_code == 302
    assert TicketSummary.objects.get(pk=ticket).owner == "LOG"
    [handed] = [e for e in stored_events(ticket) if type(e).__name__ == "HandedOff"]
    assert (handed.to_department, handed.suggested_department) == ("LOG", "FIN")
    catch_up(get_tickets_application(), projection_group("scorecards"))
    stint = ScorecardHandoff.objects.get(pk=handed.handoff_id)
    # Acting against the advice is measurable on the stint.
    assert (stint.department, stint.suggested_department) == ("LOG", "FIN")


@pytest.mark.django_db
def test_the_assign_form_preselects_the_suggested_agent(org: Org) -> None:
    # The CS agent already carries open work; the CS lead does not.
    for _ in range(2):
        busy = open_ticket(org, scenario="REFUND")
        services.ticket_assign(
            principal=org.agent("CS"), ticket_id=busy, agent_id=org.agents["CS"].pk
        )
    ticket = open_ticket(org, scenario="REFUND")
    html = page(org, ticket)
    options = select(html, "agent_id")
    lead, agent = str(org.leads["CS"].pk), str(org.agents["CS"].pk)
    assert selected(options) == [lead]
    assert f'value="{agent}"' in options  # still a choice
    advice = html[html.index('id="assign-suggestion"') :]
    advice = advice[: advice.index("</div>")]
    name = org.leads["CS"].get_full_name()
    assert f"Suggested: {name} (advice only)." in advice
    assert "0 open assignments now." in advice
    # Assigning someone else is an ordinary assignment.
    version = TicketSummary.objects.get(pk=ticket).version
    response = login(org.agents["CS"]).post(
        f"{QUEUE}{ticket}/change/",
        {"action": "assign", "version": version, "agent_id": agent},
    )
    assert response.status_code == 302
    assert TicketSummary.objects.get(pk=ticket).assignee_id == agent


@pytest.mark.django_db
def test_with_routing_off_the_forms_work_as_before(org: Org, settings: Any) -> None:
    settings.BATON_ROUTING_PORT = ""
    ticket = open_ticket(org, scenario="DELIVERY")
    html = page(org, ticket)
    assert selected(select(html, "to_department")) == []
    assert selected(select(html, "agent_id")) == []
    assert "(suggested)" not in html
    assert 'id="routing-suggestions"' not in html
    assert 'id="assign-suggestion"' not in html
    assert hand_off_via_the_form(org, ticket, "FIN").status_code == 302
    [handed] = [e for e in stored_events(ticket) if type(e).__name__ == "HandedOff"]
    assert (handed.to_department, handed.suggested_department) == ("FIN", "")


@pytest.mark.django_db
def test_a_failing_ranking_leaves_the_page_and_the_forms_working(
    org: Org, monkeypatch: Any
) -> None:
    def broken(self: Any, ticket_id: Any, *, agents: bool = True) -> Any:
        raise RuntimeError("scorecards unavailable")

    monkeypatch.setattr(routing.ScorecardRouting, "suggest", broken)
    ticket = open_ticket(org, scenario="DELIVERY")
    html = page(org, ticket)
    assert selected(select(html, "to_department")) == []
    assert 'id="routing-suggestions"' not in html
    before = event_count()
    assert hand_off_via_the_form(org, ticket, "LOG").status_code == 302
    assert event_count() == before + 1
    assert TicketSummary.objects.get(pk=ticket).owner == "LOG"


@pytest.mark.django_db
def test_a_resolved_ticket_gets_no_routing_advice(org: Org) -> None:
    ticket = open_ticket(org, scenario="REFUND")
    services.ticket_resolve(
        principal=org.agent("CS"),
        ticket_id=ticket,
        resolution="Refunded",
        root_cause="other",
    )
    html = page(org, ticket)
    assert 'id="routing-suggestions"' not in html
    assert "(suggested)" not in html
