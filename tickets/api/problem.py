"""RFC 9457 problem details, the one shape of every API error: a JSON body
with ``type``, ``title``, ``status``, ``detail`` and a machine-readable
``code``. The exception handler (``config.exceptions``) and the views that
answer errors themselves (idempotency) both build them here.

Languages: ``code`` is always English (clients branch on it); ``title``
and ``detail`` are in the request's language (``LocaleMiddleware``:
``Accept-Language``). The domain's messages are English and name the
specifics ("Finance already owns this ticket"); in another language the
detail is the translated sentence for the code (:data:`DETAILS`), and the
specifics stay in the other members (``field``, ``errors``)."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rest_framework.response import Response

PROBLEM_CONTENT_TYPE = "application/problem+json"

#: The language the code's own messages are written in.
SOURCE_LANGUAGE = "en"

TITLES: dict[int, Promise] = {
    400: _("Bad request"),
    401: _("Authentication required"),
    403: _("Forbidden"),
    404: _("Not found"),
    405: _("Method not allowed"),
    406: _("Not acceptable"),
    409: _("Conflict"),
    412: _("Precondition failed"),
    413: _("Payload too large"),
    415: _("Unsupported media type"),
    422: _("Unprocessable content"),
    429: _("Too many requests"),
    500: _("Internal server error"),
}

#: The detail, per code, of errors whose message is written in English
#: only (the domain's rules, which cannot import Django, and a few
#: services): what a reader of another language gets. Codes whose message
#: is only ever translated where it is raised (attachments) are not here:
#: their own, more specific message passes through.
DETAILS: dict[str, Promise] = {
    # Domain rules (tickets.domain.errors.ERROR_CODES: a test checks that
    # every rule has its sentence here).
    "not_owner": _("Your department does not own this ticket."),
    "not_permitted": _("You are not allowed to do this."),
    "handoff_to_current_owner": _(
        "The ticket is already with that department: choose another one."
    ),
    "department_inactive": _("That department is not active."),
    "reason_required": _("Please give a reason."),
    "ticket_resolved": _("The ticket is resolved: reopen it first."),
    "ticket_closed": _("The ticket is closed; nothing more can be done."),
    "ticket_not_resolved": _("The ticket is not resolved."),
    "already_waiting": _("The ticket is already waiting on the customer."),
    "not_waiting": _("The ticket is not waiting on the customer."),
    "assignee_not_member": _(
        "That person is not a member of the department that owns the ticket."
    ),
    "no_change": _("Nothing would change."),
    "unknown_handoff": _("That handoff is not part of this ticket."),
    "handoff_not_finished": _(
        "This department's part is not finished yet, so it cannot be rated."
    ),
    "already_rated": _("This has already been rated."),
    "invalid_score": _("A score is a whole number from 1 to 5."),
    "nothing_to_dispute": _("There is no breach or rating to dispute here."),
    "already_disputed": _("This has already been disputed."),
    "unknown_dispute": _("This ticket has no such dispute."),
    "dispute_already_decided": _("This dispute has already been decided."),
    "clock_not_found": _("This ticket has no such clock."),
    "sla_already_recorded": _("This warning or breach is already recorded."),
    "clock_not_due": _("The clock has not reached that point yet."),
    "ticket_not_found": _("There is no such ticket."),
    "version_conflict": _(
        "Someone else changed the ticket in the meantime; nothing was saved. "
        "Reload it and try again."
    ),
    "unknown_follow_up": _("This ticket has no such follow-up."),
    "follow_up_closed": _("The follow-up is closed: it takes notes and a reopen only."),
    # Raised by the domain in English, and translated by the services that
    # check them first (attachments, languages).
    "invalid_language": _("The language is not one Baton offers."),
    "invalid_attachment": _("The file cannot be accepted."),
    "too_many_attachments": _("Too many files for one entry."),
    # Other layers' refusals.
    "malformed_body": _(
        "The body is not a valid JSON document (UTF-8, at most 32 levels deep, "
        "no repeated names)."
    ),
    "version_mismatch": _(
        "The ticket has changed since the version you sent (If-Match)."
    ),
    "idempotency_key_reused": _(
        "This Idempotency-Key was used for a different request."
    ),
    "idempotency_key_in_progress": _(
        "A request with this Idempotency-Key is still being processed; retry."
    ),
    "invalid_idempotency_key": _("Idempotency-Key must be 1-255 characters."),
    "scorecard_not_found": _("There is no such scorecard."),
    # Field-level codes (the field is named in ``field``).
    "field_required": _("A required field is missing."),
    "field_too_long": _("A text is longer than its limit."),
    "invalid_type": _("A field has the wrong type."),
    "invalid_characters": _("A text holds characters that are not allowed."),
    "invalid_choice": _("A field holds a value that is not one of its choices."),
    "invalid_scenario": _("The scenario is not valid."),
    "invalid_timezone": _("The timezone is not a valid timezone name."),
    "invalid_action": _("The action is not valid."),
    "invalid_period_start": _("The start date does not begin a period of that kind."),
    "unknown_scenario": _("There is no active scenario with that code."),
    "unknown_department": _("There is no department with that code."),
    "unknown_agent": _("There is no active user with that id."),
    "front_line_ambiguous": _("Say which front-line department opens the ticket."),
    "root_cause_detail_not_allowed": _(
        "A product area or detail is only for the root causes product defect "
        "and process."
    ),
}


def localized_detail(code: str, detail: str) -> str:
    """``detail`` in the active language: unchanged in English (the
    source language, whose messages are the most specific), else the
    translated sentence for ``code`` when there is one."""
    language = translation.get_language() or SOURCE_LANGUAGE
    if language.split("-")[0] == SOURCE_LANGUAGE:
        return detail
    sentence = DETAILS.get(code)
    return str(sentence) if sentence is not None else detail


def problem(
    status_code: int,
    code: str,
    detail: str,
    *,
    instance: str = "",
    **extra: Any,
) -> dict[str, Any]:
    title = TITLES.get(status_code)
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": str(title) if title is not None else str(_("Error")),
        "status": status_code,
        "detail": localized_detail(code, str(detail)),
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
