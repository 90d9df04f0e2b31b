"""The admin is Baton: its name, a landing page per role, no dead ends,
the queue's order and counter, one timezone rule on every page, and a
version conflict that keeps what the agent typed."""

from __future__ import annotations

import logging
import re
import zoneinfo
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.contrib import admin
from django.contrib.auth.models import User
from django.urls import NoReverseMatch, reverse

from departments.models import Department, Membership
from departments.services import membership_create
from sla import services as sla_services
from tests.helpers import Org, event_count, make_user, open_ticket
from tests.tickets.test_admin_queue import login, to_finance
from tickets import services
from tickets.admin.queue import countdown
from tickets.formatting import format_instant
from tickets.models import NotificationSettings, SLAClock, TicketSummary
from tickets.preferences import viewer_timezone

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
        for code, tz in (("FIN", "Asia/Shanghai"), ("LOG", "America/New_York")):
            sla_services.calendar_version_create(
                department=org.departments[code], timezone=tz, **WEEK
            )
            sla_services.policy_version_create(
                department=org.departments[code],
                response_normal=timedelta(hours=4),
                response_high=timedelta(hours=1),
            )
    return org


def fresh(user: User) -> User:
    """The user as a new request sees it (nothing memoised)."""
    return User.objects.get(pk=user.pk)


def superuser() -> User:
    return User.objects.create_superuser("root", "root@example.com", "pw")


# --- the name, the header, "View site" ---------------------------------------


def test_the_admin_is_called_baton_and_has_no_dead_view_site_link(
    org: Org,
) -> None:
    page = login(superuser()).get("/admin/?all=1")
    html = page.content.decode()
    assert page.status_code == 200
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    assert title is not None and title.group(1).strip().endswith("| Baton")
    assert '<div id="site-name"><a href="/admin/">Baton</a></div>' in html
    assert "Django administration" not in html and "Django site admin" not in html
    assert "View site" not in html
    assert admin.site.site_url is None


# --- landing pages ------------------------------------------------------------


def test_each_role_lands_on_its_own_page(org: Org) -> None:
    queue = reverse("admin:tickets_queueticket_changelist")
    for user in (org.agents["FIN"], org.leads["FIN"], org.agents["CS"]):
        page = login(user).get("/admin/")
        assert (page.status_code, page["Location"]) == (302, queue), user
    # A front-line lead (a service lead: sees every department) goes to the
    # lead dashboard; while there is none, to the full index.
    service_lead = login(org.leads["CS"]).get("/admin/")
    try:
        dashboard = reverse("admin:sla_dashboard")
    except NoReverseMatch:
        assert service_lead.status_code == 200
    else:
        assert (service_lead.status_code, service_lead["Location"]) == (
            302,
            dashboard,
        )
    # Superusers keep the index.
    assert login(superuser()).get("/admin/").status_code == 200


def test_the_full_index_stays_one_link_away(org: Org) -> None:
    client = login(org.agents["FIN"])
    queue = client.get(QUEUE).content.decode()
    assert 'href="/admin/?all=1"' in queue and "All pages" in queue
    index = client.get("/admin/?all=1")
    assert index.status_code == 200
    assert reverse("admin:tickets_queueticket_changelist") in index.content.decode()


def test_staff_without_a_department_keep_the_index(org: Org) -> None:
    page = login(make_user("helpdesk_admin")).get("/admin/")
    assert page.status_code == 200


# --- no dead ends ----------------------------------------------------------------


@pytest.fixture
def request_log(caplog: Any) -> Any:
    caplog.set_level(logging.WARNING, logger="django.request")
    return caplog


def tracebacks(log: Any) -> list[str]:
    return [r.getMessage() for r in log.records if r.exc_info]


def test_the_queue_add_page_leads_to_the_open_form(org: Org, request_log: Any) -> None:
    page = login(org.agents["FIN"]).get(f"{QUEUE}add/")
    assert (page.status_code, page["Location"]) == (302, f"{QUEUE}open/")
    # A superuser may see the queue but works no department's tickets.
    page = login(superuser()).get(f"{QUEUE}add/")
    assert (page.status_code, page["Location"]) == (302, QUEUE)
    assert tracebacks(request_log) == []


def test_no_admin_page_answers_with_a_traceback(org: Org, request_log: Any) -> None:
    """Every registered model's list and add page, for every role: a page,
    a redirect, or a plain 403 page; never an exception in the log, and
    never an add link to a page that refuses."""
    users = {
        "agent": org.agents["FIN"],
        "lead": org.leads["FIN"],
        "service lead": org.leads["CS"],
        "superuser": superuser(),
    }
    for role, user in users.items():
        client = login(user)
        for model in admin.site._registry:
            info = (model._meta.app_label, model._meta.model_name)
            for view in ("changelist", "add"):
                url = reverse("admin:{}_{}_{}".format(*info, view))
                page = client.get(url)
                assert page.status_code in (200, 302, 403), (role, url)
                if page.status_code == 403:
                    assert b"not available to you" in page.content, (role, url)
                if view == "changelist" and page.status_code == 200:
                    add = reverse("admin:{}_{}_add".format(*info))
                    if f'href="{add}"' in page.content.decode():
                        assert client.get(add).status_code == 200, (role, add)
    assert tracebacks(request_log) == []


# --- the queue --------------------------------------------------------------------


def test_overdue_and_at_risk_tickets_sort_first(sla_org: Org, frozen: Any) -> None:
    answered = to_finance(sla_org, subject="Answered in time")
    at_risk = to_finance(sla_org, subject="At risk")
    services.ticket_respond(
        principal=sla_org.agent("FIN"), ticket_id=answered, body="On it."
    )
    frozen.move_to(T0 + timedelta(minutes=10))
    to_finance(sla_org, subject="Overdue", priority="high")  # due 11:10
    frozen.move_to(T0 + timedelta(hours=3))
    to_finance(sla_org, subject="On track")  # due 17:00
    frozen.move_to(T0 + timedelta(hours=3, minutes=50))  # 13:50 Shanghai

    html = login(sla_org.agents["FIN"]).get(QUEUE).content.decode()
    shown = re.findall(
        r'<t[hd] class="field-subject_link"><a href="[^"]+">([^<]+)</a>', html
    )
    assert shown == ["Overdue", "At risk", "On track", "Answered in time"]
    now = T0 + timedelta(hours=3, minutes=50)
    states = [
        countdown(
            SLAClock.objects.get(
                handoff_id=TicketSummary.objects.get(subject=s).current_stint_id,
                kind="response",
            ),
            now,
        )[0]
        for s in shown
    ]
    assert states == ["breached", "at-risk", "on-track", "met"]
    # By due time alone the answered ticket (due 14:00, opened first) would
    # sit above the one at risk (due 14:00 too).
    assert TicketSummary.objects.get(pk=at_risk).opened_at >= (
        TicketSummary.objects.get(pk=answered).opened_at
    )


def test_the_queue_counter_says_what_it_counts(sla_org: Org, frozen: Any) -> None:
    to_finance(sla_org, subject="One")
    to_finance(sla_org, subject="Two", priority="high")
    open_ticket(sla_org, subject="Still with customer service")
    client = login(sla_org.agents["FIN"])
    html = client.get(QUEUE).content.decode()
    counter = re.search(
        r'<p class="paginator" id="queue-counter">(.*?)</p>', html, re.S
    )
    assert counter is not None
    text = " ".join(counter.group(1).split())
    assert text == "2 open tickets in the Finance queue"
    assert "Work queue" not in text and "total" not in text
    filtered = client.get(f"{QUEUE}?priority=high").content.decode()
    counter = re.search(
        r'<p class="paginator" id="queue-counter">(.*?)</p>', filtered, re.S
    )
    assert counter is not None
    assert " ".join(counter.group(1).split()) == (
        "1 shown of 2 open tickets in the Finance queue"
    )
    assert "results (" not in filtered  # no "1 result (2 total)"


def test_the_queue_has_no_more_than_six_columns(sla_org: Org, frozen: Any) -> None:
    to_finance(sla_org)
    html = login(sla_org.agents["FIN"]).get(QUEUE).content.decode()
    header = re.search(r"<thead>(.*?)</thead>", html, re.S)
    assert header is not None
    columns = re.findall(r'<th scope="col"\s+class="([^"]+)"', header.group(1))
    assert len(columns) <= 7  # the checkbox and six columns
    assert any("column-assignee" in c for c in columns)


# --- the timezone rule ------------------------------------------------------------


def test_the_viewers_timezone_own_choice_then_department_then_default(
    org: Org,
) -> None:
    agent = org.agents["LOG"]
    assert viewer_timezone(fresh(agent)).key == "America/New_York"  # department
    NotificationSettings.objects.create(user=agent, timezone="Europe/Paris")
    assert viewer_timezone(fresh(agent)).key == "Europe/Paris"  # own choice
    NotificationSettings.objects.filter(user=agent).update(timezone="Mars/Olympus")
    assert viewer_timezone(fresh(agent)).key == "America/New_York"  # not a zone
    loner = make_user("loner")
    assert viewer_timezone(loner).key == "UTC"  # settings.TIME_ZONE
    # Member of several: the front-line department first, then by code.
    membership_create(
        user=loner, department=org.departments["LOG"], role=Membership.Role.AGENT
    )
    membership_create(
        user=loner, department=org.departments["CS"], role=Membership.Role.AGENT
    )
    assert viewer_timezone(fresh(loner)).key == "Asia/Shanghai"
    Department.objects.filter(code="CS").update(is_active=False)
    assert viewer_timezone(fresh(loner)).key == "America/New_York"


def test_the_viewers_timezone_is_looked_up_once_per_user_object(
    org: Org, django_assert_num_queries: Any
) -> None:
    agent = fresh(org.agents["FIN"])
    first = viewer_timezone(agent)
    with django_assert_num_queries(0):
        assert viewer_timezone(agent) is first


def test_times_on_the_ticket_page_are_in_the_viewers_zone_and_say_so(
    sla_org: Org, frozen: Any
) -> None:
    tid = to_finance(sla_org)
    agent = sla_org.agents["FIN"]
    NotificationSettings.objects.create(user=agent, timezone="Europe/Paris")
    html = login(agent).get(f"{QUEUE}{tid}/change/").content.decode()
    since = TicketSummary.objects.get(pk=tid).owner_since
    paris = format_instant(since, zoneinfo.ZoneInfo("Europe/Paris"), with_zone=False)
    shanghai = format_instant(
        since, zoneinfo.ZoneInfo("Asia/Shanghai"), with_zone=False
    )
    assert paris != shanghai
    assert f"owns this ticket since {paris}" in html
    assert "Times are shown in Europe/Paris." in html
    assert 'id="baton-timezone"' in html and "Times in Europe/Paris" in html


def test_every_admin_page_names_the_viewers_zone(sla_org: Org, frozen: Any) -> None:
    client = login(sla_org.agents["LOG"])
    for url in (QUEUE, "/admin/tickets/notificationsettings/", "/admin/?all=1"):
        assert "Times in America/New_York" in client.get(url).content.decode(), url


# --- my settings ----------------------------------------------------------------


def test_my_settings_choose_language_and_timezone(sla_org: Org, frozen: Any) -> None:
    agent = sla_org.agents["FIN"]
    client = login(agent)
    page = "/admin/tickets/notificationsettings/"
    html = client.get(page).content.decode()
    assert "My settings" in html
    assert '<select name="language"' in html and '<select name="timezone"' in html
    assert "My department&#x27;s (Asia/Shanghai)" in html
    response = client.post(
        page,
        {"language": "zh-hans", "timezone": "Europe/London", "assigned": "on"},
    )
    assert response.status_code == 302
    own = NotificationSettings.objects.get(user=agent)
    assert (own.language, own.timezone, own.assigned) == (
        "zh-hans",
        "Europe/London",
        True,
    )
    assert "Europe/London" in client.get(QUEUE).content.decode()
    # A zone that is not in the list is refused and nothing changes.
    refused = client.post(page, {"language": "", "timezone": "Mars/Olympus"})
    assert refused.status_code == 200
    own.refresh_from_db()
    assert own.timezone == "Europe/London"


# --- the open form ----------------------------------------------------------------


def test_the_open_form_offers_scenarios_and_timezones_to_choose_from(
    sla_org: Org,
) -> None:
    html = login(sla_org.agents["CS"]).get(f"{QUEUE}open/").content.decode()
    assert '<select name="customer_timezone"' in html
    assert '<select name="scenario"' in html
    # Common zones first, the department's preselected.
    zone_select = html[html.index('<select name="customer_timezone"') :]
    first_options = re.findall(r'<option value="([^"]+)"', zone_select)[:3]
    assert first_options[0] == "Asia/Shanghai"
    assert '<option value="Asia/Shanghai" selected>' in zone_select
    refused = login(sla_org.agents["CS"]).post(
        f"{QUEUE}open/",
        {
            "subject": "x",
            "customer_ref": "C-9",
            "customer_timezone": "Nowhere/Land",
            "channel": "web",
            "priority": "normal",
        },
    )
    assert refused.status_code == 400
    assert not TicketSummary.objects.exists()


# --- a version conflict keeps what was typed --------------------------------------


def test_a_conflict_keeps_the_typed_reply_and_says_why(
    sla_org: Org, frozen: Any
) -> None:
    tid = to_finance(sla_org)
    agent = login(sla_org.agents["FIN"])
    url = f"{QUEUE}{tid}/change/"
    assert agent.get(url).status_code == 200
    seen = TicketSummary.objects.get(pk=tid).version
    # Meanwhile the lead adds a note in another session.
    services.ticket_add_note(
        principal=sla_org.lead("FIN"), ticket_id=tid, body="Check the bank first"
    )
    before = event_count()
    typed = "Dear Dana, <your refund> is on its way & arrives Friday."
    page = agent.post(url, {"action": "respond", "version": seen, "body": typed})
    assert page.status_code == 409
    html = page.content.decode()
    assert "Someone else changed this ticket" in html
    assert "What you typed is kept below" in html
    reply = re.search(
        r'<textarea id="reply-body" name="body"[^>]*>(.*?)</textarea>', html, re.S
    )
    assert reply is not None
    assert reply.group(1) == (
        "Dear Dana, &lt;your refund&gt; is on its way &amp; arrives Friday."
    )
    assert "Check the bank first" in html  # the fresh state
    fresh_version = TicketSummary.objects.get(pk=tid).version
    assert f'name="version" value="{fresh_version}"' in html
    assert event_count() == before


def test_a_conflict_keeps_a_typed_hand_off_reason_and_resolution(
    sla_org: Org, frozen: Any
) -> None:
    tid = to_finance(sla_org)
    agent = login(sla_org.agents["FIN"])
    url = f"{QUEUE}{tid}/change/"
    seen = TicketSummary.objects.get(pk=tid).version
    services.ticket_add_note(principal=sla_org.lead("FIN"), ticket_id=tid, body="n")
    html = agent.post(
        url,
        {
            "action": "hand_off",
            "version": seen,
            "to_department": "LOG",
            "reason": "The carrier lost it",
        },
    ).content.decode()
    assert re.search(
        r'<textarea name="reason"[^>]*>\s*The carrier lost it</textarea>', html
    )
    assert '<option value="LOG" selected>' in html
    html = agent.post(
        url,
        {
            "action": "resolve",
            "version": seen,
            "resolution": "Refunded twice by mistake",
            "root_cause": "process",
        },
    ).content.decode()
    assert ">Refunded twice by mistake</textarea>" in html
    assert '<option value="process" selected>' in html


def test_a_conflict_on_a_ticket_resolved_meanwhile_still_shows_the_text(
    sla_org: Org, frozen: Any
) -> None:
    tid = to_finance(sla_org)
    agent = login(sla_org.agents["FIN"])
    url = f"{QUEUE}{tid}/change/"
    seen = TicketSummary.objects.get(pk=tid).version
    services.ticket_resolve(
        principal=sla_org.lead("FIN"),
        ticket_id=tid,
        resolution="Refunded",
        root_cause="customer_error",
    )
    page = agent.post(url, {"action": "respond", "version": seen, "body": "Long text"})
    assert page.status_code == 409
    html = page.content.decode()
    assert 'id="kept-input"' in html and ">Long text</textarea>" in html
    assert '<label for="kept-body">Reply or note</label>' in html
    assert 'id="reply-body"' not in html  # no reply form on a resolved ticket


def test_a_department_timezone_is_chosen_from_a_list(org: Org) -> None:
    client = login(superuser())
    url = "/admin/departments/department/add/"
    html = client.get(url).content.decode()
    assert '<select name="timezone"' in html
    fields = {"code": "TOK", "name": "Tokyo office", "kind": "back_office"}
    refused = client.post(url, {**fields, "timezone": "Asia/Atlantis"})
    assert refused.status_code == 200
    assert not Department.objects.filter(code="TOK").exists()
    saved = client.post(
        url,
        {
            **fields,
            "timezone": "Asia/Tokyo",
            "is_active": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert saved.status_code == 302
    assert Department.objects.get(code="TOK").timezone == "Asia/Tokyo"
