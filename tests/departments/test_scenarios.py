"""The scenario catalogue: reference data with a version per save, a small
hierarchy, edited in the admin by front-line leads, listed by the API."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client

from departments.models import Scenario, ScenarioVersion
from departments.selectors import (
    active_scenario_code,
    scenario_choices,
    scenario_tree,
    unknown_scenario_codes,
)
from departments.services import scenario_create, scenario_save
from tests.helpers import Org, make_user
from tests.tickets.api_helpers import token_client

ADD = "/admin/departments/scenario/add/"


def change_url(scenario: Scenario) -> str:
    return f"/admin/departments/scenario/{scenario.pk}/change/"


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def versions(code: str) -> list[tuple[int, str, bool, str, str, str | None]]:
    return [
        (
            v.version,
            v.name,
            v.is_active,
            v.owner_code,
            v.parent_code,
            v.created_by.username if v.created_by else None,
        )
        for v in ScenarioVersion.objects.filter(scenario__code=code).order_by("version")
    ]


# -- the model and its versions ------------------------------------------------


def test_every_save_keeps_a_version_with_who_saved_it(org: Org) -> None:
    lead = org.leads["CS"]
    scenario = scenario_create(
        "gift_card", "Gift card", owner=org.departments["FIN"], user=lead
    )
    assert scenario.code == "GIFT_CARD"  # codes are upper-case
    scenario.name = "Gift cards"
    scenario.parent = Scenario.objects.get(code="REFUND")
    scenario_save(scenario, user=org.leads["FIN"])
    scenario.is_active = False
    scenario_save(scenario, user=lead)
    scenario_save(scenario, user=lead)  # nothing changed: no version

    assert versions("GIFT_CARD") == [
        (1, "Gift card", True, "FIN", "", "cs_lead"),
        (2, "Gift cards", True, "FIN", "REFUND", "fin_lead"),
        (3, "Gift cards", False, "FIN", "REFUND", "cs_lead"),
    ]


@pytest.mark.django_db
def test_a_scenario_cannot_sit_below_itself() -> None:
    refund = scenario_create("REFUND", "Refund")
    double = scenario_create("REFUND.DOUBLE", "Double charge", parent=refund)
    partial = scenario_create("REFUND.DOUBLE.PARTIAL", "Partly", parent=double)
    assert partial.path == "Refund > Double charge > Partly"

    for parent in (refund, partial):  # itself; below its own sub-scenario
        refund.parent = parent
        with pytest.raises(ValidationError) as refused:
            scenario_save(refund)
        assert "parent" in refused.value.message_dict
    assert Scenario.objects.get(code="REFUND").parent is None
    assert versions("REFUND") == [(1, "Refund", True, "", "", None)]


@pytest.mark.django_db
def test_a_malformed_or_taken_code_is_refused_and_nothing_is_saved() -> None:
    scenario_create("REFUND", "Refund")
    for code in ("not valid!", "", "refund"):
        with pytest.raises(ValidationError):
            scenario_create(code, "Anything")
    assert list(Scenario.objects.values_list("code", flat=True)) == ["REFUND"]
    assert ScenarioVersion.objects.count() == 1


def test_lookups_canonicalise_codes_and_know_inactive_ones(org: Org) -> None:
    lost = Scenario.objects.get(code="LOST")
    lost.is_active = False
    scenario_save(lost)

    assert active_scenario_code(" refund ") == "REFUND"
    assert active_scenario_code("lost") is None  # inactive
    assert active_scenario_code("REFUDN") is None
    assert unknown_scenario_codes(["refund", "LOST", "REFUDN"]) == ["REFUDN"]
    tree = [(s.code, depth) for s, depth in scenario_tree()]
    assert tree.index(("REFUND", 0)) + 1 == tree.index(("DOUBLE_CHARGE", 1))
    assert ("LOST", 1) not in tree and ("LOST_PARCEL", 1) in tree
    choices = dict(scenario_choices(blank="(none)"))
    assert choices[""] == "(none)"
    assert choices["DOUBLE_CHARGE"].endswith("Double charge (DOUBLE_CHARGE)")
    assert choices["DOUBLE_CHARGE"].startswith("\u2003")  # indented below Refund


# -- the admin -----------------------------------------------------------------


def test_a_front_line_lead_adds_and_edits_scenarios_with_versions(org: Org) -> None:
    lead = org.leads["CS"]
    client = login(lead)
    response = client.post(
        ADD,
        {
            "code": "refund.partial",
            "name": "Partial refund",
            "description": "Part of the order is refunded.",
            "is_active": "on",
            "owner": org.departments["FIN"].pk,
            "parent": Scenario.objects.get(code="REFUND").pk,
            "versions-TOTAL_FORMS": "0",
            "versions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content
    scenario = Scenario.objects.get(code="REFUND.PARTIAL")
    response = client.post(
        change_url(scenario),
        {
            "name": "Partial refund",
            "description": "Retired.",
            "owner": org.departments["FIN"].pk,
            "parent": scenario.parent_id,
            "versions-TOTAL_FORMS": "1",
            "versions-INITIAL_FORMS": "1",
            "versions-0-id": scenario.versions.get().pk,
            "versions-0-scenario": scenario.pk,
        },
    )
    assert response.status_code == 302, response.content
    assert versions("REFUND.PARTIAL") == [
        (1, "Partial refund", True, "FIN", "REFUND", "cs_lead"),
        (2, "Partial refund", False, "FIN", "REFUND", "cs_lead"),
    ]
    page = client.get(change_url(scenario))
    assert page.status_code == 200
    history = page.content.decode().split("History (one version per save)")[1]
    assert history.count("cs_lead") == 2  # both versions, read-only
    assert 'name="versions-0-name"' not in history
    assert b'name="code"' not in page.content  # the code never changes
    assert client.post(f"{change_url(scenario)[:-7]}delete/").status_code == 403


def test_the_admin_refuses_a_loop_in_the_hierarchy(org: Org) -> None:
    refund = Scenario.objects.get(code="REFUND")
    client = login(org.leads["CS"])
    response = client.post(
        change_url(refund),
        {
            "name": "Refund",
            "is_active": "on",
            "parent": Scenario.objects.get(code="DOUBLE_CHARGE").pk,
            "versions-TOTAL_FORMS": "0",
            "versions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert b"cannot sit below itself" in response.content
    assert Scenario.objects.get(code="REFUND").parent is None
    assert len(versions("REFUND")) == 1


def test_agents_and_back_office_leads_cannot_edit_the_catalogue(org: Org) -> None:
    refund = Scenario.objects.get(code="REFUND")
    for user in (org.agents["CS"], org.leads["FIN"], org.agents["FIN"]):
        client = login(user)
        assert client.get(ADD).status_code == 403
        assert client.post(change_url(refund), {"name": "Hacked"}).status_code == 403
    assert Scenario.objects.get(code="REFUND").name == "Refund"
    superuser = make_user("root", is_superuser=True)
    assert login(superuser).get(ADD).status_code == 200


# -- the API -------------------------------------------------------------------


def test_integrators_list_the_catalogue(org: Org) -> None:
    lost = Scenario.objects.get(code="LOST")
    lost.is_active = False
    scenario_save(lost)
    response = token_client(org.agents["CS"]).get("/api/v1/scenarios/")
    assert response.status_code == 200
    rows = {row["code"]: row for row in response.json()}
    assert rows["DOUBLE_CHARGE"] == {
        "code": "DOUBLE_CHARGE",
        "name": "Double charge",
        "description": "",
        "is_active": True,
        "owner": "FIN",
        "parent": "REFUND",
    }
    assert rows["LOST"]["is_active"] is False
    assert rows["REFUND"]["parent"] is None
    anonymous = Client().get("/api/v1/scenarios/")
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"
