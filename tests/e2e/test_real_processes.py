"""Baton's promises kept by its real processes, not by the test settings'
stand-ins (inline tasks, in-memory cache and mail): two gunicorn servers,
the projector and the django-q2 worker run against a deployment of their
own (see ``conftest.baton``), on SQLite files or on PostgreSQL and Redis
as the suite runs."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.e2e.harness import Deployment, Response, http

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def open_ticket(baton: Deployment, url: str, subject: str) -> dict[str, Any]:
    opened = http(
        "POST",
        f"{url}/api/v1/tickets/",
        token=baton.seed["tokens"]["cs_agent"],
        body={
            "subject": subject,
            "customer_ref": "CUST-E2E",
            "channel": "web",
        },
    )
    assert opened.status == 201, opened.body
    return dict(opened.body)


def hand_off(baton: Deployment, url: str, ticket_id: str, to: str) -> Response:
    handed = http(
        "POST",
        f"{url}/api/v1/tickets/{ticket_id}/handoffs/",
        token=baton.seed["tokens"]["cs_agent"],
        body={"to_department": to, "reason": "Needs " + to},
    )
    assert handed.status == 200, handed.body
    return handed


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- webhooks -------------------------------------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """An integration's endpoint on loopback: records each POST, answers 204."""
    received: list[Received] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            received.append(Received(dict(self.headers), self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://127.0.0.1:{server.server_address[1]}/baton", received)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_webhook_is_delivered_once_signed_by_the_real_worker(
    baton: Deployment, receiver: Receiver
) -> None:
    """Subscription over the API, command over HTTP; the projector or the
    web process writes the delivery, the qcluster worker sends it: exactly
    one POST, signed as tickets/webhooks.py documents."""
    web_1, web_2 = baton.web
    lead = baton.seed["tokens"]["cs_lead"]
    created = http(
        "POST",
        f"{web_1}/api/v1/webhooks/",
        token=lead,
        body={
            "name": "E2E receiver",
            "url": receiver.url,
            "event_types": ["HandedOff"],
        },
    )
    assert created.status == 201, created.body
    secret = created.body["secret"]
    try:
        ticket_id = open_ticket(baton, web_2, "Parcel never arrived")["id"]
        hand_off(baton, web_1, ticket_id, "LOG")

        baton.wait_for("the webhook delivery", lambda: receiver.requests, timeout=60)
        [delivery] = receiver.requests
        headers = {k.lower(): v for k, v in delivery.headers.items()}
        timestamp = headers["x-baton-timestamp"]
        expected = hmac.new(
            secret.encode(), timestamp.encode() + b"." + delivery.body, hashlib.sha256
        ).hexdigest()
        assert hmac.compare_digest(headers["x-baton-signature"], "sha256=" + expected)
        assert abs(time.time() - int(timestamp)) < 120
        payload = json.loads(delivery.body)
        event = payload["event"]
        assert str(payload["delivery_id"]) == headers["x-baton-delivery"]
        assert (event["type"], event["ticket_id"], event["version"]) == (
            "Ticket.HandedOff",
            ticket_id,
            2,
        )
        assert event["data"]["reason"] == "Needs LOG"
        assert headers["x-baton-event-type"] == "Ticket.HandedOff"
        assert headers["x-baton-event-position"] == str(event["position"])

        def delivered() -> list[dict[str, Any]]:
            rows = baton.control("state")["deliveries"]
            return [r for r in rows if r["status"] == "delivered"]

        [row] = baton.wait_for("the delivery to be marked sent", delivered, 30, 1)
        assert (row["ticket_id"], row["attempts"], row["last_status_code"]) == (
            ticket_id,
            1,
            204,
        )
        # Marked delivered: nothing will send it again.
        assert len(receiver.requests) == 1
    finally:
        deleted = http(
            "DELETE", f"{web_1}/api/v1/webhooks/{created.body['id']}/", token=lead
        )
        assert deleted.status == 204, deleted.body


# --- throttling across processes ------------------------------------------------


def test_two_web_processes_share_one_throttle_count(baton: Deployment) -> None:
    """API_THROTTLE_RATE=30/min, one token, 60 concurrent requests spread
    evenly over two gunicorn servers: about 30 are served in all, not 30
    per process, and the rest are refused with 429."""
    token = baton.seed["tokens"]["throttled"]
    urls = [f"{baton.web[n % 2]}/api/v1/departments/" for n in range(60)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda url: (url, http("GET", url, token=token)), urls))

    served = [url for url, answer in answers if answer.status == 200]
    refused = [(url, answer) for url, answer in answers if answer.status == 429]
    assert len(served) + len(refused) == 60, [a.status for _, a in answers]
    assert all(answer.body["code"] == "throttled" for _, answer in refused)
    assert all(int(answer.headers["Retry-After"]) > 0 for _, answer in refused)
    # Both servers counted into the one budget.
    assert {url.split("/api")[0] for url in served} == set(baton.web)
    assert abs(len(served) - 30) <= 2, f"{len(served)} of 60 served at 30/min"


# --- the SLA sweep schedule -----------------------------------------------------


def breach_alerts(baton: Deployment, ticket_id: str) -> list[Message]:
    return [
        message
        for message in baton.messages()
        if f"Ticket id: {ticket_id}" in message.get_payload()
    ]


def test_a_breach_found_by_the_scheduled_sweep_sends_exactly_one_alert(
    baton: Deployment,
) -> None:
    """Finance must answer within 2 s (round the clock). A ticket handed to
    Finance over HTTP is overdue at once; the worker's scheduler runs the
    sweep that ``migrate`` scheduled; the breach is recorded and emailed to
    Finance exactly once, and the next sweep cycle sends nothing more."""
    web_1, web_2 = baton.web
    subject = f"Refund overdue {secrets.token_hex(3)}"
    ticket_id = open_ticket(baton, web_1, subject)["id"]
    ticket = hand_off(baton, web_2, ticket_id, "FIN").body
    [clock] = [c for c in ticket["clocks"] if c["department"] == "FIN"]
    started, due = instant(clock["started_at"]), instant(clock["due_at"])
    assert (clock["kind"], clock["state"], clock["target_seconds"]) == (
        "response",
        "running",
        2.0,
    )
    assert due - started == timedelta(seconds=2)
    assert instant(clock["warn_at"]) - started == timedelta(seconds=1.5)
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 0.5)

    schedule = baton.control("sweep_due")
    assert (schedule["schedule_type"], schedule["minutes"], schedule["repeats"]) == (
        "I",
        1,
        -1,
    )
    # The scheduler looks for due schedules every 30 s.
    alert = baton.wait_for(
        "the breach alert", lambda: breach_alerts(baton, ticket_id), 90, 0.5
    )[0]
    assert alert["Subject"] == f"[Baton] FIN: ticket breached its SLA: {subject}"
    assert sorted(a.strip() for a in alert["To"].split(",")) == [
        "fin_agent@example.com",
        "fin_lead@example.com",
    ]

    # Another sweep cycle, then nothing more is sent.
    baton.control("sweep_due")

    def two_sweeps() -> dict[str, Any] | None:
        state: dict[str, Any] = baton.control("state")
        done = [s for s in state["sweeps"] if s["stopped"]]
        return state if len(done) >= 2 else None

    state = baton.wait_for("the next sweep cycle", two_sweeps, 90, 1)
    sweeps = [(s["success"], s["result"]) for s in state["sweeps"]]
    assert [success for success, _ in sweeps] == [True, True], sweeps
    assert [result["breaches"] for _, result in sweeps] == [1, 0], sweeps
    assert [result["warnings"] for _, result in sweeps] == [0, 0], sweeps
    [notification] = [n for n in state["notifications"] if n["ticket_id"] == ticket_id]
    assert (notification["kind"], notification["attempts"]) == ("breach", 1)
    assert notification["sent_at"] is not None
    sent = [(m["Date"], m["Subject"]) for m in baton.messages()]
    # One email in all: the alert, once, and no warning.
    assert len(sent) == 1, sent

    # The projector process (the only follower of the scorecard group)
    # has projected the breach too.
    baton.wait_for(
        "the projector to reach the breach",
        lambda: (
            baton.control("state")["scorecard_positions"]["scorecard"]
            >= notification["position"]
        ),
        30,
        1,
    )
