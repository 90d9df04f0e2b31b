"""Regression tests for problems found in review: hostile input, replay
scope, throttles behind proxies, who may change links and ratings, and
webhook redirects and ownership."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from rest_framework.test import APIClient

from departments.models import Membership
from departments.services import user_groups_sync
from tests.helpers import Org, event_count, open_ticket
from tests.tickets.api_helpers import token_client
from tests.tickets.test_webhooks import Receiver, subscribe
from tickets import services, webhooks
from tickets.models import TicketSummary, WebhookDelivery


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Run ``handler`` on 127.0.0.1 for the block; yields its hook URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def ticket_with_link(org: Org) -> tuple[Any, str]:
    result = services.ticket_open(
        principal=org.agent("CS"), subject="S", customer_ref="C-1", channel="web"
    )
    return result.ticket_id, result.detail["customer_token"]


@pytest.mark.parametrize("text", ["nul\x00byte", "bell\x07", "esc\x1b[31m"])
def test_control_characters_are_refused_everywhere_and_nothing_is_stored(
    org: Org, text: str
) -> None:
    tid, token = ticket_with_link(org)
    before = event_count()
    page = Client().post(f"/t/{token}/", {"action": "reply", "body": text})
    assert page.status_code == 400 and b"control characters" in page.content
    api = token_client(org.agents["CS"]).post(
        f"/api/v1/tickets/{tid}/notes/", {"body": text}, format="json"
    )
    assert api.status_code == 400
    assert api.json()["code"] in ("invalid_characters", "validation_failed")
    admin = Client()
    admin.force_login(org.agents["CS"])
    version = TicketSummary.objects.get(pk=tid).version
    response = admin.post(
        f"/admin/tickets/queueticket/{tid}/change/",
        {"action": "respond", "body": text, "version": version},
    )
    assert response.status_code == 400
    assert event_count() == before
    # Ordinary line breaks and tabs are text.
    assert (
        Client()
        .post(f"/t/{token}/", {"action": "reply", "body": "line one\n\tline two"})
        .status_code
        == 302
    )


def test_forged_cursors_big_bodies_and_huge_positions_are_problems_not_500s(
    org: Org,
) -> None:
    open_ticket(org)
    cs = token_client(org.leads["CS"])
    cursor = quote(base64.b64encode(b"p=not-a-date").decode())
    forged = cs.get(f"/api/v1/tickets/?cursor={cursor}")
    assert forged.status_code == 400 and forged.json()["code"] == "invalid_request"
    huge = cs.post(
        "/api/v1/tickets/",
        b'{"subject": "' + b"x" * 3_000_000 + b'"}',
        content_type="application/json",
    )
    assert huge.status_code == 413 and huge.json()["code"] == "payload_too_large"
    after = cs.get(f"/api/v1/events/?after={10**20}")
    assert after.status_code == 400 and after.json()["code"] == "validation_failed"


def test_customer_idempotency_keys_belong_to_one_link_and_need_a_live_link(
    org: Org,
) -> None:
    tid_a, token_a = ticket_with_link(org)
    _, token_b = ticket_with_link(org)
    customer = APIClient()
    first = customer.post(
        f"/api/v1/public/timeline/{token_a}/replies/",
        {"body": "hi"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="same",
    )
    other = customer.post(
        f"/api/v1/public/timeline/{token_b}/replies/",
        {"body": "yo"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="same",
    )
    assert (first.status_code, other.status_code) == (200, 200)
    from tickets.customer import customer_link_revoke

    customer_link_revoke(ticket_id=tid_a)
    replay = customer.post(
        f"/api/v1/public/timeline/{token_a}/replies/",
        {"body": "hi"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="same",
    )
    assert replay.status_code == 404


def test_forwarded_for_headers_cannot_dodge_throttles_without_trusted_proxies(
    org: Org, settings: Any
) -> None:
    settings.BATON_CUSTOMER_LINK_FAILURES = 3
    for n in range(3):
        Client(HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").get(f"/t/guess-{n}/")
    blocked = Client(HTTP_X_FORWARDED_FOR="10.9.9.9").get("/t/another-guess/")
    assert blocked.status_code == 429


def test_behind_a_trusted_proxy_each_client_is_counted_on_its_own(
    org: Org, settings: Any
) -> None:
    settings.BATON_CUSTOMER_LINK_FAILURES = 3
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    _, token = ticket_with_link(org)
    guesser = Client(HTTP_X_FORWARDED_FOR="203.0.113.66")
    for n in range(3):
        guesser.get(f"/t/guess-{n}/")
    assert guesser.get("/t/guess-4/").status_code == 429
    # Another client behind the same proxy is not counted with the guesser.
    other = Client(HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert other.get("/t/guess-5/").status_code == 404
    assert other.get(f"/t/{token}/").status_code == 200


def test_a_department_that_handed_the_ticket_on_cannot_change_the_customers_link(
    org: Org,
) -> None:
    tid = open_ticket(org)
    services.ticket_hand_off(
        principal=org.agent("CS"), ticket_id=tid, to_department="FIN", reason="r"
    )
    services.ticket_hand_off(
        principal=org.agent("FIN"), ticket_id=tid, to_department="LOG", reason="r"
    )
    fin = token_client(org.agents["FIN"])
    assert (
        fin.delete(f"/api/v1/tickets/{tid}/customer-link/").json()["code"]
        == "not_permitted"
    )
    assert (
        fin.post(f"/api/v1/tickets/{tid}/customer-link/").json()["code"]
        == "not_permitted"
    )
    assert (
        token_client(org.agents["LOG"])
        .post(f"/api/v1/tickets/{tid}/customer-link/")
        .status_code
        == 201
    )
    assert (
        token_client(org.agents["CS"])
        .delete(f"/api/v1/tickets/{tid}/customer-link/")
        .status_code
        == 204
    )


def test_a_department_cannot_rate_itself(org: Org) -> None:
    tid, token = ticket_with_link(org)
    services.ticket_hand_off(
        principal=org.agent("CS"), ticket_id=tid, to_department="FIN", reason="r"
    )
    fin_stint = TicketSummary.objects.get(pk=tid).current_stint_id
    services.ticket_hand_off(
        principal=org.agent("FIN"), ticket_id=tid, to_department="LOG", reason="r"
    )
    before = event_count()
    own = token_client(org.agents["FIN"]).post(
        f"/api/v1/tickets/{tid}/ratings/",
        {"handoff_id": str(fin_stint), "score": 5},
        format="json",
    )
    assert own.status_code == 403 and own.json()["code"] == "not_permitted"
    assert event_count() == before
    customer = APIClient().post(
        f"/api/v1/public/timeline/{token}/ratings/",
        {"handoff_id": str(fin_stint), "score": 2},
        format="json",
    )
    assert customer.status_code == 200


def test_a_redirecting_receiver_is_a_failed_delivery_and_is_not_followed(
    org: Org, settings: Any
) -> None:
    settings.BATON_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]  # the receiver

    hits: list[str] = []

    class Redirector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            hits.append(f"POST {self.path}")
            self.send_response(302)
            self.send_header("Location", "/login")
            self.end_headers()

        def do_GET(self) -> None:
            hits.append(f"GET {self.path}")
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    with serving(Redirector) as url:
        from tickets.models import WebhookSubscription

        WebhookSubscription.objects.create(
            name="R",
            owner=org.leads["CS"],
            secret="s",
            event_types=["Opened"],
            url=url,
        )
        open_ticket(org)
        delivery = WebhookDelivery.objects.get()
        assert webhooks.deliver(delivery.pk) == "pending"
        delivery.refresh_from_db()
        assert delivery.last_status_code == 302
        assert hits == ["POST /hook"]


def test_subscriptions_stop_when_the_owner_loses_access(
    org: Org, settings: Any
) -> None:
    settings.BATON_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]  # the receiver
    receiver = Receiver()
    try:
        subscription = subscribe(org, receiver, ["Opened", "NoteAdded"])
        tid = open_ticket(org)
        Membership.objects.filter(user=org.leads["CS"]).update(role="agent")
        user_groups_sync(org.leads["CS"])
        pending = WebhookDelivery.objects.get()
        assert webhooks.deliver(pending.pk) == "failed"
        services.ticket_add_note(
            principal=org.agent("CS"), ticket_id=tid, body="internal"
        )
        assert WebhookDelivery.objects.count() == 1  # nothing new for a demoted owner
        assert receiver.requests == []
        assert subscription.pk
    finally:
        receiver.close()


def test_webhook_urls_must_be_http(org: Org) -> None:
    lead = token_client(org.leads["CS"])
    response = lead.post(
        "/api/v1/webhooks/", {"name": "x", "url": "ftp://example.com/x"}, format="json"
    )
    assert (
        response.status_code == 400 and response.json()["code"] == "validation_failed"
    )


def test_housekeeping_purges_expired_idempotency_records(org: Org) -> None:
    from datetime import timedelta

    from tickets import clock
    from tickets.models import IdempotencyRecord
    from tickets.tasks import housekeeping

    token_client(org.agents["CS"]).post(
        "/api/v1/tickets/",
        {"subject": "S", "customer_ref": "C", "channel": "web"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="old",
    )
    assert housekeeping()["idempotency_records_purged"] == 0
    IdempotencyRecord.objects.update(expires_at=clock.now() - timedelta(seconds=1))
    assert housekeeping()["idempotency_records_purged"] == 1


def test_housekeeping_deletes_uploads_nobody_attached_within_a_day(
    org: Org, _attachment_storage: Path
) -> None:
    from datetime import timedelta

    import time_machine

    from tickets import attachments, clock, services
    from tickets.models import Attachment
    from tickets.tasks import housekeeping

    principal = org.agent("CS")
    uploader = attachments.uploader_key(principal)
    kept = attachments.store(b"attached", filename="kept.txt", uploader=uploader)
    stale = attachments.store(b"forgotten", filename="stale.txt", uploader=uploader)
    services.ticket_open(
        principal=principal,
        subject="S",
        customer_ref="C",
        channel="web",
        attachments=[kept.id],
    )
    with time_machine.travel(clock.now() + timedelta(hours=23)):
        assert housekeeping()["pending_uploads_purged"] == 0
    with time_machine.travel(clock.now() + timedelta(hours=25)):
        assert housekeeping()["pending_uploads_purged"] == 1
    assert list(Attachment.objects.values_list("id", flat=True)) == [kept.id]
    files = [p.name for p in _attachment_storage.rglob("*") if p.is_file()]
    assert files == [kept.storage_name.rsplit("/", 1)[-1]]
    assert stale.storage_name.rsplit("/", 1)[-1] not in files


def test_guessing_api_tokens_is_throttled(org: Org) -> None:
    from tickets.api.authentication import MAX_FAILURES

    guesser = APIClient(REMOTE_ADDR="203.0.113.9")
    guesser.credentials(HTTP_AUTHORIZATION="Token wrong")
    codes = [
        guesser.get("/api/v1/departments/").status_code for _ in range(MAX_FAILURES)
    ]
    assert set(codes) == {401}
    assert guesser.get("/api/v1/departments/").status_code == 429
    assert token_client(org.agents["CS"]).get("/api/v1/departments/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_delivery_outliving_its_lease_does_not_overwrite_the_next_claim(
    settings: Any,
) -> None:
    """While the first worker's send is in flight, another worker re-claims
    the delivery and records it delivered; the slow worker's outcome (a
    failure) must not overwrite that."""
    from datetime import timedelta

    from django.db import connection

    from tests import helpers
    from tickets import clock

    settings.BATON_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]  # the receiver
    org = helpers.make_org()

    class SlowThenReclaimed(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            delivery_id = int(self.headers["X-Baton-Delivery"])
            WebhookDelivery.objects.filter(pk=delivery_id).update(
                status="delivered",
                attempts=7,
                next_attempt_at=clock.now() + timedelta(hours=1),
            )
            connection.close()
            self.send_response(500)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    with serving(SlowThenReclaimed) as url:
        from tickets.models import WebhookSubscription

        WebhookSubscription.objects.create(
            name="Slow",
            owner=org.leads["CS"],
            secret="s",
            event_types=["Opened"],
            url=url,
        )
        helpers.open_ticket(org)
        delivery = WebhookDelivery.objects.get()
        webhooks.deliver(delivery.pk)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("delivered", 7)
