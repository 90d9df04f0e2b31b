# ruff: noqa: RUF001 - Chinese text has full-width punctuation
"""A ticket's language: chosen when it opens (API field, Accept-Language,
an email's Content-Language or its script), stored in Opened, projected
into the summary; old events read as the default."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from django.utils import translation
from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, Mapper, UUIDAsHex

from tests.domain.support import CS, at, cs_agent
from tests.helpers import Org, event_count, stored_events
from tests.tickets.api_helpers import token_client
from tests.tickets.mail_samples import (  # noqa: F401 - the fixture
    mail_settings,
    message,
    raw,
    receive,
)
from tickets import languages, services
from tickets.domain import InvalidInput, Ticket, register_transcodings
from tickets.models import TicketSummary

OPEN: dict[str, Any] = {"subject": "Refund", "customer_ref": "C-1", "channel": "web"}


@pytest.fixture(autouse=True)
def _no_language_left_active() -> Iterator[None]:
    """A request's LocaleMiddleware leaves its language active in the
    thread (the test client runs requests in it): end each test in the
    default language, so no test sees another's."""
    yield
    translation.deactivate()


def _open_over_api(org: Org, body: dict[str, Any], **headers: Any) -> Any:
    return token_client(org.agents["CS"]).post(
        "/api/v1/tickets/", {**OPEN, **body}, format="json", **headers
    )


def test_the_api_stores_the_language_it_is_given(org: Org) -> None:
    response = _open_over_api(org, {"language": "zh-hans"})
    assert response.status_code == 201, response.content
    assert response.json()["language"] == "zh-hans"
    ticket_id = response.json()["id"]
    assert TicketSummary.objects.get(pk=ticket_id).language == "zh-hans"
    [opened, *_] = stored_events(UUID(ticket_id))
    assert isinstance(opened, Ticket.Opened) and opened.language == "zh-hans"


@pytest.mark.parametrize(
    ("accept", "stored"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-hans"),
        ("zh-Hans", "zh-hans"),
        ("en-GB,en;q=0.9", "en"),
        ("fr-FR,fr;q=0.9", "en"),
        ("", "en"),
    ],
)
def test_without_a_language_the_api_follows_accept_language(
    org: Org, accept: str, stored: str
) -> None:
    headers: dict[str, Any] = {"HTTP_ACCEPT_LANGUAGE": accept} if accept else {}
    response = _open_over_api(org, {}, **headers)
    assert response.status_code == 201, response.content
    assert TicketSummary.objects.get(pk=response.json()["id"]).language == stored


@pytest.mark.parametrize("language", ["fr", "klingon", "ZH-HANS ", 7])
def test_a_language_the_site_does_not_offer_is_refused_and_nothing_stored(
    org: Org, language: Any
) -> None:
    before = event_count()
    response = _open_over_api(org, {"language": language})
    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert [e["field"] for e in problem["errors"]] == ["language"]
    assert event_count() == before
    assert not TicketSummary.objects.exists()


def test_the_service_refuses_an_unknown_language_with_its_code(org: Org) -> None:
    before = event_count()
    with pytest.raises(InvalidInput) as refused:
        services.ticket_open(principal=org.agent("CS"), language="de", **OPEN)
    assert (refused.value.code, refused.value.field) == ("invalid_language", "language")
    assert event_count() == before


def test_the_schema_lists_the_languages(org: Org) -> None:
    schema = token_client(org.agents["CS"]).get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node or "allOf" in node:
            node = node["allOf"][0] if "allOf" in node else node
            if "$ref" in node:
                node = components[node["$ref"].split("/")[-1]]
        return node

    body = resolve(
        schema["paths"]["/api/v1/tickets/"]["post"]["requestBody"]["content"][
            "application/json"
        ]["schema"]
    )
    assert set(resolve(body["properties"]["language"])["enum"]) == {"en", "zh-hans"}
    assert "language" not in body.get("required", [])


# --- email intake ----------------------------------------------------------


@pytest.mark.usefixtures("mail_settings")
@pytest.mark.parametrize(
    ("subject", "text", "headers", "language"),
    [
        ("退款还没有到账", "我两周前已经退回了包裹，订单号 4711。", {}, "zh-hans"),
        ("Refund", "Where is my refund?", {}, ""),
        # Mostly English with a Chinese name: not Chinese.
        ("Refund for 王芳", "I returned the parcel two weeks ago.", {}, ""),
        ("Refund", "Where is it?", {"Content-Language": "zh-CN"}, "zh-hans"),
        ("退款", "请帮忙查一下。", {"Content-Language": "en"}, "en"),
        ("Refund", "Where is it?", {"Content-Language": "de-DE"}, ""),
    ],
)
def test_an_email_opens_in_its_content_language_or_its_script(
    org: Org, subject: str, text: str, headers: dict[str, str], language: str
) -> None:
    sample = message(subject=subject, text=text)
    for name, value in headers.items():  # after the body (set_content drops it)
        sample[name] = value
    record = receive(raw(sample))
    assert record.ticket_id is not None, record.outcome
    assert TicketSummary.objects.get(pk=record.ticket_id).language == language


def test_text_language_detection_counts_letters_not_bytes() -> None:
    assert languages.language_of_text("您好", "o") == "zh-hans"
    assert languages.language_of_text("1234 !!! 您好") == "zh-hans"
    assert languages.language_of_text("Hello 您") == ""
    assert languages.language_of_text("", "   ") == ""


# --- stored shapes ---------------------------------------------------------


def _mapper() -> Mapper[Any]:
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DatetimeAsISO())
    register_transcodings(transcoder)
    return Mapper(transcoder=transcoder)


def test_an_opened_event_stored_before_languages_loads_as_the_default() -> None:
    front_line = CS
    ticket = Ticket.open(
        subject="Refund",
        description="",
        customer_ref="C",
        channel="web",
        front_line=front_line,
        actor=cs_agent,
        at=at(0),
        language="zh-hans",
    )
    [opened, *_] = ticket.collect_events()
    stored = _mapper().to_stored_event(opened)
    state = json.loads(stored.state)
    assert state["class_version"] == Ticket.Opened.class_version == 4
    assert state["language"] == "zh-hans"
    del state["language"]
    state["class_version"] = 3
    old = type(stored)(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=json.dumps(state).encode(),
    )
    loaded: Any = _mapper().to_domain_event(old)
    assert type(loaded) is Ticket.Opened and loaded.language == ""
    ticket_state: Any = loaded.mutate(None)
    assert ticket_state.language == ""
    reloaded: Any = _mapper().to_domain_event(stored)
    assert reloaded.language == "zh-hans"


@pytest.mark.parametrize("bad", ["english!", "a" * 17, "zh_hans x"])
def test_the_domain_keeps_the_shape_of_a_language_tag(bad: str) -> None:
    front_line = CS
    with pytest.raises(InvalidInput) as refused:
        Ticket.open(
            subject="Refund",
            description="",
            customer_ref="C",
            channel="web",
            front_line=front_line,
            actor=cs_agent,
            at=at(0),
            language=bad,
        )
    assert refused.value.field == "language"
