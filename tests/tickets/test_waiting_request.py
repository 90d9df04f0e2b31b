"""Waiting on the customer says what they are asked for: on their page,
in the public JSON and (tests/tickets/test_mail_notifications.py) in the
email, while the reason stays internal."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests import helpers
from tests.tickets.api_helpers import token_client
from tickets import services
from tickets.customer import customer_link_issue
from tickets.domain import Ticket
from tickets.models import TimelineEntry

pytestmark = pytest.mark.django_db

ASKED = "the order number printed on your receipt"
WHY = "zqINTERNALwhy"


def test_the_page_says_what_the_customer_is_asked_for(org: helpers.Org) -> None:
    tid = helpers.open_ticket(org)
    services.ticket_wait_on_customer(
        principal=org.agent("CS"), ticket_id=tid, reason=WHY, request=ASKED
    )
    token = customer_link_issue(ticket_id=tid, issued_by="test")
    page = Client().get(f"/t/{token}/").content.decode()
    assert f"Customer Service needs from you: {ASKED}" in page
    assert WHY not in page
    public = Client().get(f"/api/v1/public/timeline/{token}/").json()
    assert ASKED in public["promise"]
    assert WHY not in json.dumps(public)
    entry = TimelineEntry.objects.get(
        ticket_id=tid, event_type="Ticket.WaitingOnCustomer"
    )
    assert (entry.body, entry.audience) == (ASKED, "customer")
    assert WHY in entry.internal_detail


def test_the_api_records_the_request_and_a_plain_wait_still_works(
    org: helpers.Org,
) -> None:
    tid = helpers.open_ticket(org)
    client = token_client(org.agents["CS"])
    answer = client.post(
        f"/api/v1/tickets/{tid}/waiting/", {"request": ASKED}, format="json"
    )
    assert answer.status_code == 200, answer.content
    [event] = [
        e for e in helpers.stored_events(tid) if isinstance(e, Ticket.WaitingOnCustomer)
    ]
    assert (event.request, event.reason) == (ASKED, "")
    services.ticket_end_waiting(principal=org.agent("CS"), ticket_id=tid)
    services.ticket_wait_on_customer(principal=org.agent("CS"), ticket_id=tid)
    token = customer_link_issue(ticket_id=tid, issued_by="test")
    promise = Client().get(f"/api/v1/public/timeline/{token}/").json()["promise"]
    assert promise.startswith("We are waiting for your reply since")
