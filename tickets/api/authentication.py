"""Integration API tokens: ``Authorization: Token <key>`` or ``Bearer``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import Q
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from tickets import clock
from tickets.models import ApiToken
from tickets.models.integrations import hash_token

LAST_USED_RESOLUTION = timedelta(minutes=1)
FAILURE_WINDOW_SECONDS = 600
MAX_FAILURES = 30


def _failure_key(request: Request) -> str:
    from tickets.customer import client_ip

    return f"baton:token-failures:{client_ip(request)}"


def _too_many_failures(request: Request) -> bool:
    return int(cache.get(_failure_key(request), 0)) >= MAX_FAILURES


def _count_failure(request: Request) -> None:
    key = _failure_key(request)
    if not cache.add(key, 1, FAILURE_WINDOW_SECONDS):
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, FAILURE_WINDOW_SECONDS)


class ApiTokenAuthentication(BaseAuthentication):
    """Looks the key's hash up among active tokens; the request then acts
    as the token's user, with ``request.auth`` set to the token."""

    keywords = (b"token", b"bearer")

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in self.keywords:
            return None
        if _too_many_failures(request):
            raise Throttled(wait=FAILURE_WINDOW_SECONDS)
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
            _count_failure(request)
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


class TokenRateThrottle(SimpleRateThrottle):
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
