"""Admin login lockouts: django-axes with two limits.

django-axes compares one failure count with one limit. Baton locks a
login attempt out when either

- its (username, address) pair has ``AXES_FAILURE_LIMIT`` recent failures
  (a guesser at one account from one address), or
- its address has ``BATON_LOGIN_ADDRESS_FAILURE_LIMIT`` recent failures
  over all usernames (a guesser spraying many accounts),

and never for the username alone, so the real user can still log in from
another address. "Recent" is ``AXES_COOLOFF_TIME`` before the attempt.
"""

from __future__ import annotations

import ipaddress
import math
from datetime import timedelta
from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def client_address(request: HttpRequest) -> str | None:
    """The address lockouts count by: the one the throttles use (the peer,
    or behind ``NUM_PROXIES`` trusted proxies the address they saw), or
    None when the request carries no valid address (a test client's
    ``force_login``, a Unix socket)."""
    from tickets.customer import client_ip

    try:
        return str(ipaddress.ip_address(client_ip(request)))
    except ValueError:
        return None


# django-axes ships no type information: its models and handlers are Any.
def _failures(attempts: QuerySet[Any]) -> int:
    return int(attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0)


class LoginLockoutHandler(AxesDatabaseHandler):  # type: ignore[misc]
    """Counts failures per (username, address) and per address."""

    def _recent_attempts_from_address(self, request: HttpRequest) -> QuerySet[Any]:
        attempts: QuerySet[Any] = AccessAttempt.objects.filter(
            ip_address=request.axes_ip_address  # type: ignore[attr-defined]
        )
        if settings.AXES_COOLOFF_TIME is not None:
            attempts = attempts.filter(
                attempt_time__gte=get_cool_off_threshold(request)
            )
        return attempts

    def get_failures(
        self, request: HttpRequest, credentials: dict[str, Any] | None = None
    ) -> int:
        """The failure count axes compares with ``AXES_FAILURE_LIMIT``.

        The pair's count is taken as is; the address's count is shifted so
        that it reaches ``AXES_FAILURE_LIMIT`` exactly when it reaches the
        address limit. The result is at or over the limit if and only if
        one of the two limits is reached.
        """
        attempts = self._recent_attempts_from_address(request)
        username = get_client_username(request, credentials)
        pair = _failures(attempts.filter(username=username))
        address = _failures(attempts)
        pair_limit = int(get_failure_limit(request, credentials))
        address_limit = max(settings.BATON_LOGIN_ADDRESS_FAILURE_LIMIT, pair_limit)
        return max(pair, address - (address_limit - pair_limit))

    def reset_user_attempts(
        self, request: HttpRequest, credentials: dict[str, Any] | None = None
    ) -> int:
        """After a successful login, forget that pair's failures only: one
        known password must not clear the address's count of guesses at
        other accounts."""
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(
            username=username,
            ip_address=request.axes_ip_address,  # type: ignore[attr-defined]
        ).delete()
        return int(count)


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The page a locked-out login gets: the admin's look, HTTP 429, how
    long to wait, and a ``Retry-After`` header."""
    cool_off = get_cool_off(request) or timedelta(0)
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60))
    context = {
        **admin.site.each_context(request),
        "title": _("Too many failed logins"),
        "minutes": minutes,
    }
    response = render(
        request,
        "admin/login_locked_out.html",
        context,
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
    response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response
