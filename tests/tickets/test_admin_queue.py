"""The work queue and ticket page in the Django admin."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client

from sla import services as sla_services
from tests.helpers import Org, event_count, make_user, open_ticket
from tickets import services
from tickets.models import TicketSummary

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 Shanghai
QUEUE = "/admin/tickets/queueticket/"
WEEK = dict.fromkeys(
    ["monday", "tuesday", "wednesday", "thursday", "friday"], "09:00-18:00"
)


@pytest.fixture
def frozen() -> Iterator[Any]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def sla_org(org: Org) -> Org:
    with time_machine.travel(T0 - timedelta(days=10), tick=False):
        for code, hours, tz in (
            ("FIN", 4, "Asia/Shanghai"),
            ("LOG", 8, "America/New_York"),
        ):
            sla_services.calendar_version_create(
                department=org.departments[code], timezone=tz, **WEEK
            )
            sla_services.policy_version_create(
                department=org.departments[code],
                response_normal=timedelta(hours=hours),
                response_high=timedelta(hours=1),
            )
    return org


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def to_finance(org: Org, **fields: Any) -> UUID:
    tid = open_ticket(org, **fields)
    services.ticket_hand_off(
        principal=org.agent("CS"),
        ticket_id=tid,
        to_department="FIN",
        reason="Refund approval",
    )
    return tid


def subjects(html: str) -> list[str]:
    return re.findall(
        r'<t[hd] class="field-subject_link"><a href="[^"]+">([^<]+)</a>', html
    )


def test_the_queue_lists_the_departments_tickets_by_due_time(
    sla_org: Org, frozen: Any
) -> None:
    to_finance(sla_org, subject="Normal, due 14:00")
    frozen.move_to(T0 + timedelta(minutes=30))
    to_finance(sla_org, subject="High, due 11:30", priority="high")
    open_ticket(sla_org, subject="Still with the front line")
    page = login(sla_org.agents["FIN"]).get(QUEUE)
    assert page.status_code == 200
    html = page.content.decode()
    assert subjects(html) == ["High, due 11:30", "Normal, due 14:00"]
    assert "Work queue: Finance" in html
    # 10:30 Shanghai: the normal one (4h from 10:00) has 3h 30m left, the
    # high one (1h from 10:30) 1h.
    assert "1h left" in html and "3h 30m left" in html
    assert "On track: 2" in html and "Breached: 0" in html


def test_countdown_states_and_filters(sla_org: Org, frozen: Any) -> None:
    late = to_finance(sla_org, subject="Late", priority="high")  # 1h: due 11:00
    to_finance(sla_org, subject="Fine")  # 4h: due 14:00
    waiting = to_finance(sla_org, subject="Waiting")
    services.ticket_wait_on_customer(principal=sla_org.agent("FIN"), ticket_id=waiting)
    services.ticket_assign(
        principal=sla_org.agent("FIN"),
        ticket_id=late,
        agent_id=sla_org.agents["FIN"].pk,
    )
    frozen.move_to(T0 + timedelta(hours=1, minutes=35))  # 11:35 Shanghai
    client = login(sla_org.agents["FIN"])
    html = client.get(QUEUE).content.decode()
    assert "overdue 35m" in html and "paused: waiting on customer" in html
    assert "Breached: 1" in html and "Paused: 1" in html and "On track: 1" in html
    assert subjects(client.get(QUEUE + "?sla=breached").content.decode()) == ["Late"]
    assert subjects(client.get(QUEUE + "?sla=paused").content.decode()) == ["Waiting"]
    assert subjects(client.get(QUEUE + "?assignee=me").content.decode()) == ["Late"]
    assert set(
        subjects(client.get(QUEUE + "?assignee=unassigned").content.decode())
    ) == {"Fine", "Waiting"}
    assert subjects(client.get(QUEUE + "?waiting=yes").content.decode()) == ["Waiting"]
    assert subjects(client.get(QUEUE + "?q=Fin").content.decode()) == ["Fine"]
    assert subjects(client.get(QUEUE + "?priority=high").content.decode()) == ["Late"]


def test_only_front_line_leads_switch_to_any_departments_queue(
    sla_org: Org, frozen: Any
) -> None:
    to_finance(sla_org, subject="Finance work")
    assert (
        subjects(login(sla_org.agents["LOG"]).get(QUEUE + "?dept=FIN").content.decode())
        == []
    )
    assert (
        subjects(login(sla_org.leads["LOG"]).get(QUEUE + "?dept=FIN").content.decode())
        == []
    )
    assert subjects(
        login(sla_org.leads["CS"]).get(QUEUE + "?dept=FIN").content.decode()
    ) == ["Finance work"]
    superuser = User.objects.create_superuser("root", "root@example.com", "pw")
    assert subjects(login(superuser).get(QUEUE + "?dept=FIN").content.decode()) == [
        "Finance work"
    ]


def test_the_ticket_page_shows_clocks_and_the_whole_timeline(
    sla_org: Org, frozen: Any
) -> None:
    tid = to_finance(sla_org)
    services.ticket_add_note(
        principal=sla_org.agent("FIN"), ticket_id=tid, body="Check IBAN"
    )
    html = login(sla_org.agents["FIN"]).get(f"{QUEUE}{tid}/change/").content.decode()
    assert "Finance</strong> owns this ticket" in html
    assert "Internal</span>" in html and "Check IBAN" in html
    assert "Customer sees</span>" in html and "Reason: Refund approval" in html
    assert "Times are shown in Asia/Shanghai." in html
    assert "4h left" in html
    # The hand-off chooser excludes the current owner.
    chooser = re.search(r'<select name="to_department"[^>]*>(.*?)</select>', html, re.S)
    assert chooser is not None and 'value="FIN"' not in chooser.group(1)
    assert 'value="LOG"' in chooser.group(1)


def test_forms_call_the_services(sla_org: Org, frozen: Any) -> None:
    tid = to_finance(sla_org)
    client = login(sla_org.agents["FIN"])
    url = f"{QUEUE}{tid}/change/"

    def post(**data: Any) -> Any:
        version = TicketSummary.objects.get(pk=tid).version
        return client.post(url, {"version": version, **data})

    assert post(action="respond", body="On it").status_code == 302
    assert post(action="note", body="internal").status_code == 302
    assert post(action="assign", agent_id=sla_org.leads["FIN"].pk).status_code == 302
    assert post(action="priority", priority="urgent").status_code == 302
    assert post(action="scenario", scenario="chargeback").status_code == 302
    assert post(action="wait", reason="docs").status_code == 302
    assert post(action="end_waiting").status_code == 302
    assert (
        post(action="resolve", resolution="Refunded", root_cause="process").status_code
        == 302
    )
    assert post(action="reopen", reason="Not received").status_code == 302
    assert (
        post(action="hand_off", to_department="LOG", reason="Carrier").status_code
        == 302
    )
    summary = TicketSummary.objects.get(pk=tid)
    assert (
        summary.owner,
        summary.priority,
        summary.scenario,
        summary.reopen_count,
    ) == ("LOG", "urgent", "CHARGEBACK", 1)
    rejected = post(action="hand_off", to_department="FIN", reason="Back")
    assert rejected.status_code == 400
    assert b"Only Logistics, which owns this ticket, may hand off." in rejected.content


def test_a_rule_violation_is_a_message_and_stores_nothing(
    sla_org: Org, frozen: Any
) -> None:
    tid = to_finance(sla_org)
    client = login(sla_org.agents["FIN"])
    before = event_count()
    version = TicketSummary.objects.get(pk=tid).version
    page = client.post(
        f"{QUEUE}{tid}/change/",
        {
            "action": "hand_off",
            "version": version,
            "to_department": "LOG",
            "reason": " ",
        },
    )
    assert page.status_code == 400 and b"A reason is required." in page.content
    assert event_count() == before


def test_a_conflicting_edit_in_another_session_is_refused_with_the_fresh_state(
    sla_org: Org, frozen: Any
) -> None:
    tid = to_finance(sla_org)
    alice, bob = login(sla_org.agents["FIN"]), login(sla_org.leads["FIN"])
    url = f"{QUEUE}{tid}/change/"
    seen = TicketSummary.objects.get(pk=tid).version  # both pages show this version
    assert alice.get(url).status_code == bob.get(url).status_code == 200
    assert (
        alice.post(
            url,
            {
                "action": "hand_off",
                "version": seen,
                "to_department": "LOG",
                "reason": "Carrier",
            },
        ).status_code
        == 302
    )
    before = event_count()
    page = bob.post(url, {"action": "respond", "version": seen, "body": "Bob's reply"})
    assert page.status_code == 409
    html = page.content.decode()
    assert "Someone else changed this ticket" in html and "Nothing was saved" in html
    assert "Logistics</strong> owns this ticket" in html  # the fresh state
    assert event_count() == before


def test_bulk_assign_to_me_and_hand_off(sla_org: Org, frozen: Any) -> None:
    first, second = to_finance(sla_org, subject="A"), to_finance(sla_org, subject="B")
    client = login(sla_org.agents["FIN"])
    response = client.post(
        QUEUE, {"action": "assign_to_me", "_selected_action": [str(first), str(second)]}
    )
    assert response.status_code == 302
    assert set(TicketSummary.objects.values_list("assignee_id", flat=True)) == {
        str(sla_org.agents["FIN"].pk)
    }
    confirm = client.post(
        QUEUE,
        {"action": "hand_off_selected", "_selected_action": [str(first), str(second)]},
    )
    assert confirm.status_code == 200 and b"Hand off these tickets" in confirm.content
    done = client.post(
        QUEUE,
        {
            "action": "hand_off_selected",
            "apply": "1",
            "_selected_action": [str(first), str(second)],
            "to_department": "LOG",
            "reason": "Carrier claims",
        },
    )
    assert done.status_code == 302
    assert set(TicketSummary.objects.values_list("owner", flat=True)) == {"LOG"}


# --- permissions by role ---------------------------------------------------------


def test_permissions_for_every_role(sla_org: Org, frozen: Any) -> None:
    tid = to_finance(sla_org)
    superuser = User.objects.create_superuser("root", "root@example.com", "pw")
    nobody = make_user("nobody")
    roles = {
        "agent": sla_org.agents["FIN"],
        "lead": sla_org.leads["FIN"],
        "front-line lead": sla_org.leads["CS"],
        "superuser": superuser,
        "no department": nobody,
    }
    expected = {  # queue, ticket page, departments list (view), may change departments
        "agent": (200, 200, 200, False),
        "lead": (200, 200, 200, False),
        "front-line lead": (200, 200, 200, True),
        "superuser": (200, 200, 200, True),
        "no department": (403, 403, 403, False),
    }
    for role, user in roles.items():
        client = login(user)
        got = (
            client.get(QUEUE).status_code,
            client.get(f"{QUEUE}{tid}/change/").status_code,
            client.get("/admin/departments/department/").status_code,
            user.has_perm("departments.change_department"),
        )
        assert got == expected[role], role
    # A department that never handled the ticket cannot open it: not found,
    # as if it did not exist.
    assert login(sla_org.agents["LOG"]).get(f"{QUEUE}{tid}/change/").status_code == 404
    # Without a department nothing can be done on it either.
    before = event_count()
    assert (
        login(nobody)
        .post(f"{QUEUE}{tid}/change/", {"action": "note", "body": "x"})
        .status_code
        == 403
    )
    assert event_count() == before


def test_read_models_and_events_cannot_be_edited_through_the_admin(
    sla_org: Org, frozen: Any
) -> None:
    tid = to_finance(sla_org)
    client = login(User.objects.create_superuser("root", "root@example.com", "pw"))
    for path in (
        f"/admin/tickets/ticketsummary/{tid}/delete/",
        "/admin/tickets/ticketsummary/add/",
        "/admin/tickets/slaclock/add/",
        "/admin/tickets/queueticket/add/",
        f"{QUEUE}{tid}/delete/",
    ):
        assert client.get(path).status_code in (403, 302), path
    summary = client.post(
        f"/admin/tickets/ticketsummary/{tid}/change/", {"subject": "x"}
    )
    assert summary.status_code == 403
    assert TicketSummary.objects.get(pk=tid).subject == "Refund not received"


# --- query counts -------------------------------------------------------------------


def test_the_queue_runs_a_fixed_number_of_queries(
    sla_org: Org, frozen: Any, django_assert_max_num_queries: Any
) -> None:
    client = login(sla_org.agents["FIN"])

    def queue_queries(expected_rows: int) -> int:
        client.get(QUEUE)  # warm the calendar cache
        with django_assert_max_num_queries(40) as captured:
            response = client.get(QUEUE)
        assert len(subjects(response.content.decode())) == expected_rows
        return len(captured)

    for n in range(3):
        to_finance(sla_org, subject=f"T{n}", customer_ref=f"C{n}")
    with_three = queue_queries(3)
    for n in range(3, 15):
        to_finance(sla_org, subject=f"T{n}", customer_ref=f"C{n}")
    assert queue_queries(15) == with_three


def test_the_ticket_page_runs_a_fixed_number_of_queries(
    sla_org: Org, frozen: Any, django_assert_max_num_queries: Any
) -> None:
    def page_queries(notes: int) -> int:
        tid = to_finance(sla_org)
        for n in range(notes):
            services.ticket_add_note(
                principal=sla_org.agent("FIN"), ticket_id=tid, body=f"{n}"
            )
        client = login(sla_org.agents["FIN"])
        client.get(f"{QUEUE}{tid}/change/")
        with django_assert_max_num_queries(40) as captured:
            assert client.get(f"{QUEUE}{tid}/change/").status_code == 200
        return len(captured)

    assert page_queries(1) == page_queries(12)


def test_stopped_clocks_say_how_the_stint_ended(sla_org: Org, frozen: Any) -> None:
    from tickets.admin.queue import countdown
    from tickets.models import SLAClock

    tid = to_finance(sla_org)
    stint = TicketSummary.objects.get(pk=tid).current_stint_id
    frozen.move_to(T0 + timedelta(hours=5))  # past the 4h
    services.ticket_hand_off(
        principal=sla_org.agent("FIN"), ticket_id=tid, to_department="LOG", reason="r"
    )
    finance = SLAClock.objects.get(handoff_id=stint)
    assert countdown(finance, T0 + timedelta(hours=5)) == ("breached", "handed on late")


def test_the_viewers_timezone_does_not_leak_into_later_requests(
    sla_org: Org, frozen: Any
) -> None:
    from django.utils import timezone

    tid = to_finance(sla_org)
    html = login(sla_org.agents["FIN"]).get(f"{QUEUE}{tid}/change/").content.decode()
    assert "Times are shown in Asia/Shanghai." in html
    assert timezone.get_current_timezone_name() == "UTC"


def test_opening_a_ticket_in_the_admin_shows_the_customer_link_once(
    sla_org: Org, frozen: Any
) -> None:
    client = login(sla_org.agents["CS"])
    assert client.get(f"{QUEUE}open/").status_code == 200
    response = client.post(
        f"{QUEUE}open/",
        {
            "subject": "Card blocked",
            "customer_ref": "C-77",
            "customer_timezone": "UTC",
            "channel": "phone",
            "priority": "high",
        },
        follow=True,
    )
    html = response.content.decode()
    link = re.search(r"(http://testserver/t/[\w-]+/)", html)
    assert link is not None and "it is shown only now" in html
    assert (
        Client().get(link.group(1).removeprefix("http://testserver")).status_code == 200
    )
    ticket = TicketSummary.objects.get(subject="Card blocked")
    assert (ticket.owner, ticket.priority, ticket.channel) == ("CS", "high", "phone")
    bad = client.post(
        f"{QUEUE}open/",
        {
            "subject": "",
            "customer_ref": "x",
            "customer_timezone": "UTC",
            "channel": "phone",
            "priority": "high",
        },
    )
    assert bad.status_code == 400
    assert login(make_user("stranger")).get(f"{QUEUE}open/").status_code == 403


def test_a_front_line_lead_adds_a_policy_version_in_the_admin(
    sla_org: Org, frozen: Any
) -> None:
    from sla.models import SLAPolicyVersion

    url = "/admin/sla/slapolicyversion/add/"
    assert login(sla_org.agents["FIN"]).get(url).status_code == 403
    client = login(sla_org.leads["CS"])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "department": sla_org.departments["FIN"].pk,
            "effective_from_0": "2026-03-02",
            "effective_from_1": "12:00:00",
            "response_normal": "02:00:00",
            "warn_percent": "80",
            "pause_on_waiting": "on",
            "scenario_overrides": "{}",
            "note": "Faster",
        },
    )
    assert response.status_code == 302, response.content[:500]
    latest = (
        SLAPolicyVersion.objects.filter(policy__department__code="FIN")
        .order_by("-version")
        .first()
    )
    assert latest is not None
    assert (latest.version, latest.response_normal, latest.warn_percent) == (
        2,
        timedelta(hours=2),
        80,
    )
    assert latest.created_by == sla_org.leads["CS"]


def test_a_calendar_edit_in_the_admin_is_a_new_version(
    sla_org: Org, frozen: Any
) -> None:
    from sla.models import CalendarVersion

    client = login(sla_org.leads["CS"])
    fields = {
        "department": sla_org.departments["LOG"].pk,
        "effective_from_0": "2026-03-02",
        "effective_from_1": "12:00:00",
        "timezone": "America/New_York",
        "monday": "08:00-12:00, 13:00-17:00",
        "tuesday": "08:00-17:00",
        "wednesday": "08:00-17:00",
        "thursday": "08:00-17:00",
        "friday": "08:00-15:00",
        "holiday_country": "US",
    }
    assert client.post("/admin/sla/calendarversion/add/", fields).status_code == 302
    versions = list(
        CalendarVersion.objects.filter(calendar__department__code="LOG")
        .order_by("version")
        .values_list("version", "monday")
    )
    assert versions == [(1, "09:00-18:00"), (2, "08:00-12:00, 13:00-17:00")]
    bad = client.post(
        "/admin/sla/calendarversion/add/", {**fields, "monday": "25:00-26:00"}
    )
    assert bad.status_code == 200 and CalendarVersion.objects.count() == 3
    assert client.get("/admin/sla/calendarversion/1/delete/").status_code == 403
