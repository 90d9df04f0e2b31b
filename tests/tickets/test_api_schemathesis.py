"""Property-based run over the whole OpenAPI schema with every schemathesis
check (``--checks all``): every operation gets generated requests, valid
and invalid, with an authorized token, against tickets that have SLA
policies, calendars and clocks in every state. No response may be a 5xx or
differ from the schema, a valid request is refused only by a documented
rule of the domain, an invalid one is refused, and every problem's code is
one the operation documents for that status.

Bounded for CI (it runs once per database): ``MAX_EXAMPLES`` generated
requests per operation plus schemathesis's deterministic coverage cases.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import schemathesis
import time_machine
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure
from schemathesis.core.parameters import ParameterLocation

from config.wsgi import application
from sla import services as sla_services
from tests.helpers import Org, open_ticket
from tests.sla.conftest import sla_org, z  # noqa: F401 -- the fixture, with policies
from tests.tickets.api_helpers import SHAPE_CODES
from tickets import services
from tickets.api.authentication import TokenRateThrottle
from tickets.models import ApiToken, SLAClock, TicketSummary, WebhookSubscription

MAX_EXAMPLES = 8


def _openapi() -> dict[str, Any]:
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


DOCUMENT = _openapi()
# Domain rules refuse some valid requests (a handoff to the department
# that owns the ticket...): 400 is expected of valid data too, and
# problems_are_documented below makes sure it is a rule's code.
schema = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=SchemathesisConfig.from_dict(
        {
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": [
                        "2xx",
                        "400",
                        "401",
                        "403",
                        "404",
                        "409",
                        "412",
                    ]
                },
                # A stale If-Match is refused (412) before a rule the
                # schema states but only the domain checks (a dispute's
                # subject): that refusal is a rejection too.
                "negative_data_rejection": {
                    "expected-statuses": [
                        "400",
                        "401",
                        "403",
                        "404",
                        "405",
                        "406",
                        "409",
                        "412",
                        "415",
                        "422",
                        "428",
                        "429",
                    ]
                },
            }
        }
    ),
)
schema.app = application
KEY_SCHEMA = jsonschema.Draft4Validator(
    next(
        p["schema"]
        for p in DOCUMENT["paths"]["/api/v1/tickets/"]["post"]["parameters"]
        if p["name"] == "Idempotency-Key"
    )
)
#: Field error codes of rules the schema cannot express (a time in the
#: future, a URL Django can reach, no NUL in any text: the API's
#: description says so): a valid request may get validation_failed with
#: only these.
RULE_FIELD_CODES = {
    "expiry_not_in_future",
    "invalid_url",
    "null_characters_not_allowed",
}


class UndocumentedProblem(Failure):
    kind_title = "Undocumented problem"


def problems_are_documented(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every error is problem+json with a ``code`` the operation lists for
    that status (``x-problem-codes``); a request generated as valid is
    refused only for a rule, never for its shape."""
    if response.status_code < 400:
        return None
    label = f"{case.method} {case.path}"
    operation = DOCUMENT["paths"][case.path].get(case.method.lower())
    if operation is None:  # an undocumented method: unsupported_method's job
        return None
    if not response.headers.get("content-type", [""])[0].startswith(
        "application/problem+json"
    ):
        raise UndocumentedProblem(operation=label, message="Not problem+json.")
    problem = json.loads(response.content)
    code = problem["code"]
    documented = (
        operation["responses"].get(str(response.status_code), {}).get("x-problem-codes")
    ) or []
    if code not in documented:
        raise UndocumentedProblem(
            operation=label,
            message=f"{response.status_code} {code!r} is not among {documented}.",
        )
    if _generated_valid(case) and code in SHAPE_CODES:
        field_codes = {error["code"] for error in problem.get("errors", [])}
        if code != "validation_failed" or not field_codes <= RULE_FIELD_CODES:
            raise UndocumentedProblem(
                operation=label,
                message=f"A request the schema calls valid was refused: {code!r} "
                f"{response.content[:300]!r}",
            )
    return None


def _generated_valid(case: Any) -> bool:
    """Whether the request matches the schema: generated as valid, and
    each header matches its declaration (the coverage phase sends "0" as a
    valid value of a header whatever its pattern)."""
    if case.meta is None or any(
        case.meta.is_negative_at(location) for location in ParameterLocation
    ):
        return False
    operation = DOCUMENT["paths"][case.path][case.method.lower()]
    for parameter in operation.get("parameters", []):
        value = (case.headers or {}).get(parameter["name"])
        if (
            parameter["in"] == "header"
            and value is not None
            and not jsonschema.Draft4Validator(parameter["schema"]).is_valid(value)
        ):
            return False
    return True


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


def _tickets_with_clocks(org: Org) -> tuple[list[str], list[str]]:
    """Tickets whose clocks are met, breached (recorded), paused, stopped
    by a resolution and running; their ids and customer tokens."""
    cs, fin = org.agent("CS"), org.agent("FIN")
    ids: list[str] = []
    with time_machine.travel(z("2026-03-02 01:00"), tick=False):
        breached = open_ticket(org, subject="Refund late")
        services.ticket_hand_off(
            principal=cs, ticket_id=breached, to_department="FIN", reason="Refund"
        )
        met = open_ticket(org, subject="Parcel", scenario="PARCEL")
        services.ticket_hand_off(
            principal=cs, ticket_id=met, to_department="LOG", reason="Where is it"
        )
        services.ticket_respond(
            principal=org.agent("LOG"), ticket_id=met, body="On its way"
        )
        paused = open_ticket(org, subject="Card blocked")
        services.ticket_hand_off(
            principal=cs, ticket_id=paused, to_department="FIN", reason="Card"
        )
        services.ticket_wait_on_customer(
            principal=fin, ticket_id=paused, reason="Card number"
        )
        resolved = open_ticket(org, subject="Password")
        services.ticket_resolve(
            principal=cs, ticket_id=resolved, resolution="Reset", root_cause="other"
        )
        late = open_ticket(org, subject="Still open")
        ids = [str(t) for t in (breached, met, paused, resolved, late)]
    with time_machine.travel(z("2026-03-04 08:00"), tick=False):
        assert sla_services.sla_sweep().breaches >= 1
    ids.append(str(open_ticket(org, subject="Just opened")))
    tokens = [
        services.ticket_customer_link_issue(
            principal=org.lead("CS"), ticket_id=uuid.UUID(t)
        )
        for t in ids
    ]
    return ids, tokens


@pytest.fixture
def world(
    sla_org: Org,  # noqa: F811
    keep_test_connection: None,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, Any]:
    monkeypatch.setattr(TokenRateThrottle, "rate", "100000/min", raising=False)
    cache.clear()
    ids, tokens = _tickets_with_clocks(sla_org)
    states = set(SLAClock.objects.values_list("state", flat=True))
    assert {"met", "breached_running", "paused", "running"} <= states, states
    assert TicketSummary.objects.count() == len(ids)
    lead = sla_org.leads["CS"]
    webhook = WebhookSubscription.objects.create(
        owner=lead, name="mirror", url="https://example.com/hook", secret="s" * 32
    )
    _, key = ApiToken.issue(user=lead, name="schemathesis")
    return {
        "headers": {"Authorization": f"Token {key}"},
        "path": {
            "ticket_id": itertools.cycle(ids),
            "token": itertools.cycle(tokens),
            "department": itertools.cycle(["FIN", "cs", "LOG"]),
            "webhook_id": itertools.cycle([str(webhook.pk)]),
        },
        "turn": itertools.count(),
    }


def _aim_at_real_resources(case: Any, world: dict[str, Any]) -> None:
    """Generated ids almost never exist: point three valid requests in four
    at real tickets, links and departments (the fourth keeps its 404)."""
    if case.meta is None:
        return
    if next(world["turn"]) % 4 != 3 and not case.meta.is_negative_at(
        ParameterLocation.PATH
    ):
        for name in list(case.path_parameters or {}):
            if name in world["path"]:
                case.path_parameters[name] = next(world["path"][name])
    key = (case.headers or {}).get("Idempotency-Key")
    if key is not None and KEY_SCHEMA.is_valid(key):
        # Generated keys repeat across different requests: a documented 422,
        # or a replay of the first response whatever else the request says.
        # A fresh key per request tests the request itself.
        case.headers = {**case.headers, "Idempotency-Key": uuid.uuid4().hex}


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
def test_every_operation_conforms_to_the_schema_under_every_check(
    case: Any, world: dict[str, Any]
) -> None:
    _aim_at_real_resources(case, world)
    # ignored_auth probes with wrong tokens from the one test address; a
    # real client's address would be locked out after 30 (429, documented),
    # but each probe here must see the 401 a first wrong token gets.
    cache.clear()
    response = case.call(headers=world["headers"])
    case.validate_response(
        response,
        headers=world["headers"],
        additional_checks=[problems_are_documented],
    )
