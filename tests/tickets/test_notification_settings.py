"""Each staff member's notification settings: over the API
(``/api/v1/me/notifications/``) and on their own admin page."""

from __future__ import annotations

from typing import Any

from django.test import Client
from rest_framework.test import APIClient

from tests.helpers import Org
from tests.tickets.api_helpers import token_client
from tickets.models import NotificationSettings

URL = "/api/v1/me/notifications/"
DEFAULTS = {
    "department_handoff": False,
    "assigned": True,
    "customer_reply": True,
    "sla_alert": True,
}


def _put(client: APIClient, body: Any) -> Any:
    return client.put(URL, body, format="json")


def test_the_defaults_until_changed(org: Org) -> None:
    response = token_client(org.agents["FIN"]).get(URL)
    assert response.status_code == 200
    assert response.json() == DEFAULTS
    assert not NotificationSettings.objects.exists()  # reading stores nothing


def test_a_user_changes_their_own_settings_only(org: Org) -> None:
    agent = token_client(org.agents["FIN"])
    response = _put(agent, {"department_handoff": True, "sla_alert": False})
    assert response.status_code == 200
    expected = {**DEFAULTS, "department_handoff": True, "sla_alert": False}
    assert response.json() == expected
    assert agent.get(URL).json() == expected
    # Fields left out keep their values.
    assert _put(agent, {"assigned": False}).json() == {**expected, "assigned": False}
    saved = NotificationSettings.objects.get(user=org.agents["FIN"])
    assert (saved.department_handoff, saved.assigned, saved.sla_alert) == (
        True,
        False,
        False,
    )
    # Someone else's settings are untouched.
    assert token_client(org.leads["FIN"]).get(URL).json() == DEFAULTS


def test_unknown_fields_and_non_booleans_are_refused_with_codes(org: Org) -> None:
    agent = token_client(org.agents["FIN"])
    response = _put(agent, {"assigned": False, "digest": True})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_failed"
    assert body["errors"] == [
        {"field": "digest", "message": "Unknown field.", "code": "unknown_field"}
    ]
    response = _put(agent, {"assigned": "no"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "assigned"
    assert response.json()["errors"][0]["code"] == "invalid"
    response = _put(agent, ["assigned"])
    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed"
    # Nothing was stored by the refused requests.
    assert not NotificationSettings.objects.exists()


def test_anonymous_callers_are_refused(org: Org) -> None:
    response = APIClient().get(URL)
    assert response.status_code in (401, 403)
    assert "code" in response.json()


def _login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_page_edits_ones_own_settings(org: Org) -> None:
    agent = org.agents["FIN"]
    client = _login(agent)
    page = "/admin/tickets/notificationsettings/"
    response = client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert "My settings" in html
    assert "ticket is handed to my department" in html
    response = client.post(
        page, {"department_handoff": "on", "assigned": "on", "sla_alert": "on"}
    )
    assert response.status_code == 302
    own = NotificationSettings.objects.get(user=agent)
    assert (own.department_handoff, own.customer_reply) == (True, False)
    # The change page of one's own row works too.
    own_page = f"/admin/tickets/notificationsettings/{own.pk}/change/"
    assert client.get(own_page).status_code == 200
    # Another user's page is not theirs to see or change.
    other, _ = NotificationSettings.objects.get_or_create(user=org.leads["FIN"])
    other_page = f"/admin/tickets/notificationsettings/{other.pk}/change/"
    assert client.get(other_page).status_code in (302, 403, 404)
    client.post(other_page, {"department_handoff": "on"})
    other.refresh_from_db()
    assert other.department_handoff is False


def test_the_outbox_admin_lists_rows_and_superusers_retry(org: Org) -> None:
    from datetime import UTC, datetime, timedelta

    from django.contrib.auth.models import User

    from tests.helpers import open_ticket
    from tickets import clock
    from tickets.models import EmailNotification

    tid = open_ticket(org)
    row = EmailNotification.objects.create(
        position=1,
        kind="opened",
        recipient="dana@example.com",
        audience="customer",
        ticket_id=tid,
        message_id="<x@example.com>",
        subject="We received your request",
        text="t",
        status="failed",
        attempts=10,
        next_attempt_at=datetime(2026, 1, 1, tzinfo=UTC),
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        last_error="SMTPException: 554",
    )
    # A worker is sending this one right now (its claim holds).
    claim = clock.now() + timedelta(minutes=3)
    being_sent = EmailNotification.objects.create(
        position=2,
        kind="opened",
        recipient="eve@example.com",
        audience="customer",
        ticket_id=tid,
        message_id="<y@example.com>",
        subject="We received your request",
        text="t",
        status="pending",
        attempts=1,
        next_attempt_at=datetime(2026, 1, 1, tzinfo=UTC),
        claimed_until=claim,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    root = User.objects.create_superuser("root", "root@example.com", "pw")
    client = _login(root)
    listing = client.get("/admin/tickets/emailnotification/")
    assert listing.status_code == 200
    assert "dana@example.com" in listing.content.decode()
    response = client.post(
        "/admin/tickets/emailnotification/",
        {"action": "retry", "_selected_action": [row.pk, being_sent.pk]},
        follow=True,
    )
    assert "1 email will be sent again." in response.content.decode()
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 0)
    # The claimed one is left to its sender.
    being_sent.refresh_from_db()
    assert (being_sent.attempts, being_sent.claimed_until) == (1, claim)
