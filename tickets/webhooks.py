"""Webhooks: ticket events pushed to integrations' URLs.

* Deliveries are produced from the event log by a tracked projection
  (group ``webhooks``): exactly one row per (subscription, event), written
  in the same transaction as the projection's position, so none is lost or
  doubled, even across projector restarts.
* django-q2 workers send them, never a web request. A worker claims a
  delivery with a short lease (a conditional UPDATE), so two workers never
  send the same delivery at once; a worker that dies mid-send leaves the
  lease to expire and the delivery is retried (at least once: receivers
  de-duplicate on ``X-Baton-Delivery``).
* Each request is signed: ``X-Baton-Signature: sha256=<hex>`` is the
  HMAC-SHA256 of ``"<X-Baton-Timestamp>.<body>"`` with the subscription's
  secret. Failures retry with exponential backoff; after the last attempt
  the delivery is marked failed. Any delivery can be replayed.
* Requests go through the SSRF guard (:mod:`tickets.outbound`): the host
  is resolved once, every address checked, and the connection made to a
  checked address; redirects are not followed. Leads see a generic error
  ("connection failed", "timed out", "HTTP 503", "address not allowed");
  the socket's own message is only logged.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
from datetime import datetime, timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_noop

from tickets import clock, outbound
from tickets.domain import Ticket
from tickets.event_format import event_dict, event_name
from tickets.models import WebhookDelivery, WebhookSubscription
from tickets.projection_runner import Projection, ProjectionSession

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=6)
LEASE = timedelta(seconds=60)
TIMEOUT_SECONDS = 10
MAX_RESPONSE_BYTES = 64 * 1024


def event_payload(event: Any, position: int) -> dict[str, Any]:
    """The JSON document describing one event (also used by the API)."""
    payload: dict[str, Any] = json.loads(
        json.dumps(event_dict(event, position), cls=DjangoJSONEncoder)
    )
    return payload


def sign(secret: str, timestamp: str, body: bytes) -> str:
    message = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def backoff(attempts: int) -> timedelta:
    """Delay before the next attempt after ``attempts`` failures:
    30 s, 1 min, 2 min, 4 min... capped at 6 h."""
    delay: timedelta = FIRST_RETRY * (2 ** max(0, attempts - 1))
    return min(delay, MAX_RETRY)


class WebhookDeliveryProjection(Projection):
    """One pending :class:`WebhookDelivery` per matching subscription and
    event. An outbox: never rebuilt (that would send history again)."""

    name = "webhook_delivery"
    models = (WebhookDelivery,)
    rebuildable = False

    def process(self, event: Any, position: int, session: ProjectionSession) -> None:
        if not isinstance(event, Ticket.Event | Ticket.Opened):
            return
        event_type = event_name(event)
        subscriptions = [s for s in self._subscriptions() if s.wants(event_type)]
        if not subscriptions:
            return
        payload = event_payload(event, position)
        for subscription in subscriptions:
            session.append(
                WebhookDelivery(
                    subscription=subscription,
                    position=position,
                    event_type=event_type,
                    ticket_id=event.originator_id,
                    payload=payload,
                    next_attempt_at=clock.now(),
                )
            )

        def enqueue() -> None:
            from django_q.tasks import async_task

            async_task("tickets.tasks.deliver_webhooks_for_event", position)

        transaction.on_commit(enqueue)

    def _subscriptions(self) -> list[WebhookSubscription]:
        # Read per event: subscriptions change rarely and batches are small.
        return [
            s
            for s in WebhookSubscription.objects.filter(
                is_active=True, owner__is_active=True
            ).select_related("owner")
            if owner_may_subscribe(s.owner)
        ]


def owner_may_subscribe(owner: Any) -> bool:
    """A subscription sees every ticket's events: only while its owner is
    an active superuser or front-line lead."""
    from tickets.selectors import sees_everything

    return bool(owner.is_active) and sees_everything(owner)


def _send(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    """POST ``body`` to ``url`` through the SSRF guard; returns the status
    code (None when there is no HTTP answer) and the error a lead may see.

    The error names no address and no socket error (that would make the
    delivery log a port scanner); the specifics are logged. A redirect is
    a failed delivery and is not followed: following it would re-send the
    signed payload elsewhere.
    """
    try:
        target = outbound.parse_url(url)
        connection = outbound.pinned_connection(target, timeout=TIMEOUT_SECONDS)
        try:
            connection.request("POST", target.path, body=body, headers=headers)
            response = connection.getresponse()
            response.read(MAX_RESPONSE_BYTES)
            status_code = response.status
        finally:
            connection.close()
    except outbound.DestinationRefused as refused:
        if refused.code == outbound.UNRESOLVABLE_CODE:
            logger.info("Webhook to %s: %s", url, refused.detail)
            return None, gettext_noop("host not found")
        logger.warning("Webhook to %s refused: %s", url, refused.detail)
        return None, gettext_noop("address not allowed")
    except TimeoutError as failure:
        logger.info("Webhook to %s timed out: %s", url, failure)
        return None, gettext_noop("timed out")
    except (OSError, http.client.HTTPException, ValueError) as failure:
        logger.info(
            "Webhook to %s failed: %s: %s", url, type(failure).__name__, failure
        )
        return None, gettext_noop("connection failed")
    if 200 <= status_code < 300:
        return status_code, ""
    return status_code, f"HTTP {status_code}"


def _claim(delivery_id: int, now: datetime) -> WebhookDelivery | None:
    """Take a due delivery for LEASE; None if another worker has it, it is
    not due, or it is finished. The lease end (``next_attempt_at``) is the
    claim's token: the outcome is only written while it still holds."""
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id,
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at__lte=now,
    ).update(next_attempt_at=now + LEASE)
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("subscription__owner").get(
        pk=delivery_id
    )


def deliver(delivery_id: int) -> str:
    """Send one delivery if it is due; returns its status afterwards."""
    now = clock.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        current = (
            WebhookDelivery.objects.filter(pk=delivery_id)
            .values_list("status", flat=True)
            .first()
        )
        return current or "missing"
    subscription = delivery.subscription
    if not subscription.is_active or not owner_may_subscribe(subscription.owner):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.FAILED,
            last_error="Not sent: the subscription or its owner's access ended.",
        )
        return str(WebhookDelivery.Status.FAILED)
    body = json.dumps(
        {"delivery_id": delivery.pk, "event": delivery.payload},
        separators=(",", ":"),
    ).encode()
    timestamp = str(int(now.timestamp()))
    status_code, error = _send(
        subscription.url,
        body,
        {
            "Content-Type": "application/json",
            "User-Agent": "Baton-Webhooks/1",
            "X-Baton-Delivery": str(delivery.pk),
            "X-Baton-Event-Position": str(delivery.position),
            "X-Baton-Event-Type": delivery.event_type,
            "X-Baton-Timestamp": timestamp,
            "X-Baton-Signature": sign(subscription.secret, timestamp, body),
        },
    )
    attempts = delivery.attempts + 1
    done = clock.now()
    if status_code is not None and 200 <= status_code < 300:
        changes: dict[str, Any] = {
            "status": WebhookDelivery.Status.DELIVERED,
            "delivered_at": done,
            "last_error": "",
        }
    elif attempts >= MAX_ATTEMPTS:
        changes = {"status": WebhookDelivery.Status.FAILED, "last_error": error}
    else:
        changes = {"next_attempt_at": done + backoff(attempts), "last_error": error}
    # Fenced on our lease: if a slow send outlived it and another worker
    # re-claimed the delivery, that worker's outcome wins.
    written = WebhookDelivery.objects.filter(
        pk=delivery.pk, next_attempt_at=delivery.next_attempt_at
    ).update(attempts=attempts, last_status_code=status_code, **changes)
    if not written:
        logger.warning("Webhook delivery %s outlived its lease", delivery.pk)
    return str(changes.get("status", WebhookDelivery.Status.PENDING))


def deliver_due(*, limit: int = 100) -> int:
    """Send every pending delivery whose time has come (the periodic safety
    net for retries and lost enqueues). Returns how many were attempted."""
    now = clock.now()
    due = list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for delivery_id in due:
        try:
            deliver(delivery_id)
        except Exception:
            logger.exception("Webhook delivery %s failed unexpectedly", delivery_id)
    return len(due)


def delivery_replay(*, delivery_ids: list[int]) -> int:
    """Send deliveries again (delivered or failed ones included): they are
    reset to pending and due now."""
    return (
        WebhookDelivery.objects.filter(pk__in=delivery_ids)
        .filter(
            Q(
                status__in=[
                    WebhookDelivery.Status.DELIVERED,
                    WebhookDelivery.Status.FAILED,
                ]
            )
            | Q(status=WebhookDelivery.Status.PENDING)
        )
        .update(
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at=clock.now(),
            delivered_at=None,
        )
    )
