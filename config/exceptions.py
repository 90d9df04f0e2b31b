"""The one place where errors become HTTP responses: RFC 9457 problem
details (``application/problem+json``) with a stable machine-readable
``code``.

* a rejected command (``TicketError``): 400 with the rule's code;
  ``not_owner`` / ``not_permitted``: 403; ``ticket_not_found``: 404;
  ``version_conflict``: 409; ``version_mismatch`` (If-Match): 412;
* request validation: 400 ``validation_failed`` with per-field ``errors``;
* authentication 401, permission 403, unknown route 404, throttling 429
  (with ``Retry-After``), and anything unexpected 500 ``internal_error``
  (logged; never a stack trace).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response

from tickets.api.problem import PROBLEM_CONTENT_TYPE, problem, problem_response
from tickets.domain import (
    ConcurrencyConflict,
    NotOwner,
    NotPermitted,
    TicketError,
    TicketNotFound,
)

logger = logging.getLogger(__name__)


def ticket_error_status(error: TicketError) -> int:
    from tickets.application import VersionMismatch

    if isinstance(error, TicketNotFound) or error.code.endswith("_not_found"):
        return status.HTTP_404_NOT_FOUND
    if isinstance(error, NotOwner | NotPermitted):
        return status.HTTP_403_FORBIDDEN
    if isinstance(error, ConcurrencyConflict):
        return status.HTTP_409_CONFLICT
    if isinstance(error, VersionMismatch):
        return status.HTTP_412_PRECONDITION_FAILED
    return status.HTTP_400_BAD_REQUEST


def _flatten(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """DRF's nested error detail as a flat list of {field, message, code}."""
    errors: list[dict[str, str]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            errors += _flatten(
                value, f"{prefix}.{name}" if prefix and name else name or prefix
            )
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                errors += _flatten(value, f"{prefix}[{index}]")
            else:
                errors += _flatten(value, prefix)
    else:
        errors.append(
            {
                "field": prefix,
                "message": str(detail),
                "code": str(getattr(detail, "code", "invalid")),
            }
        )
    return errors


def problem_exception_handler(
    exc: Exception, context: dict[str, Any]
) -> Response | None:
    """DRF ``EXCEPTION_HANDLER``: every error as problem details."""
    request = context.get("request")
    instance = request.path if request is not None else ""

    if isinstance(exc, TicketError):
        return problem_response(
            ticket_error_status(exc),
            exc.code,
            exc.message,
            instance=instance,
            field=exc.field,
        )
    if isinstance(exc, RequestDataTooBig):
        return problem_response(
            413,
            "payload_too_large",
            _("The request body is too large."),
            instance=instance,
        )
    if isinstance(exc, DjangoValidationError):
        # e.g. a forged pagination cursor whose position is not a valid value
        return problem_response(
            400, "invalid_request", "; ".join(exc.messages)[:500], instance=instance
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        whole = _("request")  # the name of an error not about one field
        listed = "; ".join(f"{e['field'] or whole}: {e['message']}" for e in errors)
        return problem_response(
            400,
            "validation_failed",
            _("The request is not valid: %(errors)s") % {"errors": listed[:500]},
            instance=instance,
            errors=errors,
        )
    if isinstance(exc, exceptions.APIException):
        headers: dict[str, str] = {}
        wait = getattr(exc, "wait", None)
        if isinstance(exc, exceptions.Throttled) and wait is not None:
            headers["Retry-After"] = str(int(wait) + 1)
        if isinstance(
            exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed
        ):
            headers["WWW-Authenticate"] = 'Token realm="api"'
            exc.status_code = 401
        code = {
            exceptions.NotAuthenticated: "not_authenticated",
            exceptions.AuthenticationFailed: "authentication_failed",
            exceptions.PermissionDenied: "forbidden",
            exceptions.NotFound: "not_found",
            exceptions.MethodNotAllowed: "method_not_allowed",
            exceptions.NotAcceptable: "not_acceptable",
            exceptions.UnsupportedMediaType: "unsupported_media_type",
            exceptions.ParseError: "malformed_body",
            exceptions.Throttled: "throttled",
        }.get(type(exc), str(getattr(exc, "default_code", "error")))
        return problem_response(
            exc.status_code, code, str(exc.detail), headers=headers, instance=instance
        )

    logger.exception("Unhandled API error", exc_info=exc)
    return problem_response(
        500, "internal_error", _("Something went wrong on our side."), instance=instance
    )


def api_not_found(
    request: HttpRequest, exception: Exception | None = None
) -> JsonResponse:
    """404 for unknown URLs as problem JSON: Django's ``handler404`` (DEBUG
    off) and the catch-all view for ``/api/`` (DEBUG on too)."""
    detail = _("There is nothing at this address.")
    if not request.path.endswith("/"):
        from django.urls import Resolver404, resolve

        try:
            match = resolve(request.path_info + "/")
        except Resolver404:
            match = None
        if (
            match is not None
            and getattr(match.func, "__wrapped__", match.func) is not api_not_found
        ):
            detail += " " + _("Did you mean %(path)s (with a slash)?") % {
                "path": f"{request.path}/"
            }
    body = problem(404, "not_found", detail, instance=request.path)
    return JsonResponse(body, status=404, content_type=PROBLEM_CONTENT_TYPE)


def api_server_error(request: HttpRequest) -> JsonResponse:
    body = problem(
        500,
        "internal_error",
        _("Something went wrong on our side."),
        instance=request.path,
    )
    return JsonResponse(body, status=500, content_type=PROBLEM_CONTENT_TYPE)
