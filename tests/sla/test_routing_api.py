"""GET /api/v1/tickets/{id}/routing/: the ranked suggestions with reasons,
visibility like every ticket endpoint, and problem+json 404s."""

from __future__ import annotations

import uuid

import pytest

from tests.helpers import Org, event_count, open_ticket
from tests.tickets.api_helpers import Clients
from tickets import services


@pytest.mark.django_db
def test_routing_ranks_departments_with_reasons_and_agents(org: Org) -> None:
    ticket = open_ticket(org, scenario="REFUND")
    before = event_count()
    response = Clients(org).agent("CS").get(f"/api/v1/tickets/{ticket}/routing/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ticket_id"] == str(ticket)
    assert body["owner"] == "CS"
    assert body["basis"] == "cold_start"
    assert "usual owner, Finance" in body["note"]
    codes = [d["code"] for d in body["departments"]]
    assert codes[0] == "FIN"
    assert "CS" not in codes and set(codes) == {"FIN", "LOG", "RISK", "PROD"}
    top = body["departments"][0]
    assert top["usual_owner"] is True
    assert top["reasons"][0] == "Usual owner of REFUND in the scenario catalogue."
    assert {a["agent_id"] for a in top["agents"]} == {
        str(org.agents["FIN"].pk),
        str(org.leads["FIN"].pk),
    }
    assert all(a["reasons"] for a in top["agents"])
    assert {a["agent_id"] for a in body["assignees"]} == {
        str(org.agents["CS"].pk),
        str(org.leads["CS"].pk),
    }
    assert event_count() == before  # reading advice writes nothing


@pytest.mark.django_db
def test_inactive_departments_are_never_suggested(org: Org) -> None:
    org.departments["FIN"].is_active = False
    org.departments["FIN"].save()
    ticket = open_ticket(org, scenario="REFUND")
    body = Clients(org).agent("CS").get(f"/api/v1/tickets/{ticket}/routing/").json()
    assert "FIN" not in [d["code"] for d in body["departments"]]


@pytest.mark.django_db
def test_routing_of_an_invisible_or_unknown_ticket_is_a_404(org: Org) -> None:
    ticket = open_ticket(org)
    clients = Clients(org)
    hidden = clients.agent("LOG").get(f"/api/v1/tickets/{ticket}/routing/")
    assert hidden.status_code == 404
    assert hidden.json()["code"] == "ticket_not_found"
    unknown = clients.agent("CS").get(f"/api/v1/tickets/{uuid.uuid4()}/routing/")
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "ticket_not_found"


@pytest.mark.django_db
def test_a_resolved_ticket_is_not_routed(org: Org) -> None:
    ticket = open_ticket(org)
    services.ticket_resolve(
        principal=org.agent("CS"),
        ticket_id=ticket,
        resolution="Done",
        root_cause="other",
    )
    body = Clients(org).agent("CS").get(f"/api/v1/tickets/{ticket}/routing/").json()
    assert body["basis"] == "not_open"
    assert body["departments"] == []


@pytest.mark.django_db
def test_the_schema_documents_the_routing_operation(org: Org) -> None:
    schema = Clients(org).agent("CS").get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/tickets/{ticket_id}/routing/"]["get"]
    assert operation["operationId"] == "tickets_routing"
    assert set(operation["responses"]) >= {"200", "404"}
