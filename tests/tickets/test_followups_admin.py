"""The Dissatisfied inbox in the admin: who sees which follow-ups, the
order, the step forms, and a conflict that keeps what was typed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from tests.helpers import Org, event_count
from tests.tickets.test_followups import handed_to, rate
from tickets import services
from tickets.models import FollowUp, TicketSummary

T0 = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
INBOX = "admin:tickets_followups"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_url(follow_up: FollowUp) -> str:
    return reverse("admin:tickets_followup", args=[follow_up.pk])


@pytest.fixture
def follow_ups(org: Org) -> dict[str, FollowUp]:
    """A (Finance, overdue), B (Risk, newer); the Finance one is older."""
    made = {}
    for hours, ref, code in ((0, "A", "FIN"), (30, "B", "RISK")):
        with time_machine.travel(T0 + timedelta(hours=hours), tick=False):
            tid = handed_to(org, code, "LOG", ref=ref, subject=f"zq{ref} parcel")
            rate(tid, code, 1, ref=ref)
            made[ref] = FollowUp.objects.get(ticket_id=tid)
    return made


@pytest.fixture
def now() -> Any:
    with time_machine.travel(T0 + timedelta(hours=31), tick=False):
        yield


def listed(response: Any) -> list[str]:
    return [r["obj"].ticket.subject for r in response.context["rows"]]


def test_the_service_team_sees_every_follow_up_overdue_first(
    org: Org, follow_ups: dict[str, FollowUp], now: None
) -> None:
    response = client_for(org.leads["CS"]).get(reverse(INBOX))
    assert response.status_code == 200
    assert listed(response) == ["zqA parcel", "zqB parcel"]
    body = response.content.decode()
    assert "Overdue" in body and "RISK never called" in body
    assert response.context["works"] is True


def test_a_department_lead_sees_its_own_read_only(
    org: Org, follow_ups: dict[str, FollowUp], now: None
) -> None:
    client = client_for(org.leads["FIN"])
    response = client.get(reverse(INBOX))
    assert listed(response) == ["zqA parcel"]
    assert "zqB" not in response.content.decode()
    page = client.get(page_url(follow_ups["A"]))
    assert page.status_code == 200 and 'id="step-note"' not in page.content.decode()
    assert client.get(page_url(follow_ups["B"])).status_code == 404
    before = event_count()
    refused = client.post(
        page_url(follow_ups["A"]), {"action": "follow_up_note", "note": "x"}
    )
    assert refused.status_code == 403 and event_count() == before


def test_a_superuser_outside_the_front_line_reads_them_without_step_forms(
    org: Org, follow_ups: dict[str, FollowUp], now: None
) -> None:
    """Working a follow-up is a front-line lead's call (the domain refuses
    anyone else), so the page offers no form it would refuse."""
    from django.contrib.auth.models import User

    root = User.objects.create_superuser("root-reader", "root@example.com", "x")
    client = client_for(root)
    assert listed(client.get(reverse(INBOX))) == ["zqA parcel", "zqB parcel"]
    page = client.get(page_url(follow_ups["A"]))
    assert page.status_code == 200 and 'id="step-note"' not in page.content.decode()
    before = event_count()
    refused = client.post(
        page_url(follow_ups["A"]), {"action": "follow_up_note", "note": "x"}
    )
    assert refused.status_code == 403 and event_count() == before


def test_agents_have_no_inbox(org: Org, follow_ups: dict[str, FollowUp]) -> None:
    for user in (org.agents["CS"], org.agents["FIN"]):
        client = client_for(user)
        assert client.get(reverse(INBOX)).status_code == 403
        assert client.get(page_url(follow_ups["A"])).status_code == 403


def test_the_filters_narrow_the_list(
    org: Org, follow_ups: dict[str, FollowUp], now: None
) -> None:
    client = client_for(org.leads["CS"])
    assert listed(client.get(reverse(INBOX), {"status": "overdue"})) == ["zqA parcel"]
    assert listed(client.get(reverse(INBOX), {"department": "RISK"})) == ["zqB parcel"]
    assert listed(client.get(reverse(INBOX), {"status": "closed"})) == []


def test_a_step_posted_from_the_page_is_stored(
    org: Org, follow_ups: dict[str, FollowUp], now: None
) -> None:
    follow_up = follow_ups["A"]
    client = client_for(org.leads["CS"])
    page = client.get(page_url(follow_up))
    version = page.context["version"]
    done = client.post(
        page_url(follow_up),
        {
            "action": "follow_up_close",
            "outcome": "resolved",
            "note": "Refunded",
            "version": version,
        },
    )
    assert done.status_code == 302
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.outcome) == ("closed", "resolved")
    after = client.get(page_url(follow_up)).content.decode()
    assert "Refunded" in after and 'id="step-reopen"' in after


def test_a_conflict_keeps_what_was_typed_and_stores_nothing(
    org: Org, follow_ups: dict[str, FollowUp], now: None
) -> None:
    follow_up = follow_ups["A"]
    client = client_for(org.leads["CS"])
    stale = client.get(page_url(follow_up)).context["version"]
    services.ticket_add_note(
        principal=org.agent("CS"), ticket_id=follow_up.ticket_id, body="Meanwhile"
    )
    before = event_count()
    typed = "Called the customer: refund promised by Friday"
    response = client.post(
        page_url(follow_up),
        {
            "action": "follow_up_contact",
            "method": "phone",
            "note": typed,
            "version": stale,
        },
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert typed in body and "Someone else changed this ticket" in body
    assert event_count() == before
    assert (
        response.context["version"]
        == TicketSummary.objects.get(pk=follow_up.ticket_id).version
    )
    # Sent again from the re-rendered form, it is stored.
    again = client.post(
        page_url(follow_up),
        {
            "action": "follow_up_contact",
            "method": "phone",
            "note": typed,
            "version": response.context["version"],
        },
    )
    assert again.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.contact_method == "phone"


def test_a_refused_step_shows_why(
    org: Org, follow_ups: dict[str, FollowUp], now: None
) -> None:
    follow_up = follow_ups["A"]
    response = client_for(org.leads["CS"]).post(
        page_url(follow_up),
        {"action": "follow_up_assign", "owner_id": str(org.agents["FIN"].pk)},
    )
    assert response.status_code == 400
    assert "not a member of the front line" in response.content.decode()


def test_a_missing_follow_up_is_404(org: Org, follow_ups: dict[str, FollowUp]) -> None:
    missing = reverse(
        "admin:tickets_followup", args=[UUID("00000000-0000-0000-0000-000000000001")]
    )
    assert client_for(org.leads["CS"]).get(missing).status_code == 404
