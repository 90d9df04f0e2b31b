"""The customer's page and JSON: who has the ticket and by when, in the
customer's timezone; nothing internal ever shown; links that fail safely;
ratings with their rules; and text that cannot inject markup."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from sla import services as sla_services
from tests.helpers import Org, event_count
from tests.tickets.api_helpers import token_client
from tickets import services
from tickets.customer import customer_link_issue, customer_link_revoke
from tickets.models import CustomerAccess, SLAClock, TicketSummary

MON_0200 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 Shanghai, 03:00 Paris
LUNCH = dict.fromkeys(
    ["monday", "tuesday", "wednesday", "thursday", "friday"], "09:00-12:00, 13:00-18:00"
)


@pytest.fixture
def frozen() -> Iterator[Any]:
    with time_machine.travel(MON_0200, tick=False) as traveller:
        yield traveller


def finance_sla(org: Org) -> None:
    with time_machine.travel(MON_0200 - timedelta(days=30), tick=False):
        sla_services.calendar_version_create(
            department=org.departments["FIN"], timezone="Asia/Shanghai", **LUNCH
        )
        sla_services.policy_version_create(
            department=org.departments["FIN"], response_normal=timedelta(hours=4)
        )


def ticket_with_link(org: Org, **fields: Any) -> tuple[UUID, str]:
    result = services.ticket_open(
        principal=org.agent("CS"),
        subject=fields.pop("subject", "Refund not received"),
        customer_ref="CUST-1",
        customer_name="Dana Customer",
        customer_timezone=fields.pop("customer_timezone", "Europe/Paris"),
        channel="web",
        **fields,
    )
    return result.ticket_id, result.detail["customer_token"]


def hand_to_finance(org: Org, tid: UUID, reason: str = "Refund approval") -> None:
    services.ticket_hand_off(
        principal=org.agent("CS"), ticket_id=tid, to_department="FIN", reason=reason
    )


def test_the_page_names_the_department_and_its_promise_in_the_customers_timezone(
    org: Org, frozen: Any
) -> None:
    finance_sla(org)
    tid, token = ticket_with_link(org)
    frozen.move_to(MON_0200 + timedelta(minutes=30))
    hand_to_finance(org, tid)
    stored_due = SLAClock.objects.get(ticket_id=tid, department="FIN").due_at
    # 4h from 10:30 Shanghai with lunch = 15:30 Shanghai = 07:30Z = 08:30 Paris.
    assert stored_due == datetime(2026, 3, 2, 7, 30, tzinfo=UTC)

    page = Client().get(f"/t/{token}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Finance will reply by Monday 08:30." in html
    assert "Times are shown in Europe/Paris" in html
    assert "Finance has had your request since Monday 03:30" in html

    public = APIClient().get(f"/api/v1/public/timeline/{token}/").json()
    assert public["promise"] == "Finance will reply by Monday 08:30."
    assert (
        datetime.fromisoformat(public["promise_due_at"].replace("Z", "+00:00"))
        == stored_due
    )
    assert [s["department"] for s in public["journey"]] == [
        "Customer Service",
        "Finance",
    ]
    assert public["journey"][1]["promised_by_local"] == "Monday 08:30"


def test_an_overdue_promise_is_said_plainly(org: Org, frozen: Any) -> None:
    finance_sla(org)
    tid, token = ticket_with_link(org)
    hand_to_finance(org, tid)
    frozen.move_to(MON_0200 + timedelta(hours=8))
    html = Client().get(f"/t/{token}/").content.decode()
    assert "Finance promised to reply by" in html and "That time has passed" in html


def test_waiting_and_resolved_states_are_worded_for_the_customer(
    org: Org, frozen: Any
) -> None:
    tid, token = ticket_with_link(org)
    services.ticket_wait_on_customer(principal=org.agent("CS"), ticket_id=tid)
    view = APIClient().get(f"/api/v1/public/timeline/{token}/").json()
    assert view["promise"] == "We are waiting for your reply since Monday 03:00."
    services.ticket_end_waiting(principal=org.agent("CS"), ticket_id=tid)
    services.ticket_resolve(
        principal=org.agent("CS"),
        ticket_id=tid,
        resolution="Refund sent",
        root_cause="process",
    )
    view = APIClient().get(f"/api/v1/public/timeline/{token}/").json()
    assert view["promise"] == "Resolved on Monday 03:00, by Customer Service."
    assert view["can_reply"] is False


def test_no_internal_note_reason_or_staff_surname_ever_reaches_the_customer(
    org: Org, frozen: Any
) -> None:
    tid, token = ticket_with_link(org)
    hand_to_finance(org, tid, reason="SECRET-REASON internal escalation")
    services.ticket_add_note(
        principal=org.agent("FIN"), ticket_id=tid, body="SECRET-NOTE fraud?"
    )
    services.ticket_respond(
        principal=org.agent("FIN"), ticket_id=tid, body="We are on it"
    )
    services.ticket_wait_on_customer(
        principal=org.agent("FIN"), ticket_id=tid, reason="SECRET-WAIT bank check"
    )
    services.ticket_end_waiting(principal=org.agent("FIN"), ticket_id=tid)
    services.ticket_resolve(
        principal=org.agent("FIN"),
        ticket_id=tid,
        resolution="Refunded",
        root_cause="product_defect",
    )
    services.ticket_reopen(
        principal=org.agent("CS"), ticket_id=tid, reason="SECRET-REOPEN"
    )
    outputs = {
        "page": Client().get(f"/t/{token}/").content.decode(),
        "public": json.dumps(
            APIClient().get(f"/api/v1/public/timeline/{token}/").json()
        ),
        "staff": json.dumps(
            token_client(org.leads["CS"]).get(f"/api/v1/tickets/{tid}/timeline/").json()
        ),
    }
    for name, output in outputs.items():
        assert "We are on it" in output, name
        for secret in (
            "SECRET",
            "Surnameof",
            "Leadsurname",
            "product defect",
            "product_defect",
            "fraud",
        ):
            assert secret not in output, (name, secret)


def test_staff_can_appear_by_role_instead_of_first_name(
    org: Org, frozen: Any, settings: Any
) -> None:
    settings.BATON_CUSTOMER_STAFF_NAMES = "role"
    tid, token = ticket_with_link(org)
    services.ticket_respond(principal=org.agent("CS"), ticket_id=tid, body="Hello")
    html = Client().get(f"/t/{token}/").content.decode()
    assert "Customer Service team" in html and "Csagent" not in html


# --- links ----------------------------------------------------------------


def test_wrong_revoked_and_expired_links_are_a_plain_404(org: Org, frozen: Any) -> None:
    tid, token = ticket_with_link(org)
    client = Client()
    assert client.get(f"/t/{token}/").status_code == 200
    assert client.get(f"/t/{token}x/").status_code == 404
    assert APIClient().get(f"/api/v1/public/timeline/{token}x/").status_code == 404

    new_token = customer_link_issue(ticket_id=tid, issued_by="test")
    assert client.get(f"/t/{token}/").status_code == 404  # replaced
    assert client.get(f"/t/{new_token}/").status_code == 200
    customer_link_revoke(ticket_id=tid)
    assert client.get(f"/t/{new_token}/").status_code == 404

    expiring = customer_link_issue(
        ticket_id=tid, issued_by="test", expires_at=MON_0200 + timedelta(days=1)
    )
    assert client.get(f"/t/{expiring}/").status_code == 200
    frozen.move_to(MON_0200 + timedelta(days=1, seconds=1))
    missing = client.get(f"/t/{expiring}/")
    assert missing.status_code == 404 and b"This link does not work" in missing.content
    assert all(
        len(a.token_hash) == 64 and expiring not in a.token_hash
        for a in CustomerAccess.objects.all()
    )


def test_guessing_links_is_throttled(org: Org, frozen: Any, settings: Any) -> None:
    settings.BATON_CUSTOMER_LINK_FAILURES = 3
    _, token = ticket_with_link(org)
    guesser = Client(REMOTE_ADDR="203.0.113.7")
    assert [guesser.get(f"/t/guess{n}/").status_code for n in range(3)] == [404] * 3
    blocked = guesser.get("/t/guess3/")
    assert blocked.status_code == 429 and blocked["Retry-After"] == "600"
    api = APIClient(REMOTE_ADDR="203.0.113.7")
    body = api.get("/api/v1/public/timeline/guess4/").json()
    assert body["code"] == "throttled"
    # Only guessing is throttled: the real link still opens from there.
    assert guesser.get(f"/t/{token}/").status_code == 200
    # Someone else, elsewhere, is unaffected.
    assert Client(REMOTE_ADDR="198.51.100.1").get(f"/t/{token}/").status_code == 200


def test_staff_reissue_and_revoke_links_over_the_api(org: Org, frozen: Any) -> None:
    created = (
        token_client(org.agents["CS"])
        .post(
            "/api/v1/tickets/",
            {"subject": "S", "customer_ref": "C", "channel": "web"},
            format="json",
        )
        .json()
    )
    first = created["customer_link"]
    assert first.startswith("http://testserver/t/")
    client = Client()
    assert client.get(first.removeprefix("http://testserver")).status_code == 200
    staff = token_client(org.agents["CS"])
    again = staff.post(f"/api/v1/tickets/{created['id']}/customer-link/").json()
    assert client.get(first.removeprefix("http://testserver")).status_code == 404
    second = again["customer_link"].removeprefix("http://testserver")
    assert client.get(second).status_code == 200
    assert (
        staff.delete(f"/api/v1/tickets/{created['id']}/customer-link/").status_code
        == 204
    )
    assert client.get(second).status_code == 404
    expiring = staff.post(
        f"/api/v1/tickets/{created['id']}/customer-link/",
        {"expires_at": "2026-03-05T00:00:00Z"},
        format="json",
    ).json()
    assert expiring["expires_at"] == "2026-03-05T00:00:00Z"
    link = expiring["customer_link"].removeprefix("http://testserver")
    assert client.get(link).status_code == 200
    past = staff.post(
        f"/api/v1/tickets/{created['id']}/customer-link/",
        {"expires_at": "2020-01-01T00:00:00Z"},
        format="json",
    )
    assert past.status_code == 400 and past.json()["code"] == "validation_failed"
    assert client.get(link).status_code == 200  # a refused re-issue revokes nothing
    outsider = token_client(org.agents["LOG"])
    assert (
        outsider.post(f"/api/v1/tickets/{created['id']}/customer-link/").status_code
        == 404
    )


# --- replies and ratings ------------------------------------------------------


def test_a_reply_from_the_page_resumes_the_ticket(org: Org, frozen: Any) -> None:
    tid, token = ticket_with_link(org)
    services.ticket_wait_on_customer(principal=org.agent("CS"), ticket_id=tid)
    client = Client()
    response = client.post(f"/t/{token}/", {"action": "reply", "body": "Here it is"})
    assert response.status_code == 302
    assert TicketSummary.objects.get(pk=tid).status == "open"
    page = client.get(response["Location"]).content.decode()
    assert "Thank you, your message was added." in page and "Here it is" in page
    empty = client.post(f"/t/{token}/", {"action": "reply", "body": "  "})
    assert empty.status_code == 400 and b"body is required" in empty.content


def test_rating_rules_hold_and_a_rejected_rating_stores_nothing(
    org: Org, frozen: Any
) -> None:
    tid, token = ticket_with_link(org)
    other_tid, _ = ticket_with_link(org, subject="Another")
    hand_to_finance(org, tid)
    summary = TicketSummary.objects.get(pk=tid)
    fin_stint = summary.current_stint_id
    other_stint = TicketSummary.objects.get(pk=other_tid).current_stint_id
    opening_stint = next(
        s["handoff_id"]
        for s in APIClient().get(f"/api/v1/public/timeline/{token}/").json()["journey"]
        if s["department"] == "Customer Service"
    )
    api = APIClient()
    url = f"/api/v1/public/timeline/{token}/ratings/"
    before = event_count()
    cases = [
        ({"handoff_id": str(fin_stint), "score": 5}, "handoff_not_finished"),
        ({"handoff_id": str(other_stint), "score": 5}, "unknown_handoff"),
        ({"handoff_id": opening_stint, "score": 0}, "invalid_score"),
        ({"handoff_id": opening_stint, "score": 6}, "invalid_score"),
        ({"handoff_id": opening_stint, "score": "five"}, "validation_failed"),
        ({"score": 4}, "ticket_not_resolved"),
    ]
    for data, code in cases:
        response = api.post(url, data, format="json")
        assert (response.status_code, response.json()["code"]) == (400, code), data
    assert event_count() == before

    rated = api.post(
        url,
        {"handoff_id": opening_stint, "score": 4, "comment": "quick"},
        format="json",
    )
    assert rated.status_code == 200
    step = rated.json()["journey"][0]
    assert (
        step["rating"] == {"score": 4, "comment": "quick"} and step["can_rate"] is False
    )
    twice = api.post(url, {"handoff_id": opening_stint, "score": 1}, format="json")
    assert twice.json()["code"] == "already_rated" and event_count() == before + 1
    # The page refuses the same way and says why.
    page = Client().post(
        f"/t/{token}/", {"action": "rate", "handoff_id": str(fin_stint), "score": "5"}
    )
    assert page.status_code == 400 and b"still working on this" in page.content
    assert event_count() == before + 1


def test_a_rating_is_attributed_to_the_stint_not_to_todays_owner(
    org: Org, frozen: Any
) -> None:
    tid, token = ticket_with_link(org)
    services.ticket_assign(
        principal=org.agent("CS"), ticket_id=tid, agent_id=org.leads["CS"].pk
    )
    opening = TicketSummary.objects.get(pk=tid).current_stint_id
    hand_to_finance(org, tid)
    Client().post(
        f"/t/{token}/", {"action": "rate", "handoff_id": str(opening), "score": "2"}
    )
    from tests.helpers import stored_events
    from tickets.domain import Ticket

    [rating] = [e for e in stored_events(tid) if isinstance(e, Ticket.HandoffRated)]
    assert (rating.department, rating.agent_id, rating.score) == (
        "CS",
        str(org.leads["CS"].pk),
        2,
    )
    assert rating.actor.kind == "customer"


def test_customer_and_staff_text_cannot_inject_markup(org: Org, frozen: Any) -> None:
    tid, token = ticket_with_link(org, subject="<b>bold</b> subject")
    services.ticket_record_customer_reply(
        principal=services.principal_for_customer(customer_ref="CUST-1"),
        ticket_id=tid,
        body="<script>alert('customer')</script>",
    )
    services.ticket_respond(
        principal=org.agent("CS"), ticket_id=tid, body='<img src=x onerror="alert(1)">'
    )
    html = Client().get(f"/t/{token}/").content.decode()
    assert (
        "<script>alert" not in html
        and "<img src=x" not in html
        and "<b>bold" not in html
    )
    assert "&lt;script&gt;alert(&#x27;customer&#x27;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
