"""The OpenAPI schema's error responses, made to say what the server does.

A drf-spectacular postprocessing hook (``SPECTACULAR_SETTINGS``) that, for
every operation, including ones added later:

* declares each error response as ``application/problem+json`` (what
  ``config.exceptions`` answers), never ``application/json``;
* adds the errors the framework answers on every operation of a kind:
  401 on authenticated ones, 403 for a session without its CSRF token on
  writes, 404 for an address that matches nothing or a stale cursor, 406
  for an ``Accept`` without JSON, 429 throttling, 400/413/415 for a request
  body, and what the ``Idempotency-Key`` and ``If-Match`` headers answer;
* declares that an optional query parameter may be empty, which the
  server reads as "not given" (no filter), as DRF does;
* lists the ``code`` values each status can carry, with their meaning, in
  the response's description and machine-readable in ``x-problem-codes``
  (a view names its own rule codes with ``tickets.api.serializers.problems``).
"""

from __future__ import annotations

import re
from typing import Any

from tickets.domain import TicketError

PROBLEM = "application/problem+json"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
UNSAFE = {"post", "put", "patch", "delete"}
CODE_LINE = re.compile(r"^- `([a-z0-9_]+)`", re.MULTILINE)
PROBLEM_REF = "#/components/schemas/Problem"

#: What the codes that no ``TicketError`` subclass names mean.
MEANINGS = {
    "validation_failed": "The request does not match this schema: `errors` "
    "lists each field (`field`, `message`, `code`).",
    "malformed_body": "The body is not a JSON document: invalid JSON or "
    "UTF-8, nested deeper than 32 levels, a name repeated in one object, a "
    "lone surrogate, NaN, Infinity or a number out of range.",
    "payload_too_large": "The body is larger than the server accepts.",
    "unsupported_media_type": "The body is not `application/json`.",
    "not_acceptable": "The `Accept` header rules out JSON.",
    "not_authenticated": "No credentials were sent.",
    "authentication_failed": "The token is invalid or revoked.",
    "forbidden": "You may not do this (for a session: the CSRF token is missing).",
    "not_found": "The address matches nothing (e.g. a malformed id), or the "
    "cursor is not one this list issued.",
    "throttled": "Too many requests; retry after `Retry-After` seconds.",
    "invalid_idempotency_key": "`Idempotency-Key` must be 1-255 characters, "
    "not only whitespace.",
    "idempotency_key_in_progress": "A request with this `Idempotency-Key` is "
    "still being processed; retry.",
    "idempotency_key_reused": "This `Idempotency-Key` was used for a "
    "different request.",
    "invalid_request": "A parameter's value cannot be used (e.g. a forged cursor).",
    "field_too_long": "A text is longer than its limit.",
    "invalid_characters": "A text holds control characters (such as NUL).",
    "invalid_timezone": "`customer_timezone` is not an IANA timezone name.",
    "unknown_department": "There is no department with that code.",
    "unknown_agent": "There is no active user with that id.",
    "front_line_ambiguous": "Say which front-line department opens the ticket.",
    "invalid_period_start": "`start` does not begin a period of that kind "
    "(a Monday for weeks, the 1st for months).",
    "unknown_scenario": "There is no active scenario with that code in the "
    "catalogue (`GET /api/v1/scenarios/`).",
    "attachment_empty": "The file is empty.",
    "attachment_too_large": "The file is larger than `ATTACHMENT_MAX_BYTES`.",
    "attachment_type_not_allowed": "Files of this type are not accepted.",
    "attachment_type_mismatch": "The file's bytes are not of the type its "
    "name says (e.g. a `.png` that is not a PNG).",
    "pending_uploads_full": "You hold too many uploads not attached yet.",
    "unknown_attachment": "An id in `attachments` is not an upload of yours "
    "waiting to be attached.",
    "ticket_attachments_full": "The ticket would hold more than "
    "`ATTACHMENT_MAX_TICKET_BYTES` of files.",
    "too_many_attachments": "More files than one entry may carry (10).",
    "attachment_not_found": "No such file on this ticket that you may read.",
    "file_required": "The multipart field `file` is missing.",
    "unknown_field": "A field this operation does not know.",
    "root_cause_detail_not_allowed": "A product area or detail is only for "
    "the root causes `product_defect` and `process`.",
    "unknown_follow_up": "This ticket has no follow-up with that id (a "
    "rating of 1 or 2 opens one).",
    "follow_up_closed": "The follow-up is closed: it takes notes and a reopen only.",
}


def _rule_meanings() -> dict[str, str]:
    """Each domain rule's code, described by its exception's docstring."""
    meanings: dict[str, str] = {}
    pending: list[type[TicketError]] = [TicketError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        doc = " ".join((cls.__doc__ or "").split())
        if cls.code not in ("ticket_error", "invalid_input") and doc:
            meanings.setdefault(cls.code, re.sub(r"^Raised when ", "When ", doc))
    return meanings


def _has(operation: dict[str, Any], location: str, name: str | None = None) -> bool:
    return any(
        p.get("in") == location and (name is None or p.get("name") == name)
        for p in operation.get("parameters", [])
    )


def _framework_codes(method: str, operation: dict[str, Any]) -> dict[str, list[str]]:
    """The statuses and codes the framework answers for this kind of
    operation, whatever its view does."""
    codes: dict[str, list[str]] = {"406": ["not_acceptable"], "429": ["throttled"]}

    def add(status: int, *names: str) -> None:
        codes.setdefault(str(status), []).extend(names)

    security = operation.get("security", [])
    if any(requirement for requirement in security):
        add(401, "not_authenticated", "authentication_failed")
        if method in UNSAFE and any("cookieAuth" in r for r in security):
            add(403, "forbidden")
    if _has(operation, "path"):
        add(404, "not_found")
    if _has(operation, "query", "cursor"):
        add(404, "not_found")
        add(400, "invalid_request")
    if any(
        p.get("in") == "query" and p.get("name") not in ("cursor", "limit")
        for p in operation.get("parameters", [])
    ):
        add(400, "validation_failed")
    # Every POST parses its body (tickets.api.views.BaseApi.idempotent_post),
    # whether or not it declares one.
    if "requestBody" in operation or method == "post":
        add(400, "malformed_body", "validation_failed")
        add(413, "payload_too_large")
        add(415, "unsupported_media_type")
    if _has(operation, "header", "Idempotency-Key"):
        add(400, "invalid_idempotency_key")
        add(409, "idempotency_key_in_progress")
        add(422, "idempotency_key_reused")
    if _has(operation, "header", "If-Match"):
        add(400, "validation_failed")
    return codes


def _describe(codes: list[str], meanings: dict[str, str]) -> str:
    return "\n".join(
        f"- `{code}`: {meanings.get(code, '')}".rstrip(": ") for code in codes
    )


def problem_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular postprocessing hook (see the module docstring)."""
    meanings = {**_rule_meanings(), **MEANINGS}
    problem_schema = {"$ref": PROBLEM_REF}
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            for parameter in operation.get("parameters", []):
                # DRF reads an empty optional query value as "not given"
                # (a form's unselected filter); a cursor must be a cursor.
                if (
                    parameter.get("in") == "query"
                    and not parameter.get("required")
                    and parameter.get("name") != "cursor"
                ):
                    parameter["allowEmptyValue"] = True
            responses = operation.setdefault("responses", {})
            for status, names in _framework_codes(method, operation).items():
                responses.setdefault(status, {"description": ""})
                response = responses[status]
                response["description"] = "\n".join(
                    line
                    for line in (
                        response.get("description", ""),
                        *(f"- `{n}`" for n in names),
                    )
                    if line
                )
            for status, response in responses.items():
                if not status.isdigit() or int(status) < 400:
                    continue
                content: dict[str, Any] = response.get("content", {})
                declared: dict[str, Any] = next(iter(content.values()), {})
                schema = declared.get("schema", problem_schema)
                response["content"] = {PROBLEM: {"schema": schema}}
                codes = list(dict.fromkeys(CODE_LINE.findall(response["description"])))
                prose = CODE_LINE.sub("", response["description"]).strip()
                response["description"] = "\n".join(
                    part for part in (prose, _describe(codes, meanings)) if part
                )
                response["x-problem-codes"] = codes
            operation["responses"] = dict(
                sorted(responses.items(), key=lambda pair: pair[0])
            )
    return result
