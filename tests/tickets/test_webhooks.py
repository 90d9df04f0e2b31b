"""Webhooks, delivered to a real HTTP server on 127.0.0.1 (allowed here
through ``BATON_WEBHOOK_ALLOWED_NETWORKS``; test_network_security.py shows
the same URLs refused without it)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User

from tests.helpers import Org, open_ticket
from tests.tickets.api_helpers import Clients
from tickets import clock, services, webhooks
from tickets.application import get_tickets_application
from tickets.models import WebhookDelivery, WebhookSubscription
from tickets.projection_runner import catch_up, projection_group


class Receiver:
    """A local endpoint answering with the planned status codes, then 200."""

    def __init__(self) -> None:
        self.plan: list[int] = []
        self.requests: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(
                    {"headers": dict(self.headers), "body": body, "path": self.path}
                )
                status = receiver.plan.pop(0) if receiver.plan else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def _loopback_receivers_allowed(settings: Any) -> None:
    """The receivers listen on loopback, which webhooks refuse unless the
    operator allows it (as for an on-premises receiver)."""
    settings.BATON_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def subscribe(
    org: Org, receiver: Receiver, event_types: list[str] | None = None
) -> WebhookSubscription:
    return WebhookSubscription.objects.create(
        name="CRM",
        owner=org.leads["CS"],
        url=receiver.url,
        event_types=event_types or [],
        secret="s3cret-for-tests",
    )


def test_deliveries_are_signed_and_the_signature_verifies(
    org: Org, receiver: Receiver
) -> None:
    subscribe(org, receiver, ["HandedOff"])
    tid = open_ticket(org)
    services.ticket_hand_off(
        principal=org.agent("CS"), ticket_id=tid, to_department="FIN", reason="Refund"
    )
    [delivery] = WebhookDelivery.objects.all()  # only the subscribed type
    assert webhooks.deliver(delivery.pk) == "delivered"

    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    expected = (
        "sha256="
        + hmac.new(
            b"s3cret-for-tests",
            headers["X-Baton-Timestamp"].encode() + b"." + body,
            hashlib.sha256,
        ).hexdigest()
    )
    assert hmac.compare_digest(headers["X-Baton-Signature"], expected)
    assert headers["X-Baton-Delivery"] == str(delivery.pk)
    assert headers["X-Baton-Event-Type"] == "Ticket.HandedOff"
    payload = json.loads(body)
    assert payload["delivery_id"] == delivery.pk
    assert payload["event"]["type"] == "Ticket.HandedOff"
    assert payload["event"]["data"]["to_department"] == "FIN"
    assert payload["event"]["position"] == int(headers["X-Baton-Event-Position"])
    # A tampered body no longer matches.
    forged = hmac.new(
        b"s3cret-for-tests",
        headers["X-Baton-Timestamp"].encode() + b"." + body.replace(b"FIN", b"LOG"),
        hashlib.sha256,
    ).hexdigest()
    assert not hmac.compare_digest(headers["X-Baton-Signature"], "sha256=" + forged)


def test_a_failing_receiver_is_retried_with_backoff_until_it_accepts(
    org: Org, receiver: Receiver
) -> None:
    subscribe(org, receiver, ["Opened"])
    receiver.plan = [500, 503]
    start = clock.now()
    with time_machine.travel(start, tick=False):
        open_ticket(org)
        [delivery] = WebhookDelivery.objects.all()
        assert webhooks.deliver(delivery.pk) == "pending"
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status_code) == (1, 500)
    assert delivery.next_attempt_at == start + timedelta(seconds=30)
    with time_machine.travel(start + timedelta(seconds=10), tick=False):
        assert webhooks.deliver_due() == 0  # not due yet
    with time_machine.travel(start + timedelta(seconds=31), tick=False):
        assert webhooks.deliver_due() == 1
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status_code) == (2, 503)
    assert delivery.next_attempt_at == start + timedelta(seconds=91)
    with time_machine.travel(start + timedelta(seconds=92), tick=False):
        assert webhooks.deliver_due() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        "delivered",
        3,
        200,
    )
    assert [r["headers"]["X-Baton-Delivery"] for r in receiver.requests] == [
        str(delivery.pk)
    ] * 3


def test_a_delivery_gives_up_after_the_last_attempt(
    org: Org, receiver: Receiver
) -> None:
    subscribe(org, receiver, ["Opened"])
    receiver.plan = [500] * webhooks.MAX_ATTEMPTS
    open_ticket(org)
    [delivery] = WebhookDelivery.objects.all()
    now = clock.now()
    for _ in range(webhooks.MAX_ATTEMPTS):
        now += timedelta(hours=7)
        with time_machine.travel(now, tick=False):
            webhooks.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", webhooks.MAX_ATTEMPTS)
    assert webhooks.delivery_replay(delivery_ids=[delivery.pk]) == 1
    assert webhooks.deliver(delivery.pk) == "delivered"


def test_no_duplicate_delivery_after_a_projector_or_worker_restart(
    org: Org, receiver: Receiver
) -> None:
    subscribe(org, receiver)
    tid = open_ticket(org)
    services.ticket_add_note(principal=org.agent("CS"), ticket_id=tid, body="n")
    assert WebhookDelivery.objects.count() == 2
    # The projector restarts and follows the log again from its position.
    assert catch_up(get_tickets_application(), projection_group("webhooks")) == 0
    assert WebhookDelivery.objects.count() == 2
    # One worker claims a delivery; another (or a restarted one) cannot send
    # it while the lease holds.
    first = WebhookDelivery.objects.order_by("position").first()
    assert first is not None
    assert webhooks._claim(first.pk, clock.now()) is not None
    assert webhooks.deliver(first.pk) == "pending"
    assert receiver.requests == []
    # After the lease, the delivery is sent once; later sweeps send nothing.
    with time_machine.travel(
        clock.now() + webhooks.LEASE + timedelta(seconds=1), tick=False
    ):
        assert webhooks.deliver_due() == 2
        assert webhooks.deliver_due() == 0
    sent = [r["headers"]["X-Baton-Delivery"] for r in receiver.requests]
    assert sorted(sent) == sorted(str(d.pk) for d in WebhookDelivery.objects.all())


def test_deliveries_are_sent_by_a_worker_after_commit(
    org: Org, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    subscribe(org, receiver, ["Opened"])
    with django_capture_on_commit_callbacks(execute=True):
        open_ticket(org)
    # Q_SYNC runs the enqueued task at once in tests.
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get().status == "delivered"


def test_an_unreachable_receiver_is_recorded_and_retried(org: Org) -> None:
    WebhookSubscription.objects.create(
        name="Down", owner=org.leads["CS"], url="http://127.0.0.1:9/nothing", secret="x"
    )
    open_ticket(org)
    delivery = WebhookDelivery.objects.get()
    assert webhooks.deliver(delivery.pk) == "pending"
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.last_status_code is None
    # A generic failure: the socket's own words would make a port scanner.
    assert delivery.last_error == "connection failed"


def test_subscriptions_over_the_api(org: Org, receiver: Receiver) -> None:
    clients = Clients(org)
    lead = clients.lead("CS")
    created = lead.post(
        "/api/v1/webhooks/",
        {"name": "CRM", "url": receiver.url, "event_types": ["HandedOff"]},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    # The short form is accepted and stored under its public name.
    assert len(body["secret"]) > 20 and body["event_types"] == ["Ticket.HandedOff"]
    listed = lead.get("/api/v1/webhooks/").json()
    assert [w["id"] for w in listed] == [body["id"]] and "secret" not in listed[0]
    bad = lead.post(
        "/api/v1/webhooks/",
        {"name": "x", "url": receiver.url, "event_types": ["Nope"]},
        format="json",
    )
    assert bad.status_code == 400 and bad.json()["code"] == "validation_failed"
    agent = clients.agent("FIN")
    assert agent.get("/api/v1/webhooks/").json()["code"] == "forbidden"
    assert agent.delete(f"/api/v1/webhooks/{body['id']}/").status_code == 403
    assert lead.delete(f"/api/v1/webhooks/{body['id']}/").status_code == 204
    assert lead.delete(f"/api/v1/webhooks/{body['id']}/").status_code == 404
    assert not WebhookSubscription.objects.exists()
    assert User.objects.filter(webhooks__isnull=False).count() == 0
