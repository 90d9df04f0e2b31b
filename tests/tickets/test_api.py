"""The REST API, driven over HTTP with real integration tokens."""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.helpers import Org, event_count, make_user, stored_events
from tests.tickets.api_helpers import Clients, token_client
from tickets.api.authentication import TokenRateThrottle
from tickets.application import TicketsApplication, get_tickets_application
from tickets.commands import ADD_NOTE
from tickets.domain import Ticket
from tickets.models import ApiToken, IdempotencyRecord, TicketSummary

OPEN = {
    "subject": "Refund not received",
    "description": "Returned two weeks ago",
    "customer_ref": "CUST-9",
    "customer_name": "Dana Customer",
    "customer_timezone": "Europe/Paris",
    "channel": "app",
    "scenario": "refund",
    "external_ref": "CRM-1",
}


@pytest.fixture
def clients(org: Org) -> Clients:
    return Clients(org)


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    return body


def open_via_api(clients: Clients, **overrides: Any) -> dict[str, Any]:
    response = clients.agent("CS").post(
        "/api/v1/tickets/", {**OPEN, **overrides}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def post(
    client: APIClient,
    ticket: dict[str, Any] | str,
    path: str,
    data: Any = None,
    **headers: str,
) -> Any:
    tid = ticket if isinstance(ticket, str) else ticket["id"]
    return client.post(
        f"/api/v1/tickets/{tid}/{path}", data or {}, format="json", **headers
    )


# --- the whole journey over HTTP ------------------------------------------


def test_a_whole_journey_only_through_http(clients: Clients, org: Org) -> None:
    cs, fin, log = clients.agent("CS"), clients.agent("FIN"), clients.agent("LOG")
    ticket = open_via_api(clients)
    assert (ticket["owner"], ticket["status"], ticket["version"]) == ("CS", "open", 1)
    tid = ticket["id"]

    ticket = post(
        cs, tid, "handoffs/", {"to_department": "FIN", "reason": "Refund approval"}
    ).json()
    assert ticket["owner"] == "FIN"
    fin_stint = ticket["current_stint_id"]
    assert post(fin, tid, "responses/", {"body": "We are checking"}).status_code == 200
    ticket = post(
        fin, tid, "handoffs/", {"to_department": "LOG", "reason": "Parcel lost"}
    ).json()
    log_stint = ticket["current_stint_id"]
    assert (
        post(log, tid, "waiting/", {"reason": "Tracking number"}).json()["status"]
        == "waiting"
    )
    ticket = post(cs, tid, "customer-replies/", {"body": "It is LX123"}).json()
    assert ticket["status"] == "open"
    ticket = post(
        log, tid, "resolve/", {"resolution": "Refunded", "root_cause": "process"}
    ).json()
    assert ticket["status"] == "resolved"
    for stint, score in ((fin_stint, 4), (log_stint, 5)):
        response = post(
            cs,
            tid,
            "ratings/",
            {"handoff_id": stint, "score": score, "comment": f"score {score}"},
        )
        assert response.status_code == 200, response.content
    ticket = cs.get(f"/api/v1/tickets/{tid}/").json()
    ratings = {h["department"]: h["rating_score"] for h in ticket["handoffs"]}
    assert ratings == {"CS": None, "FIN": 4, "LOG": 5}
    assert [h["outcome"] for h in ticket["handoffs"]] == [
        "handed_on",
        "responded",
        "resolved",
    ]

    timeline = cs.get(f"/api/v1/tickets/{tid}/timeline/").json()
    assert (timeline["status"], timeline["owner_name"]) == ("resolved", "Logistics")
    assert timeline["promise"].startswith("Resolved on ")
    steps = timeline["journey"]
    assert [step["department"] for step in steps] == [
        "Customer Service",
        "Finance",
        "Logistics",
    ]
    assert [step["rating"] and step["rating"]["score"] for step in steps] == [
        None,
        4,
        5,
    ]
    bodies = [(m["author"], m["body"]) for step in steps for m in step["messages"]]
    assert ("Finagent", "We are checking") in bodies and (
        "You",
        "It is LX123",
    ) in bodies
    assert "Refund approval" not in json.dumps(timeline)

    events = cs.get(f"/api/v1/tickets/{tid}/events/").json()
    types = [e["type"] for e in events]
    assert types == [
        "Ticket.Opened",
        "Ticket.HandedOff",
        "Ticket.Responded",
        "Ticket.HandedOff",
        "Ticket.WaitingOnCustomer",
        "Ticket.CustomerReplied",
        "Ticket.WaitingEnded",
        "Ticket.Resolved",
        "Ticket.HandoffRated",
        "Ticket.HandoffRated",
    ]
    assert [e["version"] for e in events] == list(range(1, 11))
    assert all(e["position"] for e in events)
    assert events[1]["data"]["reason"] == "Refund approval"
    assert events[1]["actor"]["kind"] == "integration"
    assert events[1]["actor"]["department"] == "CS"


# --- authentication and permissions -----------------------------------------

ENDPOINTS = [
    ("get", "/api/v1/tickets/"),
    ("post", "/api/v1/tickets/"),
    ("get", "/api/v1/tickets/{id}/"),
    ("get", "/api/v1/tickets/{id}/timeline/"),
    ("get", "/api/v1/tickets/{id}/events/"),
    ("get", "/api/v1/events/"),
    ("get", "/api/v1/departments/"),
    ("get", "/api/v1/clocks/"),
    *[
        ("post", f"/api/v1/tickets/{{id}}/{p}")
        for p in (
            "handoffs/",
            "responses/",
            "notes/",
            "customer-replies/",
            "waiting/",
            "waiting/end/",
            "resolve/",
            "reopen/",
            "close/",
            "assign/",
            "priority/",
            "scenario/",
            "ratings/",
        )
    ],
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_anonymous_callers_get_401(clients: Clients, method: str, path: str) -> None:
    tid = open_via_api(clients)["id"]
    response = getattr(APIClient(), method)(path.format(id=tid), {}, format="json")
    body = problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Token realm="api"'
    assert body["instance"] == path.format(id=tid)


def test_bearer_tokens_work_and_revoked_or_unknown_ones_do_not(org: Org) -> None:
    token, key = ApiToken.issue(user=org.agents["CS"], name="CRM")
    assert token.key_hash != key and key not in token.key_hash
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/departments/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=token.last_used_at)
    problem(client.get("/api/v1/departments/"), 401, "authentication_failed")
    client.credentials(HTTP_AUTHORIZATION="Token nope")
    problem(client.get("/api/v1/departments/"), 401, "authentication_failed")


def test_issue_token_prints_the_key_once_and_stores_only_its_hash(
    org: Org, capsys: Any
) -> None:
    call_command("issue_token", "--user", "cs_agent", "--name", "CRM sync")
    key = capsys.readouterr().out.splitlines()[1]
    token = ApiToken.objects.get(name="CRM sync")
    assert key.startswith("bat_") and token.key_prefix == key[:12]
    assert not ApiToken.objects.filter(key_hash=key).exists()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/tickets/").status_code == 200


def test_a_department_cannot_act_on_a_ticket_another_owns(clients: Clients) -> None:
    tid = open_via_api(clients)["id"]
    post(clients.agent("CS"), tid, "handoffs/", {"to_department": "FIN", "reason": "r"})
    # Customer Service handled it before: it sees it but may not respond.
    problem(
        post(clients.agent("CS"), tid, "responses/", {"body": "x"}), 403, "not_owner"
    )
    # Logistics never handled it: for Logistics the ticket does not exist.
    problem(
        post(clients.agent("LOG"), tid, "responses/", {"body": "x"}),
        404,
        "ticket_not_found",
    )
    problem(
        clients.agent("LOG").get(f"/api/v1/tickets/{tid}/"), 404, "ticket_not_found"
    )
    assert clients.agent("LOG").get("/api/v1/tickets/").json()["results"] == []
    # A front-line lead sees every ticket.
    assert clients.lead("CS").get(f"/api/v1/tickets/{tid}/").status_code == 200


def test_a_user_without_a_department_sees_nothing_and_can_do_nothing(
    clients: Clients, org: Org
) -> None:
    tid = open_via_api(clients)["id"]
    loner = token_client(make_user("loner"))
    assert loner.get("/api/v1/tickets/").json()["results"] == []
    problem(loner.get(f"/api/v1/tickets/{tid}/"), 404, "ticket_not_found")
    problem(loner.post("/api/v1/tickets/", OPEN, format="json"), 403, "not_permitted")


# --- every command's rejections -------------------------------------------------


def test_each_command_rejects_with_its_code_and_stores_nothing(
    clients: Clients, org: Org
) -> None:
    cs, fin = clients.agent("CS"), clients.agent("FIN")
    tid = open_via_api(clients)["id"]
    cases = [
        (
            cs,
            "handoffs/",
            {"to_department": "FIN", "reason": ""},
            400,
            "reason_required",
        ),
        (
            cs,
            "handoffs/",
            {"to_department": "CS", "reason": "x"},
            400,
            "handoff_to_current_owner",
        ),
        (
            cs,
            "handoffs/",
            {"to_department": "XYZ", "reason": "x"},
            400,
            "unknown_department",
        ),
        (cs, "handoffs/", {"reason": "x"}, 400, "validation_failed"),
        (cs, "responses/", {"body": ""}, 400, "validation_failed"),
        (cs, "responses/", {"body": "x" * 10_001}, 400, "validation_failed"),
        (cs, "notes/", {"body": {"not": "text"}}, 400, "validation_failed"),
        (cs, "waiting/end/", {}, 400, "not_waiting"),
        (
            cs,
            "resolve/",
            {"resolution": "x", "root_cause": "aliens"},
            400,
            "validation_failed",
        ),
        (
            cs,
            "resolve/",
            {"resolution": "", "root_cause": "other"},
            400,
            "validation_failed",
        ),
        (cs, "reopen/", {"reason": "x"}, 400, "ticket_not_resolved"),
        (cs, "close/", {}, 400, "ticket_not_resolved"),
        (cs, "assign/", {"agent_id": org.agents["FIN"].pk}, 400, "assignee_not_member"),
        (cs, "assign/", {"agent_id": 999_999}, 400, "unknown_agent"),
        (cs, "assign/", {"agent_id": "abc"}, 400, "validation_failed"),
        (cs, "priority/", {"priority": "normal"}, 400, "no_change"),
        (cs, "priority/", {"priority": "sky-high"}, 400, "validation_failed"),
        (cs, "scenario/", {"scenario": "REFUND"}, 400, "no_change"),
        (cs, "scenario/", {"scenario": "not valid!"}, 400, "validation_failed"),
        (
            cs,
            "ratings/",
            {"handoff_id": str(uuid4()), "score": 5},
            400,
            "unknown_handoff",
        ),
        (cs, "ratings/", {"score": 5}, 400, "ticket_not_resolved"),
        (fin, "responses/", {"body": "x"}, 404, "ticket_not_found"),
    ]
    before = event_count()
    for client, path, data, status, code in cases:
        problem(post(client, tid, path, data), status, code)
    assert event_count() == before
    assert TicketSummary.objects.get(pk=tid).version == 1

    stint = post(cs, tid, "handoffs/", {"to_department": "FIN", "reason": "r"}).json()[
        "current_stint_id"
    ]
    problem(
        post(cs, tid, "ratings/", {"handoff_id": stint, "score": 4}),
        400,
        "handoff_not_finished",
    )
    post(fin, tid, "waiting/", {})
    problem(post(fin, tid, "waiting/", {}), 400, "already_waiting")
    post(fin, tid, "resolve/", {"resolution": "done", "root_cause": "other"})
    problem(post(fin, tid, "responses/", {"body": "x"}), 400, "ticket_resolved")
    problem(
        post(cs, tid, "ratings/", {"handoff_id": stint, "score": 9}),
        400,
        "invalid_score",
    )
    assert (
        post(cs, tid, "ratings/", {"handoff_id": stint, "score": 4}).status_code == 200
    )
    problem(
        post(cs, tid, "ratings/", {"handoff_id": stint, "score": 4}),
        400,
        "already_rated",
    )
    problem(post(cs, tid, "reopen/", {"reason": ""}), 400, "reason_required")
    assert post(cs, tid, "close/", {}).status_code == 200
    problem(post(cs, tid, "reopen/", {"reason": "x"}), 400, "ticket_closed")


def test_malformed_requests_are_clear_problems_not_500s(clients: Clients) -> None:
    cs = clients.agent("CS")
    problem(
        cs.post("/api/v1/tickets/", "{not json", content_type="application/json"),
        400,
        "malformed_body",
    )
    problem(
        cs.post(
            "/api/v1/tickets/", "a=b", content_type="application/x-www-form-urlencoded"
        ),
        415,
        "unsupported_media_type",
    )
    body = problem(
        cs.post("/api/v1/tickets/", {"channel": "fax"}, format="json"),
        400,
        "validation_failed",
    )
    assert "channel" in [error["field"] for error in body["errors"]]
    problem(
        cs.post("/api/v1/tickets/", [1, 2], format="json"), 400, "validation_failed"
    )
    problem(cs.get("/api/v1/nothing-here/"), 404, "not_found")
    problem(cs.get("/api/v1/tickets/not-a-uuid/"), 404, "not_found")
    problem(
        cs.get("/api/v1/tickets/?updated_since=yesterday"), 400, "validation_failed"
    )
    problem(cs.delete("/api/v1/tickets/"), 405, "method_not_allowed")
    problem(cs.get(f"/api/v1/tickets/{uuid4()}/"), 404, "ticket_not_found")


# --- idempotency, ETag / If-Match, conflicts, throttling -------------------------


def test_a_retried_post_with_the_same_key_returns_the_first_response_and_stores_nothing(
    clients: Clients,
) -> None:
    cs = clients.agent("CS")
    first = cs.post("/api/v1/tickets/", OPEN, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    events = event_count()
    retry = cs.post("/api/v1/tickets/", OPEN, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, retry.status_code) == (201, 201)
    # The same response, except the customer's link: a secret shown once.
    assert first.json()["customer_link"].startswith("http://testserver/t/")
    assert retry.json() == {
        **first.json(),
        "customer_link": None,
        "customer_link_redacted": True,
    }
    assert retry["Idempotent-Replayed"] == "true"
    stored = IdempotencyRecord.objects.get(key="k-1")
    assert first.json()["customer_link"].encode() not in bytes(stored.response_body)
    assert retry["Location"] == first["Location"]
    assert event_count() == events
    assert TicketSummary.objects.count() == 1

    problem(
        cs.post(
            "/api/v1/tickets/",
            {**OPEN, "subject": "Other"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="k-1",
        ),
        422,
        "idempotency_key_reused",
    )
    # Keys are per caller: another integration may use the same key.
    other = clients.lead("CS").post(
        "/api/v1/tickets/", OPEN, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


def test_a_rejected_command_is_replayed_as_rejected(clients: Clients) -> None:
    tid = open_via_api(clients)["id"]
    cs = clients.agent("CS")
    first = post(
        cs,
        tid,
        "handoffs/",
        {"to_department": "FIN", "reason": ""},
        HTTP_IDEMPOTENCY_KEY="h-1",
    )
    again = post(
        cs,
        tid,
        "handoffs/",
        {"to_department": "FIN", "reason": ""},
        HTTP_IDEMPOTENCY_KEY="h-1",
    )
    problem(again, 400, "reason_required")
    assert again.json() == first.json()


def test_an_expired_idempotency_key_never_opens_a_second_ticket(
    clients: Clients,
) -> None:
    """The kept response expires after 24 hours; the command's receipt,
    stored with its events, does not: the same request under the same key
    is answered from what was stored, a different one is refused."""
    cs = clients.agent("CS")
    first = cs.post("/api/v1/tickets/", OPEN, format="json", HTTP_IDEMPOTENCY_KEY="old")
    record = IdempotencyRecord.objects.get(key="old")
    IdempotencyRecord.objects.filter(pk=record.pk).update(expires_at=record.created_at)
    events = event_count()
    again = cs.post("/api/v1/tickets/", OPEN, format="json", HTTP_IDEMPOTENCY_KEY="old")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["customer_link"] is None
    assert again.json()["customer_link_redacted"] is True
    assert TicketSummary.objects.count() == 1 and event_count() == events
    IdempotencyRecord.objects.filter(key="old").update(expires_at=record.created_at)
    other = cs.post(
        "/api/v1/tickets/",
        {**OPEN, "subject": "Another problem"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="old",
    )
    problem(other, 422, "idempotency_key_reused")
    assert TicketSummary.objects.count() == 1 and event_count() == events


def test_etag_and_if_match_refuse_a_lost_update_with_412(clients: Clients) -> None:
    cs = clients.agent("CS")
    tid = open_via_api(clients)["id"]
    response = cs.get(f"/api/v1/tickets/{tid}/")
    assert response["ETag"] == '"1"'
    post(cs, tid, "notes/", {"body": "someone else"})
    events = event_count()
    problem(
        post(cs, tid, "priority/", {"priority": "high"}, HTTP_IF_MATCH='"1"'),
        412,
        "version_mismatch",
    )
    assert event_count() == events
    ok = post(cs, tid, "priority/", {"priority": "high"}, HTTP_IF_MATCH='"2"')
    assert ok.status_code == 200 and ok["ETag"] == '"3"'
    problem(
        post(cs, tid, "notes/", {"body": "x"}, HTTP_IF_MATCH="garbage"),
        400,
        "validation_failed",
    )


def test_a_concurrent_write_between_load_and_save_is_a_409_and_stores_nothing(
    clients: Clients, monkeypatch: pytest.MonkeyPatch, tickets_app: TicketsApplication
) -> None:
    tid = open_via_api(clients)["id"]
    app = get_tickets_application()
    original_load = app._load
    principal_cs = clients.org.agent("CS")

    def load_then_someone_else_writes(ticket_id: Any) -> Ticket:
        ticket = original_load(ticket_id)
        # Another process commits a note on the same ticket right now.
        other = TicketsApplication(env=dict(app.env))
        other.run_command(
            ticket_id,
            ADD_NOTE,
            body="racer",
            principal=principal_cs,
            at=ticket.modified_on,
        )
        other.close()
        return ticket

    monkeypatch.setattr(app, "_load", load_then_someone_else_writes)
    problem(
        post(clients.agent("CS"), tid, "notes/", {"body": "loser"}),
        409,
        "version_conflict",
    )
    monkeypatch.undo()
    bodies = [e.body for e in stored_events() if isinstance(e, Ticket.NoteAdded)]
    assert bodies == ["racer"]


def test_too_many_requests_get_429_with_retry_after(
    clients: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(TokenRateThrottle, "rate", "3/min", raising=False)
    cs = clients.agent("CS")
    statuses = [cs.get("/api/v1/departments/").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    response = cs.get("/api/v1/departments/")
    problem(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 61
    # Throttling is per token: another integration is unaffected.
    assert clients.agent("FIN").get("/api/v1/departments/").status_code == 200


# --- lists, filters, query counts -----------------------------------------------


def test_list_filters(clients: Clients) -> None:
    cs = clients.agent("CS")
    a = open_via_api(clients, priority="high", external_ref="E-A", customer_ref="C-A")[
        "id"
    ]
    b = open_via_api(clients, channel="phone", external_ref="E-B", scenario="LOST")[
        "id"
    ]
    post(cs, b, "handoffs/", {"to_department": "FIN", "reason": "r"})

    def ids(query: str) -> set[str]:
        response = cs.get(f"/api/v1/tickets/?{query}")
        assert response.status_code == 200, response.content
        return {t["id"] for t in response.json()["results"]}

    assert ids("") == {a, b}
    assert ids("priority=high") == {a}
    assert ids("department=FIN") == {b}
    assert ids("channel=phone") == {b}
    assert ids("scenario=lost") == {b}
    assert ids("customer_ref=C-A") == {a}
    assert ids("external_ref=E-B") == {b}
    assert ids("status=open") == {a, b}
    assert ids("breached=true") == set()
    assert ids("breached=false") == {a, b}
    assert ids("updated_since=2100-01-01T00:00:00Z") == set()


def test_cursor_pagination_is_stable(clients: Clients) -> None:
    created = {open_via_api(clients, customer_ref=f"C{n}")["id"] for n in range(5)}
    seen: list[str] = []
    url = "/api/v1/tickets/?limit=2"
    while url:
        page = clients.agent("CS").get(url).json()
        seen += [t["id"] for t in page["results"]]
        url = page["next"]
    assert len(seen) == 5 and set(seen) == created


@pytest.mark.parametrize("count", [2, 12])
def test_the_list_runs_a_fixed_number_of_queries(
    clients: Clients, django_assert_num_queries: Any, count: int
) -> None:
    for n in range(count):
        open_via_api(clients, customer_ref=f"C{n}")
    client = clients.agent("CS")
    client.get("/api/v1/tickets/")  # warm the token's last-used stamp
    # token, memberships (visibility), tickets page, clocks prefetch
    with django_assert_num_queries(4):
        response = client.get("/api/v1/tickets/")
    assert len(response.json()["results"]) == count


def test_the_detail_runs_a_fixed_number_of_queries(
    clients: Clients, django_assert_num_queries: Any
) -> None:
    tid = open_via_api(clients)["id"]
    for n in range(3):
        post(clients.agent("CS"), tid, "notes/", {"body": f"n{n}"})
    client = clients.agent("CS")
    client.get(f"/api/v1/tickets/{tid}/")
    # token, memberships, ticket, clocks, handoffs
    with django_assert_num_queries(5):
        assert client.get(f"/api/v1/tickets/{tid}/").status_code == 200


# --- event log, departments, clocks ------------------------------------------------


def test_the_event_log_pages_in_order_and_filters_by_type(clients: Clients) -> None:
    for n in range(3):
        tid = open_via_api(clients, customer_ref=f"C{n}")["id"]
        post(
            clients.agent("CS"),
            tid,
            "handoffs/",
            {"to_department": "FIN", "reason": "r"},
        )
    lead = clients.lead("CS")
    page = lead.get("/api/v1/events/?limit=4").json()
    assert len(page["events"]) == 4 and page["has_more"] is True
    rest = lead.get(f"/api/v1/events/?after={page['next_after']}&limit=100").json()
    positions = [e["position"] for e in page["events"] + rest["events"]]
    assert positions == sorted(positions) and len(positions) == 6
    assert rest["has_more"] is False
    handoffs = lead.get("/api/v1/events/?type=Ticket.HandedOff").json()["events"]
    assert [e["type"] for e in handoffs] == ["Ticket.HandedOff"] * 3
    # The short form integrations used before names came from topics.
    short = lead.get("/api/v1/events/?type=HandedOff").json()["events"]
    assert short == handoffs
    problem(lead.get("/api/v1/events/?type=Nope"), 400, "validation_failed")
    problem(lead.get("/api/v1/events/?after=-1"), 400, "validation_failed")
    problem(clients.agent("FIN").get("/api/v1/events/"), 403, "forbidden")


def test_departments_and_clocks(clients: Clients) -> None:
    departments = clients.agent("FIN").get("/api/v1/departments/").json()
    assert [d["code"] for d in departments] == ["CS", "FIN", "LOG", "PROD", "RISK"]
    response = clients.agent("CS").get("/api/v1/clocks/?state=running")
    assert response.status_code == 200 and response.json()["results"] == []
    problem(
        clients.agent("CS").get("/api/v1/clocks/?state=bogus"), 400, "validation_failed"
    )


def test_the_schema_and_docs_are_served(clients: Clients) -> None:
    schema = clients.agent("CS").get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for _, path in ENDPOINTS:
        assert path.replace("{id}", "{ticket_id}") in paths
    docs = clients.agent("CS").get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def test_the_remaining_commands_succeed_over_http(clients: Clients, org: Org) -> None:
    cs = clients.agent("CS")
    tid = open_via_api(clients)["id"]
    ticket = post(cs, tid, "assign/", {"agent_id": org.leads["CS"].pk}).json()
    assert (ticket["assignee_id"], ticket["assignee_name"]) == (
        str(org.leads["CS"].pk),
        "Cslead LeadsurnameCs",
    )
    assert (
        post(cs, tid, "scenario/", {"scenario": "chargeback"}).json()["scenario"]
        == "CHARGEBACK"
    )
    assert post(cs, tid, "notes/", {"body": "internal"}).status_code == 200
    assert post(cs, tid, "waiting/", {}).json()["status"] == "waiting"
    assert post(cs, tid, "waiting/end/", {}).json()["status"] == "open"
    post(cs, tid, "resolve/", {"resolution": "done", "root_cause": "customer_error"})
    rated = post(cs, tid, "ratings/", {"score": 2, "comment": "slow"}).json()
    assert rated["experience_score"] == 2
    assert post(cs, tid, "reopen/", {"reason": "not done"}).json()["status"] == "open"
    timeline = cs.get(f"/api/v1/tickets/{tid}/timeline/").json()
    assert "internal" not in json.dumps(timeline)
    clocks = cs.get("/api/v1/clocks/?department=CS").json()["results"]
    assert clocks == []  # no SLA policy in this organisation
