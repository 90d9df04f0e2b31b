"""Property-based run over the whole OpenAPI schema: every operation gets
generated requests (valid and invalid) with an authorized token; no
response may be a 5xx or violate the documented schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from config.wsgi import application
from tests import helpers
from tickets.api.authentication import TokenRateThrottle
from tickets.models import ApiToken

MAX_EXAMPLES = 15


def _openapi() -> dict[str, Any]:
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


schema = schemathesis.openapi.from_dict(_openapi())


@pytest.fixture
def keep_test_connection() -> Iterator[None]:
    """Calling the WSGI app directly would close the test's database
    connection at the end of each request; Django's test client avoids
    that the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def auth_header(
    db: None, keep_test_connection: None, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    monkeypatch.setattr(TokenRateThrottle, "rate", "100000/min", raising=False)
    cache.clear()
    org = helpers.make_org()
    ticket_id = helpers.open_ticket(org)
    del ticket_id  # a ticket exists, so list endpoints return data
    _, key = ApiToken.issue(user=org.leads["CS"], name="schemathesis")
    return {"Authorization": f"Token {key}"}


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_server_errors_and_responses_match_the_schema(
    case: Any, auth_header: dict[str, str]
) -> None:
    response = case.call(app=application, headers=auth_header)
    case.validate_response(
        response, checks=[not_a_server_error, response_schema_conformance]
    )
