"""Integration API tokens: ``Authorization: Token <key>`` or ``Bearer``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Q
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from tickets import clock, rate_limit
from tickets.models import ApiToken
from tickets.models.integrations import hash_token

LAST_USED_RESOLUTION = timedelta(minutes=1)
FAILURE_WINDOW_SECONDS = 600
MAX_FAILURES = 30


def _count_failure(request: Request) -> rate_limit.Hit:
    """Count a wrong token from the caller's address (see ``client_ip``)."""
    from tickets.customer import client_ip

    return rate_limit.hit(
        f"token-failures:{client_ip(request)}", FAILURE_WINDOW_SECONDS
    )


class ApiTokenAuthentication(BaseAuthentication):
    """Looks the key's hash up among active tokens; the request then acts
    as the token's user, with ``request.auth`` set to the token.

    A valid token always works. Wrong tokens are counted per address:
    after ``MAX_FAILURES`` in ``FAILURE_WINDOW_SECONDS`` further wrong
    tokens from that address get 429 instead of 401. The key is checked
    first either way: one indexed lookup of its hash, no dearer than the
    429, and refusing valid tokens would let 30 guesses from a shared
    address (a proxy, a NAT) lock every integration there out.
    """

    keywords = (b"token", b"bearer")

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in self.keywords:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Use 'Authorization: Token <key>'.")
        key = parts[1].decode("utf-8", errors="replace")
        token = (
            ApiToken.objects.active()
            .select_related("user")
            .filter(key_hash=hash_token(key))
            .first()
        )
        if token is None:
            failures = _count_failure(request)
            if failures.count > MAX_FAILURES:
                raise Throttled(wait=failures.remaining)
            raise AuthenticationFailed("The token is invalid or revoked.")
        now = clock.now()
        if (
            token.last_used_at is None
            or now - token.last_used_at > LAST_USED_RESOLUTION
        ):
            # At most one write a minute per token, not one per request.
            ApiToken.objects.filter(pk=token.pk).filter(
                Q(last_used_at__isnull=True)
                | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
            ).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Token realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "tickets.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An integration token: 'Authorization: Bearer <key>' "
            "(or 'Token <key>').",
        }


class CountingRateThrottle(SimpleRateThrottle):
    """DRF's ``SimpleRateThrottle`` with an atomic count.

    DRF keeps a list of timestamps in the cache and writes it back after
    reading it, so concurrent requests overwrite each other's entries
    (8 threads on one token got 1.6x the rate). Here each request is one
    atomic increment of a fixed-window counter shared by every process
    that shares the cache (see :mod:`tickets.rate_limit`). ``rate`` and
    ``get_cache_key`` work as in DRF; ``wait()`` is the time left in the
    window.
    """

    num_requests: int | None
    duration: int | None
    counted: rate_limit.Hit | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None or self.num_requests is None or not self.duration:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.counted = rate_limit.hit(self.key, self.duration)
        return self.counted.count <= self.num_requests

    def wait(self) -> float | None:
        if self.counted is None or self.num_requests is None:
            return None
        if self.counted.count <= self.num_requests:
            return None
        return max(0.0, self.counted.remaining)


class TokenRateThrottle(CountingRateThrottle):
    """Requests per token (or per staff user on a session)."""

    scope = "api"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            from tickets.customer import client_ip

            ident = f"ip:{client_ip(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
