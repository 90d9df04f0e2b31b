"""Scorecards, disputes, what-if and reports under edge cases a review
found: stints of tickets stored before timezones were recorded, tickets
without a scenario, dates at the end of the calendar, absurd targets,
mail outages and overlapping report runs, an audit while the projector is
behind, and inputs that must be refused without a 500."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import connections
from django.test import Client, override_settings
from rest_framework.test import APIClient

from departments.models import Department
from sla import tasks
from sla.models import ScorecardHandoff, ScorecardReport
from sla.report_services import report_send, reports_generate
from tests.helpers import Org, open_ticket
from tests.sla.test_reports import W2, W3, WEEKS, _at, play_week
from tests.sla.test_scorecards import (  # noqa: F401
    History,
    hand,
    history,
    project,
    reply,
    resolve,
    stints,
)
from tickets import services
from tickets.application import get_tickets_application

WHATIF = "/admin/sla/scorecard/what-if/"


def api(user: Any) -> APIClient:
    client = APIClient()
    client.raise_request_exception = False
    client.force_authenticate(user)
    return client


def admin(user: Any) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


# -- 1. Reopened stints do not get the department's timezone -----------------


def _make_legacy(ticket_id: UUID) -> None:
    """Rewrite a ticket's stored events as they were stored before this
    change: no timezone field and no class_version (so they upcast to
    "UTC"). Test set-up only: simulates a log written by the old code."""
    app = get_tickets_application()
    table = app.recorder.events_table_name  # type: ignore[attr-defined]
    topics = ("Ticket.Opened", "Ticket.HandedOff", "Ticket.Reopened")
    postgres = connections["default"].vendor == "postgresql"
    mark, key = ("%s", ticket_id) if postgres else ("?", ticket_id.hex)
    with app.recorder.datastore.transaction(commit=True) as curs:  # type: ignore[attr-defined]
        curs.execute(
            f"SELECT originator_version, topic, state FROM {table} "
            f"WHERE originator_id = {mark}",
            (key,),
        )
        for version, topic, state in curs.fetchall():
            if not topic.endswith(topics):
                continue
            data = json.loads(state)
            for key in ("department_timezone", "to_department_timezone"):
                data.pop(key, None)
            data.pop("class_version", None)
            curs.execute(
                f"UPDATE {table} SET state = {mark} WHERE originator_id = {mark} "
                f"AND originator_version = {mark}",
                (json.dumps(data).encode(), key, version),
            )


def _customer() -> Any:
    return services.principal_for_customer(customer_ref="CUST-1")


def test_reopen_of_a_ticket_stored_before_the_change_uses_the_departments_timezone(
    sla_org: Org, at: Any
) -> None:
    """A reopen of a ticket whose earlier events carry no timezone (stored
    before timezones were recorded: they count in UTC) is counted in the
    department's own timezone, not copied from the earlier stint."""
    at("2026-03-02 01:00")
    ticket = open_ticket(sla_org)
    at("2026-03-02 01:30")
    hand(sla_org, "CS", ticket, "FIN")
    at("2026-03-02 02:00")
    reply(sla_org, "FIN", ticket)
    resolve(sla_org, "FIN", ticket, "policy")
    _make_legacy(ticket)  # these events predate the change
    # After the upgrade: reopened at 04:30 Tuesday in Shanghai (Monday in UTC).
    at("2026-03-02 20:30")
    services.ticket_reopen(principal=_customer(), ticket_id=ticket, reason="Again")
    project()
    reopen = ScorecardHandoff.objects.get(ticket_id=ticket, kind="reopen")
    assert Department.objects.get(code="FIN").timezone == "Asia/Shanghai"
    assert (reopen.timezone, reopen.day) == ("Asia/Shanghai", date(2026, 3, 3))


def test_reopen_uses_the_departments_timezone_at_reopen_time(
    sla_org: Org, at: Any
) -> None:
    """Two stints a department receives at the same instant fall in the
    same day: after Logistics moves to Tokyo time, a reopen given to it is
    counted in Tokyo days like a handoff, not in New York days copied from
    its earlier stint."""
    at("2026-03-02 01:00")
    first = open_ticket(sla_org)
    at("2026-03-02 01:10")
    hand(sla_org, "CS", first, "LOG")
    at("2026-03-02 14:00")
    reply(sla_org, "LOG", first)
    resolve(sla_org, "LOG", first, "process")
    second = open_ticket(sla_org)
    Department.objects.filter(code="LOG").update(timezone="Asia/Tokyo")
    at("2026-03-03 20:00")  # Wed 05:00 in Tokyo, Tue 15:00 in New York
    hand(sla_org, "CS", second, "LOG")
    services.ticket_reopen(principal=_customer(), ticket_id=first, reason="Again")
    project()
    handoff = ScorecardHandoff.objects.get(ticket_id=second, department="LOG")
    reopen = ScorecardHandoff.objects.get(ticket_id=first, kind="reopen")
    assert (handoff.timezone, handoff.day) == ("Asia/Tokyo", date(2026, 3, 4))
    assert (reopen.timezone, reopen.day) == (handoff.timezone, handoff.day)


# -- 2. Drill-down of tickets without a scenario -----------------------------


def test_drilldown_into_the_no_scenario_scorecard_over_the_api(
    sla_org: Org, at: Any
) -> None:
    """Tickets without a scenario have their own scorecard (scenario "");
    ``?scenario=`` drills into exactly that one, not into all scenarios
    (``*``, the default when the parameter is absent)."""
    at("2026-03-02 01:00")
    blank = open_ticket(sla_org, scenario="")
    refund = open_ticket(sla_org, scenario="REFUND")
    at("2026-03-02 01:30")
    hand(sla_org, "CS", blank, "FIN")
    hand(sla_org, "CS", refund, "FIN")
    project()
    client = api(sla_org.agents["FIN"])
    card = client.get("/api/v1/scorecards/FIN/week/2026-03-02/").json()
    received = {s["scenario"]: s["figures"]["received"] for s in card["scenarios"]}
    assert received == {"*": 2, "": 1, "REFUND": 1}
    drill = client.get(
        "/api/v1/scorecards/FIN/week/2026-03-02/figures/received/", {"scenario": ""}
    )
    assert drill.status_code == 200, drill.content
    body = drill.json()
    assert (body["scenario"], body["count"]) == ("", 1)
    assert [h["ticket_id"] for h in body["handoffs"]] == [str(blank)]


# -- 3. Inputs that answer 500 ---------------------------------------------------


def test_scorecard_api_periods_at_the_end_of_the_calendar_are_not_a_500(
    sla_org: Org,
) -> None:
    """A period ending past 9999-12-31 is refused, not a 500."""
    client = api(sla_org.leads["CS"])
    for path in (
        "/api/v1/scorecards/FIN/day/9999-12-31/",
        "/api/v1/scorecards/FIN/week/9999-12-27/",
        "/api/v1/scorecards/FIN/month/9999-12-01/",
        "/api/v1/scorecards/FIN/day/9999-12-31/figures/received/",
    ):
        response = client.get(path)
        assert response.status_code in (400, 404), (path, response.status_code)


def test_whatif_admin_last_day_of_the_calendar_is_a_form_error(
    sla_org: Org,
) -> None:
    """A what-if period ending past 9999-12-31 is a form error."""
    client = admin(sla_org.leads["CS"])
    response = client.get(
        WHATIF, {"department": "FIN", "period": "day", "start": "9999-12-31"}
    )
    assert response.status_code == 400


def test_whatif_admin_enormous_target_is_a_form_error(
    history: History,  # noqa: F811
) -> None:
    """A target longer than a year is a form error (it would overflow
    the replay, or keep the calendar walking for ages)."""
    from django.contrib.auth.models import User

    client = admin(User.objects.get(username="cs_lead"))
    response = client.get(
        WHATIF,
        {
            "department": "FIN",
            "period": "week",
            "start": "2026-03-02",
            "response_normal": "99999999999h",
        },
    )
    assert response.status_code == 400


# -- 4. Weekly report e-mail --------------------------------------------------


def _report_org(org: Org) -> Org:
    org.departments["CS"].email = "service@example.com"
    org.departments["CS"].save()
    return org


def test_a_report_that_failed_to_send_is_retried_by_the_next_scheduled_run(
    sla_org: Org, at: Any
) -> None:
    """A mail outage at one weekly run does not lose that week's reports:
    the next run (and the hourly retry) sends every report still unsent."""
    org = _report_org(sla_org)
    play_week(org, at, W2, WEEKS[W2])
    _at(at, datetime(2026, 3, 16, 8, tzinfo=UTC))
    with override_settings(EMAIL_BACKEND="tests.sla.failing_mail.Backend"):
        assert tasks.send_scorecard_reports()["failed"] == 4
    play_week(org, at, W3, WEEKS[W3])
    _at(at, datetime(2026, 3, 23, 8, tzinfo=UTC))
    tasks.send_scorecard_reports()
    unsent = ScorecardReport.objects.filter(start=W2, sent_at__isnull=True)
    assert list(unsent.values_list("department", flat=True)) == []


def test_a_report_is_not_emailed_twice_by_overlapping_runs(
    sla_org: Org, at: Any, monkeypatch: Any
) -> None:
    """Two overlapping runs (the schedule and `send_scorecard_reports`, or a
    redelivered task) email a report once: the first claims it before the
    SMTP call."""
    org = _report_org(sla_org)
    play_week(org, at, W3, WEEKS[W3])
    _at(at, datetime(2026, 3, 23, 8, tzinfo=UTC))
    summary = reports_generate(start=W3)[0]
    other_worker = ScorecardReport.objects.get(pk=summary.pk)
    original = EmailMultiAlternatives.send
    interleaved: list[bool] = []

    def send(self: Any, *args: Any, **kwargs: Any) -> int:
        if not interleaved:  # the second run arrives while SMTP is busy
            interleaved.append(True)
            report_send(other_worker)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(EmailMultiAlternatives, "send", send)
    report_send(summary)
    assert len(mail.outbox) == 1


# -- 5. audit_scorecards while the projector is behind ------------------------


def test_audit_scorecards_does_not_report_a_projector_that_is_merely_behind(
    history: History,  # noqa: F811
    sla_org: Org,
) -> None:
    """Scorecards are not caught up inline, so on a live system there is
    almost always an event the projector has not processed yet: the audit
    compares the rows with the log up to the projector's position, so a
    projector that is merely behind is not a difference."""
    from django.core.management import call_command

    fin1 = stints(history.t1)[1]
    services.ticket_dispute(
        principal=sla_org.lead("FIN"),
        ticket_id=history.t1,
        handoff_id=fin1,
        subject="rating",
        reason="Rated the courier",
    )
    from io import StringIO

    out = StringIO()
    call_command("audit_scorecards", stdout=out)
    assert "Audit passed" in out.getvalue()
    assert "(1 later event not projected yet)" in out.getvalue()
    project()
    out = StringIO()
    call_command("audit_scorecards", stdout=out)
    assert "not projected" not in out.getvalue()


# -- Inputs refused without a 500, and what the trail keeps ---------------------


def test_nul_and_malformed_addresses_are_not_found(history: History) -> None:  # noqa: F811
    from django.contrib.auth.models import User

    lead = User.objects.get(username="cs_lead")
    client = api(lead)
    for path in (
        "/api/v1/scorecards/%00/week/2026-03-02/",
        "/api/v1/scorecards/F%00N/week/2026-03-02/figures/received/",
    ):
        response = client.get(path)
        assert response.status_code == 404, (path, response.status_code)
    bad = client.get(
        "/api/v1/scorecards/FIN/week/2026-03-02/figures/received/",
        {"scenario": "REF\x00UND"},
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "validation_failed")
    page = admin(lead).get("/admin/sla/scorecard/FIN%00/change/")
    assert page.status_code == 404


def test_admin_dispute_on_a_ticket_the_user_cannot_see_is_not_found(
    history: History,  # noqa: F811
    sla_org: Org,
) -> None:
    from django.contrib.admin.utils import quote

    from tests.helpers import event_count

    # Logistics never handled T1 (a Finance ticket).
    client = admin(sla_org.agents["LOG"])
    url = f"/admin/sla/scorecard/{quote('LOG|week|2026-03-02|*')}/figures/received/"
    before = event_count()
    response = client.post(
        url,
        {
            "action": "dispute",
            "ticket_id": history.t1,
            "handoff_id": stints(history.t1)[1],
            "subject": "rating",
            "reason": "x",
        },
    )
    assert response.status_code == 404 and event_count() == before
    assert "Finance" not in response.content.decode()
