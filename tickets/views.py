"""The customer's ticket page, ``/t/<token>/``: plain Django templates,
readable on a phone, no JavaScript needed. Forms post back to the page
(post/redirect/get). Wrong, revoked and expired links are a plain 404,
and an address that keeps guessing is throttled. The page speaks the
ticket's language, or the one the customer picked with its switcher
(``tickets.languages.page_language``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from tickets import attachments, services
from tickets.commands import CUSTOMER_ACTIONS
from tickets.customer import (
    customer_principal,
    customer_view,
    record_failure,
    ticket_for_token,
)
from tickets.domain import (
    MAX_ATTACHMENTS,
    InvalidInput,
    TicketError,
    TicketNotFound,
    UnknownHandoff,
)
from tickets.languages import html_lang, page_language


def _not_found(request: HttpRequest, status: int = 404) -> HttpResponse:
    """A wrong, revoked or expired link, in the browser's language."""
    context = {"html_lang": html_lang(translation.get_language())}
    return render(request, "tickets/customer_missing.html", context, status=status)


# CSRF is checked by ``_page``, after the body's size: the check reads the
# form, which would spool a body of any size to disk first.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def customer_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        ticket = ticket_for_token(token)
    except TicketNotFound:
        # A valid link always opens; only an address that keeps guessing
        # wrong ones is slowed down.
        retry_after = record_failure(request)
        if retry_after is None:
            return _not_found(request)
        response = _not_found(request, status=429)
        response["Retry-After"] = str(retry_after)
        return response

    language = page_language(request, ticket.language)
    with translation.override(language):
        response = _respond(request, ticket, token)
    response["Content-Language"] = language
    patch_vary_headers(response, ("Cookie",))  # the switcher's choice
    return response


def _respond(request: HttpRequest, ticket: Any, token: str) -> HttpResponse:
    if request.method == "POST":
        try:
            attachments.check_body_size(request.META, files=MAX_ATTACHMENTS)
        except TicketError as failure:  # refused unread: nothing to keep
            return _render(request, ticket, token, error=failure.message, status=413)
    return _page(request, ticket, token)


@csrf_protect
def _page(request: HttpRequest, ticket: Any, token: str) -> HttpResponse:
    if request.method != "POST":
        return _render(request, ticket, token)
    try:
        _act(request, ticket)
    except TicketError as failure:
        ticket.refresh_from_db()
        return _render(request, ticket, token, error=failure.message, form=request.POST)
    return HttpResponseRedirect(
        request.path + "?done=" + request.POST.get("action", "")
    )


def _render(
    request: HttpRequest,
    ticket: Any,
    token: str,
    *,
    error: str = "",
    status: int = 400,
    form: Any = None,
) -> HttpResponse:
    """The page; with ``error`` (status 400 unless said), and what was
    typed (``form``) to fill in again."""
    language = translation.get_language()
    context: dict[str, Any] = {
        "view": customer_view(ticket),
        "html_lang": html_lang(language),
        "language": language,
        "next": request.path,
        "token": token,
        "max_files": MAX_ATTACHMENTS,
        "max_file_size": settings.BATON_ATTACHMENT_MAX_BYTES,
        "error": error,
        "done": request.GET.get("done", ""),
        "form": form or {},
    }
    return render(
        request,
        "tickets/customer_page.html",
        context,
        status=status if error else 200,
    )


def _act(request: HttpRequest, ticket: Any) -> None:
    """Run the customer's command the form names (``customer_action`` in
    the command table) with the fields it posts. Files sent with a message
    are stored as the customer's uploads and attached by the same command;
    if it is refused, they are not kept."""
    command = CUSTOMER_ACTIONS.get(request.POST.get("action", ""))
    if command is None:
        raise InvalidInput(
            gettext("Unknown action."), field="action", code="invalid_action"
        )
    principal = customer_principal(ticket)
    inputs = {
        name: _form_value(name, request.POST.get(name, ""))
        for name in command.fields
        if name != "attachments"
    }
    uploads = request.FILES.getlist("attachments")
    stored = []
    if uploads and "attachments" in command.fields:
        stored = attachments.store_all(
            uploads,
            uploader=attachments.uploader_key(principal, ticket.ticket_id),
            uploaded_by=ticket.customer_name or ticket.customer_ref,
        )
        inputs["attachments"] = [a.id for a in stored]
    try:
        services.ticket_command(
            command.name, principal=principal, ticket_id=ticket.ticket_id, **inputs
        )
    except TicketError:  # refused: nothing was stored, so keep no file
        attachments.discard(stored)
        raise


def _form_value(name: str, raw: str) -> Any:
    """A posted field as the command takes it. The score is checked by the
    domain (a page can post anything); a rating's step is a handoff id, or
    ``ticket`` for no handoff: the whole experience."""
    if name == "score":
        return int(raw) if raw.isdigit() else raw
    if name == "handoff_id":
        if raw == "ticket":
            return None
        try:
            return UUID(raw)
        except ValueError:
            raise UnknownHandoff("That step is not part of this ticket.") from None
    return raw
