"""The OpenAPI schema says what the server does. Every operation is taken
from the generated schema, so an endpoint added later is checked too."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from rest_framework.test import APIClient

from tests.helpers import Org, event_count
from tests.tickets.api_helpers import SHAPE_CODES, token_client
from tickets import clock, services
from tickets.models import WebhookSubscription


def _document() -> dict[str, Any]:
    return json.loads(
        OpenApiJsonRenderer().render(
            SchemaGenerator().get_schema(request=None, public=True)
        )
    )


DOCUMENT = _document()
OPERATIONS = sorted(
    (operation["operationId"], method, path)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
    if method in ("get", "post", "delete", "put", "patch")
)


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema or "allOf" in schema:
        if "allOf" in schema:
            schema = schema["allOf"][0]
            continue
        schema = DOCUMENT["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


def example_value(name: str, schema: dict[str, Any], world: dict[str, Any]) -> Any:
    """A valid-looking value for a schema, as a client reading only the
    schema would write it."""
    schema = _resolve(schema)
    if name in world:
        return world[name]
    if "enum" in schema:
        return next(v for v in schema["enum"] if v not in ("", None))
    kind = schema.get("type")
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "array":
        return []
    if kind == "boolean":
        return True
    fmt = schema.get("format")
    if fmt == "uuid":
        return str(uuid.uuid4())
    if fmt == "date-time":
        return (clock.now() + timedelta(days=7)).isoformat()
    if fmt == "date":
        return clock.now().date().isoformat()
    if fmt == "uri":
        return "https://example.com/hook"
    if "pattern" in schema and re.fullmatch(schema["pattern"].strip("^$"), "FIN"):
        return "FIN"
    return "Something"


def required_only_request(
    method: str, path: str, world: dict[str, Any]
) -> tuple[str, dict[str, Any] | None]:
    operation = DOCUMENT["paths"][path][method]
    url = path
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            value = example_value(parameter["name"], parameter["schema"], world)
            url = url.replace("{" + parameter["name"] + "}", str(value))
    body = None
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        schema = _resolve(content["application/json"]["schema"])
        body = {
            name: example_value(name, schema["properties"][name], world)
            for name in schema.get("required", [])
        }
    return url, body


@pytest.fixture
def world(org: Org) -> dict[str, Any]:
    result = services.ticket_open(
        principal=org.agent("CS"), subject="Refund", customer_ref="C-1", channel="web"
    )
    lead = org.leads["CS"]
    webhook = WebhookSubscription.objects.create(
        owner=lead, name="mirror", url="https://example.com/hook", secret="s" * 32
    )
    return {
        "client": token_client(lead),
        "ticket_id": str(result.ticket_id),
        "token": result.detail["customer_token"],
        "webhook_id": webhook.pk,
        "department": "FIN",
        "to_department": "FIN",
    }


@pytest.mark.parametrize(("operation_id", "method", "path"), OPERATIONS)
def test_a_request_with_only_the_schemas_required_fields_is_never_refused_for_its_shape(
    world: dict[str, Any], operation_id: str, method: str, path: str
) -> None:
    """Accepted, or refused with a rule's code that the operation documents
    for that status: never ``field_required`` or ``validation_failed``."""
    url, body = required_only_request(method, path, world)
    client: APIClient = world["client"]
    response = getattr(client, method)(url, body, format="json")
    if response.status_code < 400:
        return
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] not in SHAPE_CODES, (operation_id, body, problem)
    documented = DOCUMENT["paths"][path][method]["responses"][
        str(response.status_code)
    ].get("x-problem-codes", [])
    assert problem["code"] in documented, (operation_id, body, problem)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/tickets/", {"channel": "web", "customer_ref": "C-1"}, "subject"),
        ("/api/v1/tickets/", {"channel": "web", "subject": "Refund"}, "customer_ref"),
        ("{ticket}handoffs/", {"to_department": "FIN"}, "reason"),
        ("{ticket}notes/", {}, "body"),
        ("{ticket}responses/", {"body": "\n\t "}, "body"),
        ("{ticket}customer-replies/", {"body": ""}, "body"),
        ("{ticket}resolve/", {"root_cause": "other"}, "resolution"),
        ("{ticket}reopen/", {}, "reason"),
        (
            "{ticket}disputes/",
            {"handoff_id": str(uuid.uuid4()), "subject": "breach"},
            "reason",
        ),
        (
            "{ticket}dispute-decisions/",
            {"dispute_id": str(uuid.uuid4()), "decision": "waived"},
            "reason",
        ),
        ("/api/v1/public/timeline/{token}/replies/", {}, "body"),
    ],
)
def test_what_the_server_requires_the_schema_requires(
    world: dict[str, Any], path: str, body: dict[str, Any], field: str
) -> None:
    """The server's refusal of a missing or blank field and the schema's
    ``required`` / ``pattern`` are the same rule, and nothing is stored."""
    url = path.replace("{ticket}", f"/api/v1/tickets/{world['ticket_id']}/").replace(
        "{token}", world["token"]
    )
    template = next(
        p
        for p in DOCUMENT["paths"]
        if re.fullmatch(
            re.sub(r"\\{[a-z_]+\\}", "[^/]+", re.escape(p))
            .replace(r"\{", "{")
            .replace(r"\}", "}"),
            url,
        )
    )
    schema = _resolve(
        DOCUMENT["paths"][template]["post"]["requestBody"]["content"][
            "application/json"
        ]["schema"]
    )
    assert field in schema["required"]
    if field != "reason":  # a blank reason is the domain's reason_required
        assert _refuses_exactly_blank(schema["properties"][field]["pattern"])
    before = event_count()
    response = world["client"].post(url, body, format="json")
    assert response.status_code == 400, response.content
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert [e["field"] for e in problem["errors"]] == [field]
    assert event_count() == before


def _refuses_exactly_blank(pattern: str) -> bool:
    """Whether ``pattern`` (searched, as JSON Schema does) finds nothing in
    text made only of what the domain strips, and finds any other text."""
    import re

    whitespace = [chr(c) for c in range(0x110000) if chr(c).isspace()]
    return not any(re.search(pattern, c) for c in whitespace) and all(
        re.search(pattern, text) for text in ("a", " x ", "\ufeff", "\x00")
    )


def test_every_error_response_is_declared_as_problem_json() -> None:
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert list(response["content"]) == ["application/problem+json"], (
                        method,
                        path,
                        status,
                    )
                    assert response["x-problem-codes"], (method, path, status)


def test_the_idempotency_key_limits_are_the_servers(world: dict[str, Any]) -> None:
    declared = next(
        p["schema"]
        for p in DOCUMENT["paths"]["/api/v1/tickets/{ticket_id}/notes/"]["post"][
            "parameters"
        ]
        if p["name"] == "Idempotency-Key"
    )
    assert (declared["minLength"], declared["maxLength"]) == (1, 255)
    assert declared["pattern"] == r"\S"
    client: APIClient = world["client"]
    url = f"/api/v1/tickets/{world['ticket_id']}/notes/"
    for key, status in (("k" * 255, 200), ("k" * 256, 400), ("   ", 400)):
        response = client.post(
            url, {"body": f"note {key[:3]}"}, format="json", HTTP_IDEMPOTENCY_KEY=key
        )
        assert response.status_code == status, (len(key), response.content)
        if status == 400:
            assert response.json()["code"] == "invalid_idempotency_key"


def test_an_empty_filter_is_no_filter_and_the_schema_says_so(
    world: dict[str, Any],
) -> None:
    client: APIClient = world["client"]
    everything = client.get("/api/v1/tickets/").json()["results"]
    for name in ("status", "priority", "department", "updated_since", "breached"):
        response = client.get(f"/api/v1/tickets/?{name}=")
        assert response.status_code == 200, (name, response.content)
        assert response.json()["results"] == everything
    for name in ("state", "kind", "due_before"):
        assert client.get(f"/api/v1/clocks/?{name}=").status_code == 200
    for path in ("/api/v1/tickets/", "/api/v1/clocks/"):
        for parameter in DOCUMENT["paths"][path]["get"]["parameters"]:
            assert parameter.get("allowEmptyValue") is (
                parameter["name"] != "cursor" or None
            ), parameter
    refused = client.get("/api/v1/tickets/?status=sideways")
    assert refused.status_code == 400 and refused.json()["code"] == "validation_failed"


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/tickets/not-a-uuid/"),
        ("post", "/api/v1/tickets/not-a-uuid/notes/"),
        ("get", "/api/v1/no-such-thing/"),
        ("delete", "/api/v1/webhooks/abc/"),
    ],
)
def test_an_address_that_matches_nothing_under_api_is_a_problem_not_a_page(
    world: dict[str, Any], debug: bool, method: str, path: str
) -> None:
    """With DEBUG on too: not Django's HTML page that lists every URL."""
    client: APIClient = world["client"]
    with override_settings(DEBUG=debug):
        response = getattr(client, method)(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], body["instance"]) == ("not_found", path)
    assert b"urlpatterns" not in response.content and b"<html" not in response.content


def test_a_missing_slash_is_pointed_out(world: dict[str, Any]) -> None:
    with override_settings(DEBUG=True):
        response = world["client"].get("/api/v1/departments")
    assert response.status_code == 404
    assert "/api/v1/departments/" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("handoffs/", {"to_department": "FIN", "reason": " "}, "reason_required"),
        # reopening an open ticket is refused before its reason is read
        ("reopen/", {"reason": ""}, "ticket_not_resolved"),
    ],
)
def test_a_blank_reason_is_the_documented_reason_required_rule(
    world: dict[str, Any], path: str, body: dict[str, Any], code: str
) -> None:
    """The reason is required by the schema; that it says something is
    the domain's rule (shared with the admin), documented as its code."""
    template = "/api/v1/tickets/{ticket_id}/" + path
    responses = DOCUMENT["paths"][template]["post"]["responses"]
    assert "reason_required" in responses["400"]["x-problem-codes"]
    before = event_count()
    response = world["client"].post(
        f"/api/v1/tickets/{world['ticket_id']}/{path}", body, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert event_count() == before
