"""Clients for API tests: each acts with a real integration token."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from tests.helpers import Org
from tickets.models import ApiToken

#: Codes that say a request does not match the schema: a request the
#: schema calls valid must never get one of these.
SHAPE_CODES = {
    "validation_failed",
    "malformed_body",
    "field_required",
    "field_too_long",
    "invalid_type",
    "invalid_choice",
    "invalid_scenario",
    "invalid_idempotency_key",
    "invalid_request",
    "unsupported_media_type",
}


def token_client(user: Any, name: str = "Test integration") -> APIClient:
    _, key = ApiToken.issue(user=user, name=name)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


class Clients:
    def __init__(self, org: Org) -> None:
        self.org = org
        self._cache: dict[str, APIClient] = {}

    def agent(self, code: str) -> APIClient:
        key = f"agent:{code}"
        if key not in self._cache:
            self._cache[key] = token_client(
                self.org.agents[code], f"{code} integration"
            )
        return self._cache[key]

    def lead(self, code: str) -> APIClient:
        key = f"lead:{code}"
        if key not in self._cache:
            self._cache[key] = token_client(self.org.leads[code], f"{code} lead tool")
        return self._cache[key]
