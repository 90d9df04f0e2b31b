"""Every REST command refused by Baton's rules stores nothing.

The commands are discovered from the URL configuration (every API
endpoint that accepts POST), so a new command cannot be added without a
case here: ``test_every_command_endpoint_has_a_rejection_case`` compares
the two. Each case sends a request the domain refuses and checks the
documented status and ``code``, that no event was appended, and that the
ticket's read-model rows (and the other rows a command could write: other
tickets, customer links, webhook subscriptions) are exactly as before.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from tests.helpers import Org, event_count
from tests.tickets.api_helpers import Clients
from tickets import services
from tickets.models import (
    Attachment,
    CustomerAccess,
    Handoff,
    SLAClock,
    TicketSummary,
    TimelineEntry,
    WebhookSubscription,
)

OPEN = {
    "subject": "Refund not received",
    "description": "Returned two weeks ago",
    "customer_ref": "CUST-9",
    "channel": "web",
}


# --- the commands, from the URL configuration ----------------------------------


def _routes(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, getattr(pattern.callback, "view_class", None)


def command_routes() -> set[str]:
    """Every API route whose view accepts POST."""
    return {
        route
        for route, view in _routes(get_resolver().url_patterns)
        if route.startswith("api/") and view is not None and hasattr(view, "post")
    }


@functools.cache
def schema() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator

    generated: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)
    return generated


def documented(route: str, status: int) -> dict[str, Any] | None:
    """The schema's response for POST ``route`` with ``status``, if any."""
    path = "/" + route.replace("<uuid:ticket_id>", "{ticket_id}").replace(
        "<str:token>", "{token}"
    )
    operation = schema()["paths"][path]["post"]
    response: dict[str, Any] | None = operation["responses"].get(str(status))
    return response


# --- the tickets the cases act on ------------------------------------------------


@dataclass
class World:
    org: Org
    clients: Clients
    tickets: dict[str, UUID] = field(default_factory=dict)
    customer_tokens: dict[str, str] = field(default_factory=dict)

    def client(self, who: str) -> APIClient:
        """``customer`` (no credentials), ``agent:FIN`` / ``lead:CS`` (an
        integration token acting as that user), ``session:lead:CS`` (the
        user signed in)."""
        if who == "customer":
            return APIClient()
        if who.startswith("session:"):
            _, role, code = who.split(":")
            client = APIClient()
            client.force_authenticate(getattr(self.org, f"{role}s")[code])
            return client
        role, code = who.split(":")
        return getattr(self.clients, role)(code)

    def fin_stint(self, state: str) -> UUID:
        stint = (
            Handoff.objects.filter(ticket_id=self.tickets[state], department="FIN")
            .values_list("id", flat=True)
            .first()
        )
        assert stint is not None
        return stint


def build_world(org: Org) -> World:
    """One ticket in each state, built through the services: ``open``
    (Customer Service has it), ``with_fin``, ``with_log`` (Finance handed it
    on to Logistics), ``resolved`` and ``closed`` (both by Finance)."""
    world = World(org, Clients(org))
    cs, fin = org.agent("CS"), org.agent("FIN")
    for state in ("open", "with_fin", "with_log", "resolved", "closed"):
        opened = services.ticket_open(principal=cs, **{**OPEN, "subject": state})
        tid = opened.ticket_id
        world.tickets[state] = tid
        world.customer_tokens[state] = opened.detail["customer_token"]
        if state == "open":
            continue
        services.ticket_hand_off(
            principal=cs, ticket_id=tid, to_department="FIN", reason="Approval"
        )
        if state == "with_log":
            services.ticket_hand_off(
                principal=fin, ticket_id=tid, to_department="LOG", reason="Parcel"
            )
        if state in ("resolved", "closed"):
            services.ticket_resolve(
                principal=fin, ticket_id=tid, resolution="Refunded", root_cause="other"
            )
        if state == "closed":
            services.ticket_close(principal=cs, ticket_id=tid)
    return world


# --- the cases -----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    route: str
    who: str  # see World.client
    state: str  # which ticket of the World
    body: Callable[[World], dict[str, Any]]
    status: int
    code: str

    def path(self, world: World) -> str:
        tid = world.tickets[self.state]
        return "/" + self.route.replace("<uuid:ticket_id>", str(tid)).replace(
            "<str:token>", world.customer_tokens[self.state]
        )


T = "api/v1/tickets/<uuid:ticket_id>/"
P = "api/v1/public/timeline/<str:token>/"


def body(data: dict[str, Any]) -> Callable[[World], dict[str, Any]]:
    return lambda world: data


CASES = [
    # Only a front-line department opens tickets.
    Case(
        "api/v1/tickets/",
        "agent:CS",
        "open",
        body({**OPEN, "department": "FIN"}),
        403,
        "not_permitted",
    ),
    Case(
        T + "handoffs/",
        "agent:FIN",
        "closed",
        body({"to_department": "LOG", "reason": "x"}),
        400,
        "ticket_closed",
    ),
    Case(
        T + "handoffs/",
        "agent:FIN",
        "with_fin",
        body({"to_department": "NOPE", "reason": "x"}),
        400,
        "unknown_department",
    ),
    Case(
        T + "responses/",
        "agent:FIN",
        "closed",
        body({"body": "x"}),
        400,
        "ticket_closed",
    ),
    # Customer Service handled it before but Finance owns it now.
    Case(
        T + "responses/",
        "agent:CS",
        "with_fin",
        body({"body": "x"}),
        403,
        "not_owner",
    ),
    Case(
        T + "notes/", "agent:FIN", "closed", body({"body": "x"}), 400, "ticket_closed"
    ),
    Case(
        T + "customer-replies/",
        "agent:CS",
        "closed",
        body({"body": "It is LX123"}),
        400,
        "ticket_closed",
    ),
    Case(
        T + "customer-replies/",
        "agent:CS",
        "resolved",
        body({"body": "Thanks"}),
        400,
        "ticket_resolved",
    ),
    Case(T + "waiting/", "agent:FIN", "closed", body({}), 400, "ticket_closed"),
    Case(T + "waiting/end/", "agent:FIN", "with_fin", body({}), 400, "not_waiting"),
    Case(T + "waiting/end/", "agent:FIN", "closed", body({}), 400, "ticket_closed"),
    Case(
        T + "resolve/",
        "agent:FIN",
        "closed",
        body({"resolution": "x", "root_cause": "other"}),
        400,
        "ticket_closed",
    ),
    Case(
        T + "reopen/", "agent:CS", "closed", body({"reason": "x"}), 400, "ticket_closed"
    ),
    Case(
        T + "reopen/",
        "agent:CS",
        "with_fin",
        body({"reason": "x"}),
        400,
        "ticket_not_resolved",
    ),
    Case(T + "close/", "agent:CS", "closed", body({}), 400, "ticket_closed"),
    Case(T + "close/", "agent:CS", "with_fin", body({}), 400, "ticket_not_resolved"),
    Case(
        T + "assign/",
        "agent:FIN",
        "closed",
        lambda world: {"agent_id": world.org.agents["FIN"].pk},
        400,
        "ticket_closed",
    ),
    Case(
        T + "assign/",
        "agent:FIN",
        "with_fin",
        lambda world: {"agent_id": world.org.agents["LOG"].pk},
        400,
        "assignee_not_member",
    ),
    Case(
        T + "priority/",
        "agent:FIN",
        "closed",
        body({"priority": "high"}),
        400,
        "ticket_closed",
    ),
    Case(
        T + "priority/",
        "agent:FIN",
        "with_fin",
        body({"priority": "normal"}),
        400,
        "no_change",
    ),
    Case(
        T + "scenario/",
        "agent:FIN",
        "closed",
        body({"scenario": "LOST"}),
        400,
        "ticket_closed",
    ),
    Case(
        T + "ratings/",
        "agent:CS",
        "open",
        body({"score": 4}),
        400,
        "ticket_not_resolved",
    ),
    Case(
        T + "ratings/",
        "agent:CS",
        "resolved",
        lambda world: {"handoff_id": str(uuid4()), "score": 4},
        400,
        "unknown_handoff",
    ),
    # No SLA policy here: Finance's clock never ran, so nothing was breached.
    Case(
        T + "disputes/",
        "agent:FIN",
        "resolved",
        lambda world: {
            "handoff_id": str(world.fin_stint("resolved")),
            "subject": "breach",
            "reason": "We answered in time",
        },
        400,
        "nothing_to_dispute",
    ),
    Case(
        T + "dispute-decisions/",
        "session:lead:CS",
        "resolved",
        lambda world: {"dispute_id": str(uuid4()), "decision": "waived", "reason": "x"},
        400,
        "unknown_dispute",
    ),
    # Deciding is a person's call: not an integration's, even a lead's token.
    Case(
        T + "dispute-decisions/",
        "lead:CS",
        "resolved",
        lambda world: {"dispute_id": str(uuid4()), "decision": "waived", "reason": "x"},
        403,
        "not_permitted",
    ),
    # A follow-up this ticket does not have (its low ratings open them).
    *(
        Case(
            T + f"follow-ups/{route}/",
            "session:lead:CS",
            "resolved",
            lambda world, fields=fields: {"follow_up_id": str(uuid4()), **fields},
            400,
            "unknown_follow_up",
        )
        for route, fields in (
            ("notes", {"note": "Called Finance"}),
            ("contacts", {"method": "phone"}),
            ("close", {"outcome": "resolved"}),
            ("reopen", {"reason": "Again"}),
        )
    ),
    # Following up is the service team's, in person: not a lead's token.
    Case(
        T + "follow-ups/owner/",
        "lead:CS",
        "resolved",
        lambda world: {
            "follow_up_id": str(uuid4()),
            "owner_id": world.org.leads["CS"].pk,
        },
        403,
        "not_permitted",
    ),
    # Finance handled it once, but Logistics owns it now: Finance may not
    # change the customer's link.
    Case(T + "customer-link/", "agent:FIN", "with_log", body({}), 403, "not_permitted"),
    Case(
        P + "replies/",
        "customer",
        "closed",
        body({"body": "Hello?"}),
        400,
        "ticket_closed",
    ),
    Case(
        P + "replies/",
        "customer",
        "resolved",
        body({"body": "Thanks"}),
        400,
        "ticket_resolved",
    ),
    Case(
        P + "ratings/",
        "customer",
        "open",
        body({"score": 5}),
        400,
        "ticket_not_resolved",
    ),
    Case(
        P + "ratings/",
        "customer",
        "resolved",
        lambda world: {"handoff_id": str(world.fin_stint("with_fin")), "score": 5},
        400,
        "unknown_handoff",
    ),
    # An upload is a file: a JSON body has none (and nothing is kept).
    Case("api/v1/attachments/", "agent:CS", "open", body({}), 400, "file_required"),
    Case(P + "attachments/", "customer", "closed", body({}), 400, "ticket_closed"),
    # Webhooks see every ticket: only front-line leads and admins subscribe.
    Case(
        "api/v1/webhooks/",
        "agent:CS",
        "open",
        body({"name": "CRM", "url": "https://crm.example.com/baton"}),
        403,
        "forbidden",
    ),
]


def test_every_command_endpoint_has_a_rejection_case() -> None:
    """A new POST endpoint without a case here fails this test."""
    assert command_routes() == {case.route for case in CASES}


def stored_state(world: World, ticket_id: UUID) -> dict[str, Any]:
    """Everything a command could have written."""
    return {
        "events": event_count(),
        "ticket": TicketSummary.objects.filter(pk=ticket_id).values().first(),
        "handoffs": list(
            Handoff.objects.filter(ticket_id=ticket_id)
            .order_by("started_position")
            .values()
        ),
        "timeline": list(
            TimelineEntry.objects.filter(ticket_id=ticket_id)
            .order_by("position")
            .values_list("position", flat=True)
        ),
        "clocks": list(
            SLAClock.objects.filter(ticket_id=ticket_id).order_by("id").values()
        ),
        "tickets": sorted(TicketSummary.objects.values_list("pk", "version")),
        "customer_links": sorted(
            CustomerAccess.objects.values_list("pk", "revoked_at", "expires_at")
        ),
        "webhooks": WebhookSubscription.objects.count(),
        "attachments": Attachment.objects.count(),
    }


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{c.route.removeprefix('api/v1/')}:{c.code}" for c in CASES]
)
def test_a_refused_command_stores_nothing(org: Org, case: Case) -> None:
    world = build_world(org)
    ticket_id = world.tickets[case.state]
    before = stored_state(world, ticket_id)

    response = world.client(case.who).post(
        case.path(world), case.body(world), format="json"
    )

    assert response.status_code == case.status, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert (problem["status"], problem["code"]) == (case.status, case.code)
    assert stored_state(world, ticket_id) == before
    # The refusal is one the API documents for this operation.
    declared = documented(case.route, case.status)
    assert declared is not None, f"{case.status} is not documented for {case.route}"
    if "x-problem-codes" in declared:
        assert case.code in declared["x-problem-codes"], declared["x-problem-codes"]
