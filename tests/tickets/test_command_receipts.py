"""An idempotency key never runs its command twice (issue 11, item 2).

A request that dies after its events were committed and before its
response was kept leaves an "in progress" record; once that is abandoned
(10 minutes), a retry runs the handler again. The command receipt stored
with the events makes the application answer that retry from what was
stored: exactly one event, and the original status.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine

from tests.helpers import Org, event_count, open_ticket, stored_events
from tests.tickets.api_helpers import Clients
from tickets import clock, services
from tickets.api import idempotency
from tickets.application import (
    CommandKeyReused,
    command_key,
    get_tickets_application,
)
from tickets.commands import ADD_NOTE, HAND_OFF
from tickets.customer import customer_link_issue
from tickets.domain import Ticket, TicketError
from tickets.eventstore import CommandKey
from tickets.models import IdempotencyRecord, TicketSummary

OPEN = {
    "subject": "Refund not received",
    "customer_ref": "CUST-9",
    "customer_name": "Dana Customer",
    "channel": "app",
}


class WorkerKilled(BaseException):
    """Stands for the web worker dying (kill -9): not an Exception, so no
    handler in the request path turns it into a response."""


@pytest.fixture
def clients(org: Org) -> Clients:
    return Clients(org)


@pytest.fixture
def crash_before_the_outcome_is_kept(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Kill the request after its handler stored the command and before
    the idempotency outcome is saved; returns a function that lets the
    next requests through again."""

    def die(record: Any, response: Any) -> None:
        raise WorkerKilled

    monkeypatch.setattr(idempotency, "_record_outcome", die)
    return lambda: monkeypatch.undo()


def _events_of_type(ticket_id: Any, kind: type) -> list[Any]:
    return [e for e in stored_events(ticket_id) if isinstance(e, kind)]


COMMANDS = [
    # (path under the ticket, body, event type, who, success status)
    ("handoffs/", {"to_department": "FIN", "reason": "Refund"}, Ticket.HandedOff),
    ("notes/", {"body": "Checked the order"}, Ticket.NoteAdded),
    ("responses/", {"body": "We are on it"}, Ticket.Responded),
]


@pytest.mark.parametrize(("path", "body", "kind"), COMMANDS)
def test_a_command_cut_off_after_its_events_is_never_stored_twice(
    clients: Clients,
    org: Org,
    crash_before_the_outcome_is_kept: Any,
    path: str,
    body: dict[str, Any],
    kind: type,
) -> None:
    ticket_id = open_ticket(org)
    cs = clients.agent("CS")
    url = f"/api/v1/tickets/{ticket_id}/{path}"
    before = len(_events_of_type(ticket_id, kind))
    with pytest.raises(WorkerKilled):
        cs.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    crash_before_the_outcome_is_kept()  # the next worker is healthy
    assert len(_events_of_type(ticket_id, kind)) == before + 1
    assert IdempotencyRecord.objects.get(key="k-1").status == 0
    events = event_count()

    soon = cs.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert soon.status_code == 409
    assert soon.json()["code"] == "idempotency_key_in_progress"

    with time_machine.travel(clock.now() + timedelta(minutes=11)):
        retry = cs.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert retry.status_code == 200, retry.content
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == str(ticket_id)
    assert event_count() == events
    assert len(_events_of_type(ticket_id, kind)) == before + 1
    # The retry's outcome is kept now: a further retry is a plain replay.
    assert IdempotencyRecord.objects.get(key="k-1").status == 200
    again = cs.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert event_count() == events


def test_an_open_cut_off_after_its_events_opens_one_ticket_and_its_link(
    clients: Clients, crash_before_the_outcome_is_kept: Any
) -> None:
    """The customer link is a database write of the same request: it rolls
    back with the lost response, and the retry issues it (nobody saw it)."""
    cs = clients.agent("CS")
    with pytest.raises(WorkerKilled):
        cs.post("/api/v1/tickets/", OPEN, format="json", HTTP_IDEMPOTENCY_KEY="o-1")
    crash_before_the_outcome_is_kept()
    opened = [e for e in stored_events() if isinstance(e, Ticket.Opened)]
    assert len(opened) == 1
    events = event_count()
    with time_machine.travel(clock.now() + timedelta(minutes=11)):
        retry = cs.post(
            "/api/v1/tickets/", OPEN, format="json", HTTP_IDEMPOTENCY_KEY="o-1"
        )
    assert retry.status_code == 201, retry.content
    assert retry.json()["id"] == str(opened[0].originator_id)
    assert retry.json()["customer_link"].startswith("http")
    assert event_count() == events
    assert TicketSummary.objects.count() == 1


def test_a_public_reply_cut_off_after_its_events_is_stored_once(
    org: Org, crash_before_the_outcome_is_kept: Any
) -> None:
    from rest_framework.test import APIClient

    ticket_id = open_ticket(org)
    services.ticket_wait_on_customer(
        principal=org.agent("CS"), ticket_id=ticket_id, reason="Order number"
    )
    token = customer_link_issue(ticket_id=ticket_id, issued_by="test")
    url = f"/api/v1/public/timeline/{token}/replies/"
    customer = APIClient()
    with pytest.raises(WorkerKilled):
        customer.post(
            url, {"body": "It is 42"}, format="json", HTTP_IDEMPOTENCY_KEY="r"
        )
    crash_before_the_outcome_is_kept()
    with time_machine.travel(clock.now() + timedelta(minutes=11)):
        retry = customer.post(
            url, {"body": "It is 42"}, format="json", HTTP_IDEMPOTENCY_KEY="r"
        )
    assert retry.status_code == 200, retry.content
    replies = _events_of_type(ticket_id, Ticket.CustomerReplied)
    assert [e.body for e in replies] == ["It is 42"]


def test_a_retry_with_another_body_after_the_abandon_window_is_refused(
    clients: Clients, org: Org, crash_before_the_outcome_is_kept: Any
) -> None:
    ticket_id = open_ticket(org)
    cs = clients.agent("CS")
    url = f"/api/v1/tickets/{ticket_id}/notes/"
    with pytest.raises(WorkerKilled):
        cs.post(url, {"body": "first"}, format="json", HTTP_IDEMPOTENCY_KEY="n")
    crash_before_the_outcome_is_kept()
    events = event_count()
    with time_machine.travel(clock.now() + timedelta(minutes=11)):
        other = cs.post(
            url, {"body": "second"}, format="json", HTTP_IDEMPOTENCY_KEY="n"
        )
    assert other.status_code == 422
    assert other["Content-Type"] == "application/problem+json"
    assert other.json()["code"] == "idempotency_key_reused"
    # The refusal is kept like any answer: a retry is refused again at
    # once, not told the key is still in progress.
    assert IdempotencyRecord.objects.get(key="n").status == 422
    again = cs.post(url, {"body": "second"}, format="json", HTTP_IDEMPOTENCY_KEY="n")
    assert again.status_code == 422
    assert again.json()["code"] == "idempotency_key_reused"
    assert event_count() == events
    assert [e.body for e in _events_of_type(ticket_id, Ticket.NoteAdded)] == ["first"]


def test_a_webhook_subscription_cut_off_before_its_response_is_not_kept(
    clients: Clients, org: Org, crash_before_the_outcome_is_kept: Any
) -> None:
    """Writes that are not events commit with the kept response or not at
    all, so the retry creates exactly one subscription."""
    from tickets.models import WebhookSubscription

    lead = clients.lead("CS")
    body = {"name": "CRM", "url": "https://93.184.216.34/hook"}
    with pytest.raises(WorkerKilled):
        lead.post("/api/v1/webhooks/", body, format="json", HTTP_IDEMPOTENCY_KEY="w")
    crash_before_the_outcome_is_kept()
    assert WebhookSubscription.objects.count() == 0
    with time_machine.travel(clock.now() + timedelta(minutes=11)):
        retry = lead.post(
            "/api/v1/webhooks/", body, format="json", HTTP_IDEMPOTENCY_KEY="w"
        )
    assert retry.status_code == 201, retry.content
    assert WebhookSubscription.objects.count() == 1


# -- the application under a command key ---------------------------------------


def _key(name: str, fingerprint: str = "f") -> CommandKey:
    return CommandKey(id=name, fingerprint=fingerprint)


def test_a_command_key_runs_its_command_once(org: Org) -> None:
    ticket_id = open_ticket(org)
    app = get_tickets_application()
    principal = org.agent("CS")
    with command_key(_key("note")) as scope:
        first = app.run_command(
            ticket_id, ADD_NOTE, body="once", principal=principal, at=clock.now()
        )
    assert not first.replayed and not scope.replayed
    events = event_count()
    with command_key(_key("note")) as scope:
        second = app.run_command(
            ticket_id,
            ADD_NOTE,
            body="once",
            principal=principal,
            at=clock.now(),
            expected_version=first.version - 1,  # stale: checked after the key
        )
    assert scope.replayed and second.replayed
    assert (second.ticket_id, second.version, second.position) == (
        first.ticket_id,
        first.version,
        first.position,
    )
    assert second.event_types == ("Ticket.NoteAdded",)
    assert event_count() == events
    with pytest.raises(CommandKeyReused), command_key(_key("note", "other")):
        app.run_command(
            ticket_id, ADD_NOTE, body="different", principal=principal, at=clock.now()
        )
    assert event_count() == events


def test_a_rejected_command_stores_no_receipt(org: Org) -> None:
    """A refusal stores nothing, so the key is free for a corrected retry."""
    ticket_id = open_ticket(org)
    app = get_tickets_application()
    events = event_count()
    with pytest.raises(TicketError), command_key(_key("bad")):
        app.run_command(
            ticket_id,
            HAND_OFF,
            to=services.department_ref("CS"),
            reason="to myself",
            principal=org.agent("CS"),
            at=clock.now(),
        )
    assert event_count() == events
    assert app.recorder.select_receipt("bad") is None  # type: ignore[attr-defined]
    with command_key(_key("bad")):
        app.run_command(
            ticket_id,
            HAND_OFF,
            to=services.department_ref("FIN"),
            reason="refund",
            principal=org.agent("CS"),
            at=clock.now(),
        )
    assert event_count() == events + 1


def test_two_racing_retries_store_the_command_once(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both retries pass the receipt check before either saves: the second
    save fails on the receipt's key, atomically with its events, and is
    answered from the first one's receipt."""
    app = get_tickets_application()
    principal = org.agent("CS")
    with command_key(_key("open")):
        first = app.open_ticket(
            principal=principal,
            front_line=services.department_ref("CS"),
            at=clock.now(),
            subject="Refund",
            description="",
            customer_ref="C-1",
            channel="web",
        )
    events = event_count()
    looked_up = app.recorder.select_receipt  # type: ignore[attr-defined]
    calls: list[str] = []

    def raced(command_id: str) -> Any:
        calls.append(command_id)
        # The first look-up happened before the other retry had saved.
        return None if len(calls) == 1 else looked_up(command_id)

    monkeypatch.setattr(app.recorder, "select_receipt", raced)
    with command_key(_key("open")) as scope:
        second = app.open_ticket(
            principal=principal,
            front_line=services.department_ref("CS"),
            at=clock.now(),
            subject="Refund",
            description="",
            customer_ref="C-1",
            channel="web",
        )
    assert calls == ["open", "open"]
    assert scope.replayed and second.ticket_id == first.ticket_id
    assert event_count() == events


def test_a_dispute_replayed_from_its_receipt_returns_the_same_dispute_id(
    org: Org,
) -> None:
    ticket_id = open_ticket(org)
    services.ticket_hand_off(
        principal=org.agent("CS"), ticket_id=ticket_id, to_department="FIN", reason="r"
    )
    services.ticket_respond(principal=org.agent("FIN"), ticket_id=ticket_id, body="ok")
    services.ticket_resolve(
        principal=org.agent("FIN"),
        ticket_id=ticket_id,
        resolution="Refunded",
        root_cause="process",
    )
    stints = get_tickets_application().get_ticket(ticket_id).stints
    fin_stint = next(s.id for s in stints.values() if s.department == "FIN")
    services.ticket_rate_handoff(
        principal=org.agent("CS"),
        ticket_id=ticket_id,
        handoff_id=fin_stint,
        score=1,
        comment="",
    )
    with command_key(_key("dispute")):
        first = services.ticket_dispute(
            principal=org.lead("FIN"),
            ticket_id=ticket_id,
            handoff_id=fin_stint,
            subject="rating",
            reason="Rated the wrong team",
        )
    with command_key(_key("dispute")):
        again = services.ticket_dispute(
            principal=org.lead("FIN"),
            ticket_id=ticket_id,
            handoff_id=fin_stint,
            subject="rating",
            reason="Rated the wrong team",
        )
    assert again.replayed and again.detail == first.detail
    assert len(_events_of_type(ticket_id, Ticket.DisputeOpened)) == 1


def test_no_transaction_is_open_while_a_webhook_host_is_resolved(
    clients: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Resolving the receiver's host is a network call that can take many
    seconds: it must not run inside the transaction that keeps the
    response (on SQLite that transaction holds the database's write lock)."""
    import socket

    from django.db import connection

    from tickets import outbound

    baseline = list(connection.savepoint_ids)  # the test's own transaction
    seen: list[list[str]] = []
    real = socket.getaddrinfo

    def resolving(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(list(connection.savepoint_ids))
        return real("93.184.216.34", port, *args, **kwargs)

    monkeypatch.setattr(outbound.socket, "getaddrinfo", resolving)
    response = clients.lead("CS").post(
        "/api/v1/webhooks/",
        {"name": "CRM", "url": "https://crm.example.com/hook"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="dns",
    )
    assert response.status_code == 201, response.content
    assert seen and all(ids == baseline for ids in seen)
