"""SLA policy overrides name scenarios of the catalogue: an unknown key
is refused (naming it) and nothing is saved; keys are stored as the
catalogue's codes; the admin lists the codes an override may use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client

from departments.models import Scenario
from departments.services import scenario_save
from sla.models import SLAPolicyVersion
from sla.services import policy_version_create
from tests.helpers import Org, open_ticket
from tickets import services
from tickets.models import SLAClock

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 Shanghai
ADD = "/admin/sla/slapolicyversion/add/"


def fin_versions() -> int:
    return SLAPolicyVersion.objects.filter(policy__department__code="FIN").count()


def test_an_override_of_an_unknown_scenario_is_refused(org: Org) -> None:
    with pytest.raises(ValidationError) as refused:
        policy_version_create(
            department=org.departments["FIN"],
            scenario_overrides={
                "REFUND": {"response": {"normal": 60}},
                "REFUDN": {"response": {"normal": 30}},
            },
        )
    assert "REFUDN" in str(refused.value.message_dict["scenario_overrides"])
    assert "REFUND," not in str(refused.value.message_dict["scenario_overrides"])
    assert fin_versions() == 0


def test_override_keys_become_catalogue_codes_and_set_the_clock(org: Org) -> None:
    lost = Scenario.objects.get(code="LOST")
    lost.is_active = False
    scenario_save(lost)  # retired, still a known code: tickets may have it
    with time_machine.travel(T0 - timedelta(days=1), tick=False):
        version = policy_version_create(
            department=org.departments["FIN"],
            response_high=timedelta(hours=4),
            scenario_overrides={
                "double_charge": {"response": {"high": 60}},
                "lost": {"response": {"high": 90}},
            },
        )
    version.refresh_from_db()
    assert version.scenario_overrides == {
        "DOUBLE_CHARGE": {"response": {"high": 60}},
        "LOST": {"response": {"high": 90}},
    }
    with time_machine.travel(T0, tick=False):
        tid = open_ticket(org, scenario="double_charge", priority="high")
        services.ticket_hand_off(
            principal=org.agent("CS"),
            ticket_id=tid,
            to_department="FIN",
            reason="Refund the second charge",
        )
    clock = SLAClock.objects.get(ticket_id=tid, department="FIN", kind="response")
    assert clock.target_seconds == 3600


def test_the_same_scenario_twice_is_refused(org: Org) -> None:
    with pytest.raises(ValidationError, match="named twice"):
        policy_version_create(
            department=org.departments["FIN"],
            scenario_overrides={
                "refund": {"response": {"normal": 60}},
                "REFUND": {"response": {"normal": 30}},
            },
        )
    assert fin_versions() == 0


def _form(org: Org, overrides: str) -> dict[str, Any]:
    return {
        "department": org.departments["FIN"].pk,
        "effective_from_0": "2026-03-02",
        "effective_from_1": "12:00:00",
        "response_normal": "02:00:00",
        "warn_percent": "80",
        "pause_on_waiting": "on",
        "scenario_overrides": overrides,
        "note": "",
    }


def test_the_policy_admin_lists_the_catalogue_and_names_unknown_codes(
    org: Org,
) -> None:
    client = Client()
    client.force_login(org.leads["CS"])
    page = client.get(ADD).content.decode()
    assert "DOUBLE_CHARGE (Refund &gt; Double charge)" in page
    refused = client.post(ADD, _form(org, '{"REFUDN": {"response": {"normal": 5}}}'))
    assert refused.status_code == 200  # the form again
    assert "Not in the scenario catalogue: REFUDN." in refused.content.decode()
    assert fin_versions() == 0
    saved = client.post(ADD, _form(org, '{"refund": {"response": {"normal": 5}}}'))
    assert saved.status_code == 302
    assert SLAPolicyVersion.objects.get().scenario_overrides == {
        "REFUND": {"response": {"normal": 5}}
    }
