"""``Idempotency-Key`` for POST requests.

The first response to a key is stored with a hash of the request; a retry
with the same key and body gets the same status and body back and runs
nothing; the same key with a different request is a 422. Keys are scoped
to the caller (token or user) and expire after 24 hours. Transient
failures (409, 412, 429, 5xx) are not stored, so a retry runs again.

Crash safety: a request that dies after its ticket events were stored but
before its response was kept leaves an "in progress" record; once that is
abandoned, a retry runs the handler again, and the application answers
from the command receipt stored with the events (``command_key``): the
command is never stored twice, whenever the retry comes, and the retry
gets the original status. A handler that writes only Django rows
(webhook subscriptions, customer links) runs with ``atomic=True``: its
writes commit together with the kept response.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from contextlib import nullcontext
from datetime import timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Q
from rest_framework.request import Request
from rest_framework.response import Response

from tickets import clock
from tickets.api.problem import problem_response
from tickets.application import CommandKeyReused, command_key
from tickets.eventstore import CommandKey
from tickets.models import ApiToken, IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_HEADERS = ("ETag", "Location")
NOT_STORED = {409, 412, 429}
ABANDONED_AFTER = timedelta(minutes=10)


def _scope(request: Request) -> str:
    if isinstance(request.auth, ApiToken):
        return f"token:{request.auth.pk}"
    if request.user.is_authenticated:
        return f"user:{request.user.pk}"
    # Customers are anonymous: their link (in the path) is their identity.
    return "link:" + hashlib.sha256(request.path.encode()).hexdigest()[:40]


def _fingerprint(request: Request, body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body or b"{}"), sort_keys=True).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256()
    for part in (str(request.method).encode(), request.path.encode(), canonical):
        digest.update(part + b"\0")
    return digest.hexdigest()


def _redacted(data: Any) -> Any:
    """Customer links are secrets shown once: a replay gets null instead."""
    if isinstance(data, dict) and data.get("customer_link"):
        return {**data, "customer_link": None, "customer_link_redacted": True}
    return data


def idempotent(
    handler: Callable[[Request], Response],
    request: Request,
    on_error: Callable[[Exception], Response],
    *,
    atomic: bool = False,
) -> Response:
    """Run ``handler`` at most once per idempotency key."""
    key = request.headers.get(HEADER)
    if key is None:
        return handler(request)
    if not key.strip() or len(key) > 255:
        return problem_response(
            400, "invalid_idempotency_key", "Idempotency-Key must be 1-255 characters."
        )
    body = request._request.body  # read before DRF parses the stream
    fingerprint = _fingerprint(request, body)
    scope, now = _scope(request), clock.now()
    stale = IdempotencyRecord.objects.filter(scope=scope, key=key).filter(
        Q(expires_at__lte=now) | Q(status=0, created_at__lte=now - ABANDONED_AFTER)
    )
    # An earlier attempt that never kept its response: its caller never saw
    # the answer (a customer link shown once, for one).
    answer_lost = stale.filter(status=0).exists()
    stale.delete()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                scope=scope,
                key=key,
                method=str(request.method),
                path=request.path[:500],
                request_hash=fingerprint,
                created_at=now,
                expires_at=now + IdempotencyRecord.TTL,
            )
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
        if existing is None:  # the other request failed transiently meanwhile
            return problem_response(
                409,
                "idempotency_key_in_progress",
                "A request with this Idempotency-Key was just being processed; retry.",
            )
        if existing.request_hash != fingerprint:
            return problem_response(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was used for a different request.",
            )
        if existing.status == 0:
            return problem_response(
                409,
                "idempotency_key_in_progress",
                "A request with this Idempotency-Key is still being processed.",
            )
        headers = dict(existing.response_headers or {})
        headers[REPLAYED_HEADER] = "true"
        data = (
            json.loads(bytes(existing.response_body))
            if existing.response_body
            else None
        )
        response = Response(data, status=existing.status, headers=headers)
        if existing.status >= 400:
            response.content_type = "application/problem+json"
        return response

    command = CommandKey(
        id=_command_id(scope, key), fingerprint=fingerprint, answer_lost=answer_lost
    )
    kept = False
    try:
        # Ticket commands need no transaction here: their events carry a
        # receipt for ``command`` (written with them), so a retry after a
        # crash returns what was stored instead of running them again, and
        # no lock is held across the command. Handlers that write only
        # Django rows (``atomic``) commit them with the kept response, or
        # not at all; they must not call out to the network.
        with transaction.atomic() if atomic else nullcontext():
            with command_key(command) as command_scope:
                response = handler(request)
            if command_scope.replayed:
                response[REPLAYED_HEADER] = "true"
            if atomic and _storable(response):
                _record_outcome(record, response)
                kept = True
    except CommandKeyReused as error:
        response = problem_response(422, error.code, error.message)
    except Exception as error:  # the handler's own error response is stored
        response = on_error(error)
    if not _storable(response):
        record.delete()
    elif not kept:
        _record_outcome(record, response)
    return response


def _command_id(scope: str, key: str) -> str:
    return hashlib.sha256(f"{scope}\0{key}".encode()).hexdigest()


def _storable(response: Response) -> bool:
    return response.status_code not in NOT_STORED and response.status_code < 500


def _record_outcome(record: IdempotencyRecord, response: Response) -> None:
    record.status = response.status_code
    record.response_body = json.dumps(
        _redacted(response.data), cls=DjangoJSONEncoder
    ).encode()
    record.response_headers = {
        h: response[h] for h in KEPT_HEADERS if response.has_header(h)
    }
    record.save(update_fields=["status", "response_body", "response_headers"])
