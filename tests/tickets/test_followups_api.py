"""GET /api/v1/follow-ups/: the inbox's rows and scope, for integrators;
the steps are ticket commands (one per step)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
import time_machine
from rest_framework.test import APIClient

from tests.helpers import Org
from tests.tickets.api_helpers import token_client
from tests.tickets.test_followups import handed_to, rate
from tickets.models import FollowUp

T0 = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
URL = "/api/v1/follow-ups/"


def rated(org: Org, count: int = 2) -> list[UUID]:
    made = []
    for n in range(count):
        code = "FIN" if n % 2 == 0 else "RISK"
        with time_machine.travel(T0 + timedelta(hours=30 * n), tick=False):
            tid = handed_to(org, code, "LOG", ref=f"R{n}")
            rate(tid, code, 1, ref=f"R{n}")
        made.append(tid)
    return made


def results(client: APIClient, query: str = "") -> list[dict[str, Any]]:
    response = client.get(URL + query)
    assert response.status_code == 200, response.json()
    return list(response.json()["results"])


def test_the_service_team_lists_every_follow_up_newest_first(org: Org) -> None:
    first, second = rated(org)
    with time_machine.travel(T0 + timedelta(hours=31), tick=False):
        rows = results(token_client(org.leads["CS"]))
    assert [r["ticket_id"] for r in rows] == [str(second), str(first)]
    newest, oldest = rows
    assert (oldest["department"], oldest["score"], oldest["overdue"]) == (
        "FIN",
        1,
        True,
    )
    assert newest["overdue"] is False and newest["status"] == "open"
    assert oldest["ticket_subject"] == "Refund R0"
    assert oldest["comment"] == "FIN never called"


def test_filters_and_scope(org: Org) -> None:
    first, second = rated(org)
    with time_machine.travel(T0 + timedelta(hours=31), tick=False):
        lead = token_client(org.leads["CS"])
        assert [r["ticket_id"] for r in results(lead, "?overdue=true")] == [str(first)]
        assert [r["ticket_id"] for r in results(lead, "?department=risk")] == [
            str(second)
        ]
        assert results(lead, "?status=closed") == []
        fin_lead = token_client(org.leads["FIN"])
        assert [r["ticket_id"] for r in results(fin_lead)] == [str(first)]
    refused = token_client(org.agents["CS"]).get(URL)
    assert refused.status_code == 403 and refused.json()["code"] == "not_permitted"
    bad = token_client(org.leads["CS"]).get(URL + "?status=maybe")
    assert bad.status_code == 400


@pytest.mark.parametrize("count", [1, 5])
def test_the_list_runs_a_fixed_number_of_queries(
    org: Org, django_assert_num_queries: Any, count: int
) -> None:
    rated(org, count)
    assert FollowUp.objects.count() == count
    client = token_client(org.leads["CS"])
    client.get(URL)  # warm the token's last-used stamp
    # token, memberships (scope and visibility), the page with its tickets
    with django_assert_num_queries(3):
        assert len(results(client)) == count


def test_the_ticket_events_show_a_follow_up_only_to_who_sees_it(org: Org) -> None:
    """The follow-up's events hold the service team's notes: the events API
    lists them to the service team and the rated department's lead, not to
    agents or other departments that worked the ticket."""
    [tid] = rated(org, 1)  # CS -> FIN -> LOG, FIN rated 1

    def types(client: APIClient) -> list[str]:
        response = client.get(f"/api/v1/tickets/{tid}/events/")
        assert response.status_code == 200, response.json()
        return [e["type"] for e in response.json()]

    everything = types(token_client(org.leads["CS"]))
    assert "Ticket.FollowUpOpened" in everything
    assert "Ticket.FollowUpOpened" in types(token_client(org.leads["FIN"]))
    for user in (org.agents["FIN"], org.agents["LOG"], org.leads["LOG"]):
        shown = types(token_client(user))
        assert shown == [t for t in everything if "FollowUp" not in t]
