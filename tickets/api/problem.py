"""RFC 9457 problem details, the one shape of every API error: a JSON body
with ``type``, ``title``, ``status``, ``detail`` and a machine-readable
``code``. The exception handler (``config.exceptions``) and the views that
answer errors themselves (idempotency) both build them here."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response

PROBLEM_CONTENT_TYPE = "application/problem+json"

TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
}


def problem(
    status_code: int,
    code: str,
    detail: str,
    *,
    instance: str = "",
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v not in (None, "", [], {})})
    return body


def problem_response(
    status_code: int,
    code: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    instance: str = "",
    **extra: Any,
) -> Response:
    return Response(
        problem(status_code, code, detail, instance=instance, **extra),
        status=status_code,
        headers=headers,
        content_type=PROBLEM_CONTENT_TYPE,
    )
