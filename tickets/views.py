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
from tickets.customer import (
    customer_principal,
    customer_view,
    record_failure,
    ticket_for_token,
)
from tickets.domain import TicketError, TicketNotFound


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
    principal = customer_principal(ticket)
    action = request.POST.get("action", "")
    if action == "reply":
        services.ticket_record_customer_reply(
            principal=principal,
            ticket_id=ticket.ticket_id,
            body=request.POST.get("body", ""),
        )
        return
    if action == "rate":
        raw_score = request.POST.get("score", "")
        score: Any = int(raw_score) if raw_score.isdigit() else raw_score
        comment = request.POST.get("comment", "")
        handoff = request.POST.get("handoff_id", "")
        if handoff == "ticket":
            services.ticket_rate_experience(
                principal=principal,
                ticket_id=ticket.ticket_id,
                score=score,
                comment=comment,
            )
            return
        try:
            handoff_id = UUID(handoff)
        except ValueError:
            from tickets.domain import UnknownHandoff

            raise UnknownHandoff("That step is not part of this ticket.") from None
        services.ticket_rate_handoff(
            principal=principal,
            ticket_id=ticket.ticket_id,
            handoff_id=handoff_id,
            score=score,
            comment=comment,
        )
        return
    from tickets.domain import InvalidInput

    raise InvalidInput("Unknown action.", field="action", code="invalid_action")
