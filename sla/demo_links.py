"""The customer links ``load_demo`` prints: live tickets, stable links.

Each demo ticket's link was issued when it opened; the demo prints it
again on every run (re-derived from its stored salt and SECRET_KEY, which
``make run`` keeps in .env) and never re-issues it, because issuing a new
link revokes the old one: a link printed by one run still opens after the
next.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F

from tickets.customer import (
    customer_link_for_mail,
    customer_link_issue,
    customer_link_path,
)
from tickets.models import TicketSummary


def demo_link_tickets() -> list[TicketSummary]:
    """The live tickets the demo shows customers' pages of, the newest of
    each kind: with a back-office department, waiting on the customer,
    with the front line. (Resolved and closed tickets are not live.)"""
    live = TicketSummary.objects.order_by("-opened_at")
    picks = [
        live.filter(status="open").exclude(owner=F("front_line")).first(),
        live.filter(status="waiting").first(),
        live.filter(status="open", owner=F("front_line")).first(),
    ]
    return [ticket for ticket in picks if ticket is not None]


def demo_link_path(ticket: TicketSummary) -> str:
    """The ticket's current link, or a new one when someone trying the
    demo revoked it (or it expired)."""
    path = customer_link_for_mail(ticket.ticket_id)
    if path is None:
        token = customer_link_issue(ticket_id=ticket.ticket_id, issued_by="demo loader")
        path = customer_link_path(token)
    return path


def print_customer_links(out: Any, port: str) -> None:
    out.write("Customer pages (live demo tickets; the links stay valid):")
    for ticket in demo_link_tickets():
        out.write(
            f"  http://127.0.0.1:{port}{demo_link_path(ticket)}  "
            f"({ticket.subject}; {ticket.status}, with {ticket.owner_name})"
        )
    out.write("")
