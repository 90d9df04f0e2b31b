"""A ticket's scenario comes from the catalogue: opening a ticket or
changing its scenario with an unknown or inactive code is refused with
``unknown_scenario`` (API and admin) and stores nothing; "" is no
scenario (left for triage); codes are accepted in any case and stored as
the catalogue has them."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from departments.models import Scenario
from departments.services import scenario_save
from tests.helpers import Org, event_count, open_ticket
from tests.tickets.api_helpers import Clients
from tickets import services
from tickets.domain import InvalidInput
from tickets.models import TicketSummary

QUEUE = "/admin/tickets/queueticket/"
OPEN = {
    "subject": "Charged twice",
    "customer_ref": "CUST-7",
    "customer_timezone": "Europe/Paris",
    "channel": "app",
}


@pytest.fixture
def clients(org: Org) -> Clients:
    return Clients(org)


@pytest.fixture
def retired(org: Org) -> Scenario:
    """LOST, deactivated after tickets had it."""
    lost = Scenario.objects.get(code="LOST")
    lost.is_active = False
    return scenario_save(lost, user=org.leads["CS"])


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# -- the API -------------------------------------------------------------------


@pytest.mark.usefixtures("retired")
@pytest.mark.parametrize("scenario", ["REFUDN", "refudn", "lost", "LOST"])
def test_the_api_refuses_to_open_with_an_unknown_or_inactive_scenario(
    clients: Clients, scenario: str
) -> None:
    before = event_count()
    response = clients.agent("CS").post(
        "/api/v1/tickets/", {**OPEN, "scenario": scenario}, format="json"
    )
    body = problem(response, 400, "unknown_scenario")
    assert scenario in body["detail"]
    assert event_count() == before
    assert not TicketSummary.objects.exists()


@pytest.mark.parametrize(
    ("given", "stored"), [("", ""), ("  ", ""), ("double_charge", "DOUBLE_CHARGE")]
)
def test_the_api_opens_without_a_scenario_or_with_any_case(
    clients: Clients, given: str, stored: str
) -> None:
    response = clients.agent("CS").post(
        "/api/v1/tickets/", {**OPEN, "scenario": given}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["scenario"] == stored
    assert TicketSummary.objects.get().scenario == stored


def test_the_api_refuses_to_change_to_an_unknown_or_inactive_scenario(
    clients: Clients, org: Org, retired: Scenario
) -> None:
    tid = str(open_ticket(org, scenario="REFUND"))
    cs = clients.agent("CS")
    before = event_count()
    for scenario in ("REFUDN", "lost"):
        response = cs.post(
            f"/api/v1/tickets/{tid}/scenario/", {"scenario": scenario}, format="json"
        )
        problem(response, 400, "unknown_scenario")
    assert event_count() == before
    assert TicketSummary.objects.get(pk=tid).scenario == "REFUND"

    changed = cs.post(
        f"/api/v1/tickets/{tid}/scenario/", {"scenario": "chargeback"}, format="json"
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["scenario"] == "CHARGEBACK"
    cleared = cs.post(
        f"/api/v1/tickets/{tid}/scenario/", {"scenario": ""}, format="json"
    )
    assert cleared.json()["scenario"] == ""  # back to triage


def test_a_ticket_keeps_a_scenario_that_was_retired(org: Org, clients: Clients) -> None:
    tid = open_ticket(org, scenario="LOST")
    lost = Scenario.objects.get(code="LOST")
    lost.is_active = False
    scenario_save(lost)
    assert TicketSummary.objects.get(pk=tid).scenario == "LOST"
    # It can still change to an active one, not back to the retired one.
    services.ticket_change_scenario(
        principal=org.agent("CS"), ticket_id=tid, scenario="PARCEL"
    )
    with pytest.raises(InvalidInput) as refused:
        services.ticket_change_scenario(
            principal=org.agent("CS"), ticket_id=tid, scenario="LOST"
        )
    assert (refused.value.code, refused.value.field) == ("unknown_scenario", "scenario")


def test_the_schema_names_the_refusal(clients: Clients) -> None:
    schema = clients.agent("CS").get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/v1/tickets/", "/api/v1/tickets/{ticket_id}/scenario/"):
        bad_request = paths[path]["post"]["responses"]["400"]
        assert "unknown_scenario" in bad_request["x-problem-codes"], path


# -- the admin -----------------------------------------------------------------


def test_the_admin_open_form_offers_only_active_scenarios(
    org: Org, retired: Scenario
) -> None:
    client = login(org.agents["CS"])
    page = client.get(f"{QUEUE}open/").content.decode()
    assert '<option value="DOUBLE_CHARGE">' in page
    assert '<option value="LOST">' not in page
    before = event_count()
    for scenario in ("REFUDN", "LOST"):
        refused = client.post(f"{QUEUE}open/", {**OPEN, "scenario": scenario})
        assert refused.status_code == 400
    assert event_count() == before
    opened = client.post(
        f"{QUEUE}open/", {**OPEN, "scenario": "DOUBLE_CHARGE", "priority": "normal"}
    )
    assert opened.status_code == 302
    assert TicketSummary.objects.get().scenario == "DOUBLE_CHARGE"


def test_the_admin_change_scenario_form_refuses_unknown_codes(
    org: Org, retired: Scenario
) -> None:
    tid = open_ticket(org, scenario="REFUND")
    client = login(org.agents["CS"])
    url = f"{QUEUE}{tid}/change/"
    page = client.get(url).content.decode()
    form = page.split('id="form-scenario"')[1].split("</form>")[0]
    assert '<option value="REFUND" selected>' in form
    assert '<option value="LOST"' not in form
    before = event_count()
    for scenario in ("REFUDN", "lost"):
        refused = client.post(
            url, {"action": "scenario", "version": 1, "scenario": scenario}
        )
        assert refused.status_code == 400
        assert b"no active scenario" in refused.content
    assert event_count() == before
    done = client.post(url, {"action": "scenario", "version": 1, "scenario": "FRAUD"})
    assert done.status_code == 302
    assert TicketSummary.objects.get(pk=tid).scenario == "FRAUD"


def test_the_change_form_shows_a_retired_scenario_as_inactive(org: Org) -> None:
    tid = open_ticket(org, scenario="LOST")
    lost = Scenario.objects.get(code="LOST")
    lost.is_active = False
    scenario_save(lost)
    page = login(org.agents["CS"]).get(f"{QUEUE}{tid}/change/").content.decode()
    form = page.split('id="form-scenario"')[1].split("</form>")[0]
    assert '<option value="LOST" selected>LOST (inactive)</option>' in form
