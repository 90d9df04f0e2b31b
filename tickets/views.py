"""The customer's ticket page, ``/t/<token>/``: plain Django templates,
readable on a phone, no JavaScript needed. Forms post back to the page
(post/redirect/get). Wrong, revoked and expired links are a plain 404,
and an address that keeps guessing is throttled."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from tickets import services
from tickets.commands import CUSTOMER_ACTIONS
from tickets.customer import (
    customer_principal,
    customer_view,
    record_failure,
    ticket_for_token,
)
from tickets.domain import InvalidInput, TicketError, TicketNotFound, UnknownHandoff


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "tickets/customer_missing.html", status=404)


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
        response = render(request, "tickets/customer_missing.html", status=429)
        response["Retry-After"] = str(retry_after)
        return response

    error = ""
    if request.method == "POST":
        try:
            _act(request, ticket)
        except TicketError as failure:
            error = failure.message
        else:
            return HttpResponseRedirect(
                request.path + "?done=" + request.POST.get("action", "")
            )
        ticket.refresh_from_db()
    context: dict[str, Any] = {
        "view": customer_view(ticket),
        "error": error,
        "done": request.GET.get("done", ""),
        "form": request.POST if error else {},
    }
    return render(
        request, "tickets/customer_page.html", context, status=400 if error else 200
    )


def _act(request: HttpRequest, ticket: Any) -> None:
    """Run the customer's command the form names (``customer_action`` in
    the command table) with the fields it posts."""
    command = CUSTOMER_ACTIONS.get(request.POST.get("action", ""))
    if command is None:
        raise InvalidInput("Unknown action.", field="action", code="invalid_action")
    services.ticket_command(
        command.name,
        principal=customer_principal(ticket),
        ticket_id=ticket.ticket_id,
        **{
            name: _form_value(name, request.POST.get(name, ""))
            for name in command.fields
        },
    )


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
