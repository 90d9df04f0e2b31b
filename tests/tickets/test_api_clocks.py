"""SLA clocks as the API shows them, with real policy and calendar
versions (``tests/sla/conftest.py``) and a frozen clock: the ``clocks`` of
a ticket, ``/api/v1/clocks/``, and the ``at_risk`` / ``breached`` filters.

Monday 2026-03-02. Shanghai is UTC+8: 10:00 there is 02:00Z. Customer
Service works 09:00-18:00 Shanghai (response 1 h, resolution 16 h, warning
at 75 %), Finance 09:00-12:00 and 13:00-18:00 Shanghai (response 4 h,
warning at 75 %), Logistics 09:00-17:00 New York, UTC-5 (response 8 h,
warning at the default 75 %). Every figure below is worked out by hand.

Three tickets, all opened at 02:00Z by Customer Service:

* A, handed to Finance at 02:30Z: Finance's clock runs 10:30-12:00 and
  13:00-15:30 Shanghai, due 07:30Z; 75 % (3 h) is at 14:30, 06:30Z.
* B, kept by Customer Service: its response clock is due at 11:00
  Shanghai (03:00Z), at risk from 10:45 (02:45Z).
* C, handed to Logistics at 02:10Z (Sunday 21:10 in New York): the clock
  starts Monday 09:00 New York (14:00Z), due 17:00 (22:00Z), at risk from
  15:00 (20:00Z).

Every ticket's resolution clock (Customer Service, 16 h) runs Monday
10:00-18:00 and Tuesday 09:00-17:00 Shanghai: due Tuesday 09:00Z; 75 %
(12 h) is Tuesday 13:00 Shanghai, 05:00Z.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from sla import services as sla_services
from tests.helpers import Org, open_ticket
from tests.sla import conftest as sla_fixtures
from tests.tickets.api_helpers import Clients
from tickets import services

# The SLA tests' fixtures: departments with calendars and policies, and
# ``at("2026-03-02 02:00")`` to freeze the clock.
sla_org = sla_fixtures.sla_org
at = sla_fixtures.at

RESOLUTION = {
    "department": "CS",
    "kind": "resolution",
    "started_at": "2026-03-02T02:00:00Z",
    "due_at": "2026-03-03T09:00:00Z",
    "warn_at": "2026-03-03T05:00:00Z",
    "target_seconds": 16 * 3600.0,
    "policy_version": 1,
    "calendar_version": 1,
}


class Tickets:
    """A, B and C of the module docstring, and API clients."""

    def __init__(self, org: Org, at: Any) -> None:
        self.clients = Clients(org)
        at("2026-03-02 02:00")
        a, b, c = (open_ticket(org, subject=name) for name in "ABC")
        self.a, self.b, self.c = str(a), str(b), str(c)
        self.name = {self.a: "A", self.b: "B", self.c: "C"}
        at("2026-03-02 02:10")
        services.ticket_hand_off(
            principal=org.agent("CS"), ticket_id=c, to_department="LOG", reason="Lost"
        )
        at("2026-03-02 02:30")
        services.ticket_hand_off(
            principal=org.agent("CS"), ticket_id=a, to_department="FIN", reason="Refund"
        )

    def listed(self, query: str) -> set[str]:
        """Names of the tickets the front-line lead's list returns."""
        response = self.clients.lead("CS").get(f"/api/v1/tickets/?{query}")
        assert response.status_code == 200, response.content
        return {self.name[t["id"]] for t in response.json()["results"]}

    def clocks(self, ticket: str) -> dict[tuple[str, str], dict[str, Any]]:
        response = self.clients.lead("CS").get(f"/api/v1/tickets/{ticket}/")
        assert response.status_code == 200, response.content
        return {(c["department"], c["kind"]): c for c in response.json()["clocks"]}


@pytest.fixture
def tickets(sla_org: Org, at: Any) -> Tickets:
    return Tickets(sla_org, at)


def sweep(at: Any, when: str) -> None:
    at(when)
    sla_services.sla_sweep()


def subset(clock: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    return {key: clock[key] for key in expected}


# --- the clocks of a ticket ------------------------------------------------------


def test_a_ticket_shows_its_clocks_with_due_and_warning_times(
    tickets: Tickets, at: Any
) -> None:
    clocks = tickets.clocks(tickets.a)
    assert set(clocks) == {
        ("CS", "response"),
        ("CS", "resolution"),
        ("FIN", "response"),
    }
    finance = {
        "department": "FIN",
        "kind": "response",
        "state": "running",
        "handoff_id": clocks["FIN", "response"]["handoff_id"],
        "started_at": "2026-03-02T02:30:00Z",
        "due_at": "2026-03-02T07:30:00Z",
        "warn_at": "2026-03-02T06:30:00Z",
        "stopped_at": None,
        "outcome": "",
        "target_seconds": 4 * 3600.0,
        "paused_seconds": 0.0,
        "business_seconds_used": 0.0,
        "business_seconds_left": 4 * 3600.0,
        "warning_recorded": False,
        "breach_recorded": False,
        "policy_version": 1,
        "calendar_version": 1,
    }
    assert subset(clocks["FIN", "response"], finance) == finance
    assert clocks["FIN", "response"]["handoff_id"] is not None
    # Customer Service answered in time by handing it on after 30 min.
    cs_response = {
        "state": "met",
        "started_at": "2026-03-02T02:00:00Z",
        "due_at": "2026-03-02T03:00:00Z",
        "warn_at": "2026-03-02T02:45:00Z",
        "stopped_at": "2026-03-02T02:30:00Z",
        "outcome": "handed_on",
        "target_seconds": 3600.0,
        "business_seconds_used": 1800.0,
        "business_seconds_left": 1800.0,
    }
    assert subset(clocks["CS", "response"], cs_response) == cs_response
    resolution = {**RESOLUTION, "state": "running", "handoff_id": None}
    assert subset(clocks["CS", "resolution"], resolution) == resolution

    # 13:00 Shanghai: Finance has used 10:30-12:00 of its business time,
    # not the lunch hour.
    at("2026-03-02 05:00")
    clock = tickets.clocks(tickets.a)["FIN", "response"]
    assert (clock["business_seconds_used"], clock["business_seconds_left"]) == (
        5400.0,
        9000.0,
    )
    # Logistics' clock waits for Monday morning in New York.
    logistics = tickets.clocks(tickets.c)["LOG", "response"]
    assert subset(logistics, {"started_at": "", "due_at": "", "warn_at": ""}) == {
        "started_at": "2026-03-02T02:10:00Z",
        "due_at": "2026-03-02T22:00:00Z",
        "warn_at": "2026-03-02T20:00:00Z",
    }
    assert logistics["business_seconds_used"] == 0.0


def test_the_list_shows_each_tickets_clocks(tickets: Tickets) -> None:
    response = tickets.clients.lead("CS").get("/api/v1/tickets/")
    listed = {
        tickets.name[t["id"]]: {
            (c["department"], c["kind"], c["due_at"]) for c in t["clocks"]
        }
        for t in response.json()["results"]
    }
    resolution = ("CS", "resolution", "2026-03-03T09:00:00Z")
    cs_response = ("CS", "response", "2026-03-02T03:00:00Z")
    assert listed == {
        "A": {resolution, cs_response, ("FIN", "response", "2026-03-02T07:30:00Z")},
        "B": {resolution, cs_response},
        "C": {resolution, cs_response, ("LOG", "response", "2026-03-02T22:00:00Z")},
    }


# --- at risk and breached ---------------------------------------------------------


def test_at_risk_starts_at_the_warning_time_and_breached_once_recorded(
    tickets: Tickets, at: Any
) -> None:
    everyone = {"A", "B", "C"}
    assert tickets.listed("at_risk=true") == set()
    assert tickets.listed("at_risk=false") == everyone
    assert tickets.listed("breached=true") == set()
    assert tickets.listed("breached=false") == everyone

    at("2026-03-02 02:44:59")
    assert tickets.listed("at_risk=true") == set()
    at("2026-03-02 02:45")  # B's warning time, to the second
    assert tickets.listed("at_risk=true") == {"B"}
    assert tickets.listed("at_risk=false") == {"A", "C"}
    assert tickets.listed("breached=true") == set()

    sweep(at, "2026-03-02 03:05")  # B is late: the sweep records it
    clock = tickets.clocks(tickets.b)["CS", "response"]
    assert (clock["state"], clock["breach_recorded"], clock["warning_recorded"]) == (
        "breached_running",
        True,
        False,
    )
    assert clock["business_seconds_left"] == -300.0
    assert tickets.listed("breached=true") == {"B"}
    assert tickets.listed("breached=false") == {"A", "C"}
    assert tickets.listed("at_risk=true") == set()

    at("2026-03-02 06:29:59")
    assert tickets.listed("at_risk=true") == set()
    at("2026-03-02 06:30")  # A's warning time (14:30 Shanghai)
    assert tickets.listed("at_risk=true") == {"A"}
    assert tickets.listed("at_risk=true&breached=false") == {"A"}

    sweep(at, "2026-03-02 07:45")
    assert tickets.listed("breached=true") == {"A", "B"}
    assert tickets.listed("breached=false") == {"C"}
    assert tickets.listed("at_risk=true") == set()
    # Finance answers late: its clock stops, the breach stays.
    at("2026-03-02 08:00")
    services.ticket_respond(
        principal=tickets.clients.org.agent("FIN"),
        ticket_id=UUID(tickets.a),
        body="Sorry",
    )
    finance = tickets.clocks(tickets.a)["FIN", "response"]
    assert (finance["state"], finance["outcome"], finance["stopped_at"]) == (
        "breached",
        "responded",
        "2026-03-02T08:00:00Z",
    )
    # 10:30-12:00 and 13:00-16:00 Shanghai
    assert finance["business_seconds_used"] == 4.5 * 3600
    assert tickets.listed("breached=true") == {"A", "B"}

    at("2026-03-02 20:00")  # C's warning time (15:00 New York)
    assert tickets.listed("at_risk=true") == {"C"}
    assert tickets.listed("at_risk=true&department=LOG") == {"C"}


def test_an_overdue_clock_counts_as_breached_before_any_sweep_records_it(
    tickets: Tickets, at: Any
) -> None:
    """Past its due time a clock is breached, whether or not a sweep has
    run yet (the sweep may be minutes late, or its worker down): the API's
    filters must agree with the work queue, which shows it as overdue."""
    at("2026-03-02 03:05")  # B was due at 03:00Z; no sweep has run
    assert tickets.clocks(tickets.b)["CS", "response"]["breach_recorded"] is False
    assert tickets.listed("breached=true") == {"B"}
    assert tickets.listed("at_risk=true") == set()


# --- /api/v1/clocks/ -------------------------------------------------------------


def clock_rows(tickets: Tickets, client: Any, query: str) -> list[tuple[str, ...]]:
    """(ticket, department, kind, state, due_at) of every clock listed, in
    the list's order, which must be by due time, then id."""
    response = client.get(f"/api/v1/clocks/?{query}")
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [(c["due_at"], c["id"]) for c in results] == sorted(
        (c["due_at"], c["id"]) for c in results
    )
    return [
        (
            tickets.name[c["ticket_id"]],
            c["department"],
            c["kind"],
            c["state"],
            c["due_at"],
        )
        for c in results
    ]


def test_the_clock_list_filters_and_orders_by_due_time(
    tickets: Tickets, at: Any
) -> None:
    sweep(at, "2026-03-02 07:45")
    lead = tickets.clients.lead("CS")
    assert clock_rows(tickets, lead, "state=breached_running") == [
        ("B", "CS", "response", "breached_running", "2026-03-02T03:00:00Z"),
        ("A", "FIN", "response", "breached_running", "2026-03-02T07:30:00Z"),
    ]
    assert clock_rows(tickets, lead, "department=LOG") == [
        ("C", "LOG", "response", "running", "2026-03-02T22:00:00Z")
    ]
    resolutions = clock_rows(tickets, lead, "kind=resolution&state=running")
    assert sorted(resolutions) == [
        (name, "CS", "resolution", "running", "2026-03-03T09:00:00Z") for name in "ABC"
    ]
    # Strictly before: A's and C's answered response clocks were due 03:00Z.
    assert sorted(
        clock_rows(tickets, lead, "due_before=2026-03-02T07:30:00Z&state=met")
    ) == [
        ("A", "CS", "response", "met", "2026-03-02T03:00:00Z"),
        ("C", "CS", "response", "met", "2026-03-02T03:00:00Z"),
    ]
    assert clock_rows(tickets, lead, "due_before=2026-03-02T03:00:00Z") == []

    # Finance sees only the clocks of the ticket it has handled.
    fin = tickets.clients.agent("FIN")
    assert sorted(clock_rows(tickets, fin, "")) == [
        ("A", "CS", "resolution", "running", "2026-03-03T09:00:00Z"),
        ("A", "CS", "response", "met", "2026-03-02T03:00:00Z"),
        ("A", "FIN", "response", "breached_running", "2026-03-02T07:30:00Z"),
    ]
    assert clock_rows(tickets, tickets.clients.agent("LOG"), "kind=response") == [
        ("C", "CS", "response", "met", "2026-03-02T03:00:00Z"),
        ("C", "LOG", "response", "running", "2026-03-02T22:00:00Z"),
    ]
