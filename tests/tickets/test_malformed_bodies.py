"""Malformed request bodies are 400 problems, on every POST the API has,
and nothing is stored. The operations come from the generated OpenAPI
schema, so an endpoint added later is covered without editing this file."""

from __future__ import annotations

import json
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from rest_framework.test import APIClient

from tests.helpers import Org, event_count
from tests.tickets.api_helpers import token_client
from tickets import services
from tickets.models import IdempotencyRecord, WebhookSubscription

NESTED = b"[" * 1000 + b"]" * 1000  # 2 KB

MALFORMED: dict[str, bytes] = {
    "nested arrays": NESTED,
    "nested objects": b'{"a":' * 1000 + b"1" + b"}" * 1000,
    "nested inside a field": b'{"body": ' + b"[" * 200 + b"]" * 200 + b"}",
    "not JSON": b"{not json",
    "invalid UTF-8": b'{"body": "\xff\xfe caf\xe9"}',
    "lone surrogate": b'{"body": "\\ud800", "reason": "\\udfff"}',
    "lone surrogate in a name": b'{"\\ud83d": "x"}',
    "a huge integer": b'{"score": ' + b"9" * 5000 + b"}",
    "a number that overflows": b'{"score": 1e400}',
    "NaN": b'{"score": NaN}',
    "Infinity": b'{"score": -Infinity}',
    "a repeated name": b'{"body": "first", "body": "second"}',
    "a byte order mark": b'\xef\xbb\xbf{"body": "x"}',
}

NOT_AN_OBJECT = [b"[]", b'"text"', b"1", b"true", b"null"]


def post_operations() -> list[tuple[str, str]]:
    """(operation id, path template) of every POST in the schema."""
    document = json.loads(
        OpenApiJsonRenderer().render(
            SchemaGenerator().get_schema(request=None, public=True)
        )
    )
    return sorted(
        (item["post"]["operationId"], path)
        for path, item in document["paths"].items()
        if "post" in item
    )


POSTS = post_operations()


@pytest.fixture
def world(org: Org) -> dict[str, Any]:
    """A ticket (and its customer's link) the lead may act on."""
    result = services.ticket_open(
        principal=org.agent("CS"),
        subject="Refund",
        customer_ref="C-1",
        channel="web",
    )
    return {
        "ticket_id": str(result.ticket_id),
        "token": result.detail["customer_token"],
        "client": token_client(org.leads["CS"]),
    }


def url(path: str, world: dict[str, Any]) -> str:
    return path.replace("{ticket_id}", world["ticket_id"]).replace(
        "{token}", world["token"]
    )


def stored() -> tuple[int, int, int]:
    return (
        event_count(),
        WebhookSubscription.objects.count(),
        IdempotencyRecord.objects.count(),
    )


def assert_problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["code"]) == (status, code), body


def test_the_schema_lists_the_anonymous_customer_posts() -> None:
    """Guards the generator itself: the customer's reply and rating are
    among the operations below."""
    ids = {operation for operation, _ in POSTS}
    assert {"public_reply", "public_rate", "tickets_open"} <= ids
    assert len(POSTS) >= 17


@pytest.mark.parametrize(("operation", "path"), POSTS)
@pytest.mark.parametrize("idempotency_key", [None, "malformed-1"])
def test_a_deeply_nested_body_is_refused_and_nothing_is_stored(
    world: dict[str, Any], operation: str, path: str, idempotency_key: str | None
) -> None:
    client: APIClient = world["client"]
    headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
    before = stored()
    response = client.post(
        url(path, world), NESTED, content_type="application/json", **headers
    )
    assert_problem(response, 400, "malformed_body")
    assert "nested" in response.json()["detail"]
    assert stored() == before


@pytest.mark.parametrize(("operation", "path"), POSTS)
def test_every_kind_of_malformed_body_is_refused_and_nothing_is_stored(
    world: dict[str, Any], operation: str, path: str
) -> None:
    client: APIClient = world["client"]
    before = stored()
    for name, body in MALFORMED.items():
        response = client.post(url(path, world), body, content_type="application/json")
        assert response.status_code == 400, (name, response.content[:300])
        assert_problem(response, 400, "malformed_body")
    assert stored() == before


@pytest.mark.parametrize(("operation", "path"), POSTS)
def test_a_json_body_that_is_not_an_object_is_refused(
    world: dict[str, Any], operation: str, path: str
) -> None:
    client: APIClient = world["client"]
    before = stored()
    for body in NOT_AN_OBJECT:
        response = client.post(url(path, world), body, content_type="application/json")
        assert response.status_code == 400, (body, response.content[:300])
        assert_problem(response, 400, "validation_failed")
    assert stored() == before


@pytest.mark.parametrize(("operation", "path"), POSTS)
def test_a_body_that_is_not_json_is_an_unsupported_media_type(
    world: dict[str, Any], operation: str, path: str
) -> None:
    client: APIClient = world["client"]
    before = stored()
    for content_type in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/octet-stream",
    ):
        response = client.post(
            url(path, world), b'{"body": "x"}', content_type=content_type
        )
        assert_problem(response, 415, "unsupported_media_type")
    assert stored() == before


def test_an_empty_body_is_an_empty_object(world: dict[str, Any]) -> None:
    """No body at all is no input: refused field by field where input is
    required, accepted where none is."""
    client: APIClient = world["client"]
    tid = world["ticket_id"]
    before = stored()
    response = client.post(
        f"/api/v1/tickets/{tid}/notes/", b"", content_type="application/json"
    )
    assert_problem(response, 400, "validation_failed")
    assert [e["field"] for e in response.json()["errors"]] == ["body"]
    response = client.post(
        f"/api/v1/public/timeline/{world['token']}/replies/",
        b"",
        content_type="application/json",
    )
    assert_problem(response, 400, "validation_failed")
    assert stored() == before
    waiting = client.post(
        f"/api/v1/tickets/{tid}/waiting/", b"", content_type="application/json"
    )
    assert waiting.status_code == 200, waiting.content
    assert waiting.json()["status"] == "waiting"


def test_blank_means_what_the_domain_strips_in_the_schema_and_the_server(
    org: Org,
) -> None:
    """A body of only a separator (U+001D) is blank to the domain's strip:
    the schema's pattern says so too (ECMA-262's ``\\s`` would not), and
    the server refuses it as blank, storing nothing."""
    import re

    from tickets.commands.inputs import NOT_BLANK_PATTERN

    whitespace = {chr(c) for c in range(0x110000) if chr(c).isspace()}
    assert {c for c in whitespace if re.search(NOT_BLANK_PATTERN, c)} == set()
    assert re.search(NOT_BLANK_PATTERN, "\ufeff")  # not stripped: not blank
    document = json.loads(
        OpenApiJsonRenderer().render(
            SchemaGenerator().get_schema(request=None, public=True)
        )
    )
    operation = document["paths"]["/api/v1/tickets/{ticket_id}/responses/"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = document["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]
    published = body["body"]["pattern"]  # as the schema spells it (\u001c...)
    assert {c for c in whitespace if re.search(published, c)} == set()
    assert re.search(published, "\ufeff")

    ticket_id = services.ticket_open(
        principal=org.agent("CS"), subject="S", customer_ref="C", channel="web"
    ).ticket_id
    before = event_count()
    response = token_client(org.agents["CS"]).post(
        f"/api/v1/tickets/{ticket_id}/responses/", {"body": "\x1d"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "blank"
    assert event_count() == before
