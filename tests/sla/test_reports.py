"""The periodic accountability report, end to end: a three-week history
built through the services with frozen time, the scorecards caught up,
then the report's data, charts, HTML, CSV, email and admin pages.

Tickets are opened on Tuesdays at 10:00 Shanghai (02:00Z) and handed on
twenty minutes later (Customer Service's 1h promise is met). Finance
(4h, 09-12 and 13-18 Shanghai) answers at 11:00 Shanghai (met) or 17:00
(breached); Logistics (8h, 09-17 New York) answers on Tuesday morning New
York time (met) or Wednesday (breached). A Monday-evening handoff in New
York still belongs to that Monday's week.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.urls import reverse
from django_q.models import Schedule

from sla import tasks
from sla.models import Scorecard, ScorecardHandoff, ScorecardReport
from sla.report_services import (
    last_complete_start,
    report_send,
    reports_generate,
    reports_generate_and_send,
)
from sla.reports import (
    csv_figure_columns,
    figure_rows,
    format_figure,
    parse_report_csv,
    render_report_html,
    report_csv,
    report_data,
    trend_starts,
)
from sla.scorecards import FIGURE_NAMES
from tests.helpers import Org, open_ticket
from tests.sla.conftest import fin_stint
from tickets import services
from tickets.application import get_tickets_application
from tickets.durations import format_duration
from tickets.projection_runner import catch_up, projection_group

SVG = "{http://www.w3.org/2000/svg}"
W1, W2, W3 = date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)
STARTS = [date(2026, 1, 26) + timedelta(weeks=n) for n in range(8)]


@dataclass(frozen=True)
class Case:
    name: str
    department: str
    scenario: str
    late: bool
    score: int | None
    comment: str = ""
    waived: bool = False


WEEKS = {
    W1: [
        Case("F7", "FIN", "REFUND", False, 5),
        Case("L5", "LOG", "DELIVERY", False, 4),
    ],
    W2: [
        Case("F5", "FIN", "REFUND", True, 3),
        Case("F6", "FIN", "REFUND", False, 4),
        Case("L4", "LOG", "DELIVERY", False, 5),
    ],
    W3: [
        Case("F1", "FIN", "REFUND", True, 4, "Slow but fixed"),
        Case("F2", "FIN", "REFUND", False, 5),
        Case("F3", "FIN", "REFUND", True, 2, "Took days to approve"),
        Case("F4", "FIN", "PAYMENT", False, 5),
        Case(
            "L1",
            "LOG",
            "DELIVERY",
            False,
            1,
            "Nobody told me where my parcel was",
            waived=True,
        ),
        Case("L2", "LOG", "DELIVERY", True, 2, "<b>Late</b> & rude"),
        Case("L3", "LOG", "DELIVERY", False, 4),
    ],
}


def _at(at: Any, instant: datetime) -> None:
    at(instant.strftime("%Y-%m-%d %H:%M"))


def play_week(
    org: Org, at: Any, monday: date, cases: list[Case]
) -> dict[str, tuple[UUID, UUID]]:
    """Open, hand off, answer, resolve and rate the week's tickets, in
    time order; returns each case's ticket and back-office stint."""
    tuesday = datetime(monday.year, monday.month, monday.day, tzinfo=UTC) + timedelta(
        days=1
    )
    tickets: dict[str, UUID] = {}
    stints: dict[str, UUID] = {}
    for i, case in enumerate(cases):
        _at(at, tuesday + timedelta(hours=2, minutes=i))
        tickets[case.name] = open_ticket(
            org, scenario=case.scenario, customer_ref=f"CUST-{case.name}"
        )
    for i, case in enumerate(cases):
        _at(at, tuesday + timedelta(hours=2, minutes=20 + i))
        services.ticket_hand_off(
            principal=org.agent("CS"),
            ticket_id=tickets[case.name],
            to_department=case.department,
            reason="Needs the back office",
        )
        stints[case.name] = fin_stint(tickets[case.name])

    def answered(i: int, case: Case) -> datetime:
        if case.department == "FIN":
            hours = 9 if case.late else 3  # 17:00 or 11:00 Shanghai
        else:
            hours = 24 + 16 if case.late else 16  # Wed or Tue, NY morning
        return tuesday + timedelta(hours=hours, minutes=i)

    for i, case in sorted(enumerate(cases), key=lambda pair: answered(*pair)):
        _at(at, answered(i, case))
        agent = org.agent(case.department)
        services.ticket_respond(
            principal=agent, ticket_id=tickets[case.name], body="Looking into it"
        )
        services.ticket_resolve(
            principal=agent,
            ticket_id=tickets[case.name],
            resolution="Done",
            root_cause="process",
        )
    for i, case in enumerate(cases):
        if case.score is None:
            continue
        _at(at, tuesday + timedelta(days=2, hours=2, minutes=i))
        services.ticket_rate_handoff(
            principal=services.principal_for_customer(customer_ref=f"CUST-{case.name}"),
            ticket_id=tickets[case.name],
            handoff_id=stints[case.name],
            score=case.score,
            comment=case.comment,
        )
    for i, case in enumerate(cases):
        if not case.waived:
            continue
        _at(at, tuesday + timedelta(days=2, hours=3, minutes=i))
        dispute = services.ticket_dispute(
            principal=org.agent(case.department),
            ticket_id=tickets[case.name],
            handoff_id=stints[case.name],
            subject="rating",
            reason="The parcel was with the carrier",
        ).detail
        services.ticket_dispute_decide(
            principal=org.lead("CS"),
            ticket_id=tickets[case.name],
            dispute_id=dispute,
            decision="waived",
            reason="Carrier delay, not Logistics",
        )
    return {name: (tickets[name], stints[name]) for name in tickets}


def catch_up_scorecards() -> None:
    catch_up(get_tickets_application(), projection_group("scorecards"))


@pytest.fixture
def history(sla_org: Org, at: Any) -> Org:
    sla_org.departments["CS"].email = "service@example.com"
    sla_org.departments["CS"].save()
    sla_org.departments["FIN"].email = "finance@example.com"
    sla_org.departments["FIN"].save()
    for monday, cases in WEEKS.items():
        play_week(sla_org, at, monday, cases)
    catch_up_scorecards()
    _at(at, datetime(2026, 3, 23, 8, tzinfo=UTC))  # Monday after week 3
    return sla_org


def svgs(html: str) -> list[ET.Element]:
    found = re.findall(r"<svg\b.*?</svg>", html, flags=re.DOTALL)
    return [ET.fromstring(svg) for svg in found]


def chart(html: str, kind: str) -> ET.Element:
    return next(s for s in svgs(html) if s.get("id", "").endswith(kind))


def points(svg: ET.Element, series: str, tag: str) -> list[tuple[str, str]]:
    [group] = [
        g
        for g in svg.iter(f"{SVG}g")
        if g.get("class") == "series" and g.get("data-series") == series
    ]
    return [
        (p.get("data-period", ""), p.get("data-value", ""))
        for p in group.iter(f"{SVG}{tag}")
    ]


# -- what the report says ----------------------------------------------------


def test_the_summary_ranks_departments_by_breach_rate_and_by_rating(
    history: Org,
) -> None:
    data = report_data(period="week", start=W3)
    assert [(r.rank, r.line.department, r.value) for r in data.by_breach_rate] == [
        (1, "FIN", 0.5),
        (2, "LOG", 0.3333),
        (3, "CS", 0.0),
    ]
    assert [
        (r.rank, r.line.department, r.value, r.adjusted, r.volume)
        for r in data.by_average_score
    ] == [
        (1, "LOG", 2.3333, 3.0, 3),  # the waived 1-star leaves adjusted
        (2, "FIN", 4.0, 4.0, 4),
        (None, "CS", None, None, 0),  # nothing rated: last, unranked
    ]
    assert [d.department for d in data.departments] == ["CS", "FIN", "LOG"]
    assert data.idle_departments == ["Product", "Risk Control"]


def test_worst_scenarios_need_a_minimum_volume(history: Org) -> None:
    data = report_data(period="week", start=W3)
    # FIN/PAYMENT (one met handoff) and the 0% CS rows are not listed.
    assert [
        (r.line.department, r.line.scenario, r.value, r.volume)
        for r in data.worst_by_breach_rate
    ] == [("FIN", "REFUND", 0.6667, 3), ("LOG", "DELIVERY", 0.3333, 3)]
    assert [
        (r.line.department, r.line.scenario, r.value)
        for r in data.worst_by_average_score
    ] == [("LOG", "DELIVERY", 2.3333), ("FIN", "REFUND", 3.6667)]
    looser = report_data(period="week", start=W3, min_volume=1)
    assert ("FIN", "PAYMENT") in {
        (r.line.department, r.line.scenario) for r in looser.worst_by_average_score
    }
    html = render_report_html(data)
    assert "at least 3 decided response promises" in " ".join(html.split())


def test_every_dissatisfied_rating_is_listed_with_its_comment(history: Org) -> None:
    data = report_data(period="week", start=W3)
    listed = [
        (r.department, r.score, r.comment, r.scenario, r.dispute)
        for r in data.dissatisfied
    ]
    assert listed == [
        ("FIN", 2, "Took days to approve", "REFUND", ""),
        ("LOG", 1, "Nobody told me where my parcel was", "DELIVERY", "waived"),
        ("LOG", 2, "<b>Late</b> & rude", "DELIVERY", ""),
    ]
    positions = [r.position for r in data.dissatisfied]
    assert positions == sorted(positions)
    for rating in data.dissatisfied:
        fact = ScorecardHandoff.objects.get(pk=rating.handoff_id)
        assert (fact.ticket_id, fact.rating_position) == (
            rating.ticket_id,
            rating.position,
        )
    html = render_report_html(data)
    assert "Took days to approve" in html
    assert "&lt;b&gt;Late&lt;/b&gt; &amp; rude" in html
    assert "<b>Late</b>" not in html
    assert str(data.dissatisfied[0].ticket_id) in html


def test_a_department_report_shows_only_that_department(history: Org) -> None:
    data = report_data(period="week", start=W3, department="FIN")
    assert [d.department for d in data.departments] == ["FIN"]
    assert [(s.department, s.scenario) for s in data.scenarios] == [
        ("FIN", "PAYMENT"),
        ("FIN", "REFUND"),
    ]
    assert [r.comment for r in data.dissatisfied] == ["Took days to approve"]
    assert [t.department for t in data.trends] == ["FIN"]
    html = render_report_html(data)
    assert "Finance (FIN): scorecard report, week of Mon 16 Mar 2026" in html
    assert "Logistics" not in html
    assert "parcel" not in html
    assert "Customer Service" not in html


def test_charts_have_one_point_per_period(history: Org) -> None:
    data = report_data(period="week", start=W3)
    assert data.trend_starts == STARTS == trend_starts("week", W3, 8)
    html = render_report_html(data)
    charts = svgs(html)
    assert len(charts) == 3
    for svg in charts:
        assert svg.get("role") == "img"
        assert svg.find(f"{SVG}title") is not None
        assert svg.find(f"{SVG}desc") is not None
        ticks = [t for t in svg.iter(f"{SVG}text") if t.get("class") == "tick-x"]
        assert [t.get("data-period") for t in ticks] == [s.isoformat() for s in STARTS]
        labels = [
            t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "axis-label"
        ]
        assert len(labels) == 2 and all(labels)

    received = chart(html, "received")
    iso = [s.isoformat() for s in STARTS]
    assert points(received, "FIN", "rect") == list(
        zip(iso, ["0", "0", "0", "0", "0", "1", "2", "4"], strict=True)
    )
    assert points(received, "LOG", "rect") == list(
        zip(iso, ["0", "0", "0", "0", "0", "1", "1", "3"], strict=True)
    )
    assert [v for _, v in points(received, "CS", "rect")][-3:] == ["2", "3", "7"]

    breach = chart(html, "breach-rate")
    # Weeks without a decided promise are gaps, not zeros.
    assert points(breach, "FIN", "circle") == [
        ("2026-03-02", "0.0"),
        ("2026-03-09", "0.5"),
        ("2026-03-16", "0.5"),
    ]
    score = chart(html, "average-score")
    assert points(score, "LOG", "circle") == [
        ("2026-03-02", "4.0"),
        ("2026-03-09", "5.0"),
        ("2026-03-16", "2.3333"),
    ]


def test_chart_text_is_escaped(history: Org) -> None:
    finance = history.departments["FIN"]
    finance.name = 'Finance <script>alert("x")</script>'
    finance.save()
    html = render_report_html(report_data(period="week", start=W3))
    assert "<script>" not in html
    for svg in svgs(html):  # still well-formed XML
        assert svg.tag == f"{SVG}svg"


# -- the CSV -------------------------------------------------------------------


def stored_figures(**filters: Any) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (s.department, s.scenario): s.figures
        for s in Scorecard.objects.filter(period="week", start=W3, **filters)
    }


@pytest.mark.parametrize("department", [None, "LOG"])
def test_the_csv_round_trips_the_stored_figures_exactly(
    history: Org, department: str | None
) -> None:
    data = report_data(period="week", start=W3, department=department)
    rows = parse_report_csv(report_csv(data))
    parsed = {(r["department"], r["scenario"]): r["figures"] for r in rows}
    expected = stored_figures(**({"department": department} if department else {}))
    assert parsed == expected
    for key, figures in expected.items():
        assert set(figures) == set(FIGURE_NAMES)
        for name, value in figures.items():
            assert type(parsed[key][name]) is type(value), (key, name)
    # The comparison covered every kind of value.
    values = [v for figures in expected.values() for v in figures.values()]
    assert None in values or department is not None
    assert any(type(v) is int and v > 0 for v in values)
    assert any(type(v) is float and not v.is_integer() for v in values)
    assert {(r["period"], r["start"]) for r in rows} == {("week", W3)}


def test_the_csv_puts_adjusted_figures_beside_raw_ones_and_defuses_formulas(
    history: Org,
) -> None:
    header = report_csv(report_data(period="week", start=W3)).splitlines()[0]
    columns = header.split(",")
    assert columns[:5] == [
        "period",
        "start",
        "department",
        "department_name",
        "scenario",
    ]
    assert columns[5:] == csv_figure_columns()
    assert sorted(columns[5:]) == sorted(FIGURE_NAMES)
    i = columns.index("breach_rate")
    assert columns[i + 1] == "breach_rate_adjusted"

    finance = history.departments["FIN"]
    finance.name = "=HYPERLINK(1)"
    finance.save()
    text = report_csv(report_data(period="week", start=W3, department="FIN"))
    assert ",'=HYPERLINK(1)," in text
    assert {r["department_name"] for r in parse_report_csv(text)} == {"=HYPERLINK(1)"}


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("received", 12, "12"),
        ("breach_rate", 0.3333, "33.3%"),
        ("average_score", 2.3333, "2.33"),
        ("median_response_seconds", 1200.0, "20m"),
        ("median_response_seconds", 5430.0, "1h 30m"),
        ("p90_response_seconds", 94_000.0, "1d 2h"),
        ("p90_response_seconds", 45.5, "45s"),
        ("median_response_seconds", None, "\u2013"),
    ],
)
def test_figures_read_as_people_read_them(name: str, value: Any, text: str) -> None:
    assert format_figure(name, value) == text


def test_durations_read_as_everywhere_else_and_the_csv_keeps_seconds(
    history: Org,
) -> None:
    data = report_data(period="week", start=W3, department="FIN")
    [line] = data.departments
    seconds = line.figures["median_response_seconds"]
    assert isinstance(seconds, float) and seconds >= 60
    rows = {label: raw for label, raw, _ in figure_rows(line)}
    assert rows["Median business time to first response"] == format_duration(seconds)
    assert f'<td class="num">{format_duration(seconds)}</td>' in render_report_html(
        data
    )
    [csv_row] = [r for r in parse_report_csv(report_csv(data)) if r["scenario"] == "*"]
    assert csv_row["figures"]["median_response_seconds"] == seconds


def test_a_file_that_is_not_a_report_csv_is_rejected() -> None:
    with pytest.raises(ValueError, match="must start with"):
        parse_report_csv("a,b\n1,2\n")
    with pytest.raises(ValueError, match="Unknown figure"):
        parse_report_csv("period,start,department,department_name,scenario,nope\n")


# -- generating, storing and sending -----------------------------------------


def test_the_last_complete_week_is_over_in_every_department_timezone(
    history: Org, at: Any
) -> None:
    assert last_complete_start("week") == W3  # Mon 23 Mar 08:00Z
    at("2026-03-23 02:00")  # still Sunday evening in New York
    assert last_complete_start("week") == W2
    with pytest.raises(ValueError, match="has not ended yet"):
        reports_generate(start=W3)
    assert not ScorecardReport.objects.exists()


def test_reports_are_generated_once_and_emailed_once(history: Org) -> None:
    run = reports_generate_and_send()
    assert [(r.department, r.start) for r in run.reports] == [
        ("", W3),
        ("CS", W3),
        ("FIN", W3),
        ("LOG", W3),
    ]
    assert (run.sent, run.failed) == (4, 0)
    by_subject = {m.subject: m for m in mail.outbox}
    summary = by_subject[
        "[Baton] Service team summary: scorecard report, week of Mon 16 Mar 2026"
    ]
    # The front line's mailbox and leads; no agents, no back office.
    assert summary.to == ["cs_lead@example.com", "service@example.com"]
    [(html, mimetype)] = summary.alternatives  # type: ignore[attr-defined]
    assert mimetype == "text/html"
    # The email's HTML carries the charts as inline PNGs (cid:), the stored
    # report (the admin's download) keeps them as SVG.
    assert run.reports[0].html.count("<svg") == 3
    assert html.count("<svg") == 0 and html.count('src="cid:chart-') == 3
    [(filename, attached, csv_type)] = summary.attachments
    assert filename == "baton-scorecards-week-2026-03-16-summary.csv"
    assert csv_type == "text/csv"
    assert parse_report_csv(attached) == parse_report_csv(run.reports[0].csv)
    assert "Took days to approve" in summary.body
    assert "1. Finance: 50.0% / 50.0% of 4 decided" in summary.body
    finance = by_subject[
        "[Baton] Finance (FIN): scorecard report, week of Mon 16 Mar 2026"
    ]
    assert finance.to == ["fin_lead@example.com", "finance@example.com"]
    logistics = by_subject[
        "[Baton] Logistics (LOG): scorecard report, week of Mon 16 Mar 2026"
    ]
    assert logistics.to == ["log_lead@example.com"]
    stored = ScorecardReport.objects.get(department="FIN")
    assert stored.sent_at is not None
    assert stored.recipients == "fin_lead@example.com, finance@example.com"
    # As of the last event (the scorecards were caught up first).
    assert stored.position == get_tickets_application().recorder.max_notification_id()

    again = reports_generate_and_send()
    assert [r.pk for r in again.reports] == [r.pk for r in run.reports]
    assert (again.sent, len(mail.outbox), ScorecardReport.objects.count()) == (0, 4, 4)


def test_the_scheduled_task_sends_the_last_complete_week(history: Org) -> None:
    assert tasks.send_scorecard_reports() == {"reports": 4, "sent": 4, "failed": 0}
    assert tasks.send_scorecard_reports() == {"reports": 4, "sent": 0, "failed": 0}
    assert len(mail.outbox) == 4


def test_the_report_schedule_is_a_weekly_cron_schedule(db: None) -> None:
    schedule = Schedule.objects.get(name="Scorecard reports")
    assert (schedule.func, schedule.schedule_type, schedule.cron) == (
        "sla.tasks.send_scorecard_reports",
        Schedule.CRON,
        "0 7 * * 1",
    )
    assert schedule.repeats == -1
    # The first run is the next Monday 07:00, not "as soon as it starts".
    assert (schedule.next_run.weekday(), schedule.next_run.hour) == (0, 7)


def test_a_mail_failure_is_recorded_and_retried(history: Org) -> None:
    [summary, *_] = reports_generate(start=W3)
    with override_settings(EMAIL_BACKEND="tests.sla.failing_mail.Backend"):
        assert report_send(summary) is False
    summary.refresh_from_db()
    assert summary.sent_at is None
    assert summary.error == "OSError: mail server down"
    assert mail.outbox == []
    assert report_send(summary) is True
    summary.refresh_from_db()
    assert (summary.error, len(mail.outbox)) == ("", 1)
    assert report_send(summary) is False  # sent already
    assert len(mail.outbox) == 1


def test_a_report_nobody_can_receive_is_not_sent(history: Org) -> None:
    User.objects.filter(username="log_lead").update(email="")
    report = reports_generate(start=W3)[-1]
    assert report.department == "LOG"
    assert report_send(report) is False
    report.refresh_from_db()
    assert report.sent_at is None
    assert report.error.startswith("Not sent: nobody to send it to")
    assert mail.outbox == []


def test_late_dissatisfied_ratings_appear_in_the_next_report(
    sla_org: Org, at: Any
) -> None:
    [(ticket, stint)] = play_week(
        sla_org, at, W2, [Case("F8", "FIN", "REFUND", False, None)]
    ).values()
    _at(at, datetime(2026, 3, 16, 8, tzinfo=UTC))
    week2 = reports_generate()
    assert [r.start for r in week2] == [W2, W2, W2]
    play_week(sla_org, at, W3, WEEKS[W3])
    _at(at, datetime(2026, 3, 20, 2, tzinfo=UTC))  # Week 2's handoff, rated late
    services.ticket_rate_handoff(
        principal=services.principal_for_customer(customer_ref="CUST-F8"),
        ticket_id=ticket,
        handoff_id=stint,
        score=1,
        comment="Still waiting for my money",
    )
    _at(at, datetime(2026, 3, 23, 8, tzinfo=UTC))
    week3 = {r.department: r for r in reports_generate()}
    assert "Still waiting for my money" in week3[""].html
    assert "Still waiting for my money" in week3[""].text
    assert "Still waiting for my money" in week3["FIN"].html
    assert "Still waiting for my money" not in week3["LOG"].html
    assert all("Still waiting" not in r.html for r in week2)

    data = report_data(start=W3, since_position=week2[0].position)
    assert [(r.department, r.score) for r in data.late_dissatisfied] == [("FIN", 1)]
    assert len(data.dissatisfied) == 3  # Week 3's own, as before
    assert report_data(start=W3).late_dissatisfied == []  # no earlier report


def test_the_command_generates_without_email_then_sends(history: Org) -> None:
    out = _call("send_scorecard_reports", "--start", "2026-03-18", "--no-email")
    assert "4 report(s), 0 sent, 0 failed." in out
    assert mail.outbox == []
    assert set(ScorecardReport.objects.values_list("start", flat=True)) == {W3}
    out = _call("send_scorecard_reports", "--start", "2026-03-16")
    assert "4 report(s), 4 sent, 0 failed." in out
    assert len(mail.outbox) == 4
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        _call("send_scorecard_reports", "--start", "16/03/2026")
    with pytest.raises(CommandError, match="has not ended yet"):
        _call("send_scorecard_reports", "--start", "2026-03-23")


def _call(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


# -- the admin -------------------------------------------------------------------


def test_the_admin_shows_the_stored_report_and_its_csv(history: Org) -> None:
    summary = reports_generate(start=W3)[0]
    admin = User.objects.create_superuser("boss", "boss@example.com", "pw")
    client = Client()
    client.force_login(admin)
    view = reverse("admin:sla_scorecardreport_report", args=[summary.pk])
    download = reverse("admin:sla_scorecardreport_csv", args=[summary.pk])

    page = client.get(view)
    assert page.status_code == 200
    assert page.content.decode() == summary.html
    assert "script-src" not in page["Content-Security-Policy"]
    assert page["Content-Security-Policy"].startswith("default-src 'none'")
    csv_response = client.get(download)
    assert csv_response.status_code == 200
    assert csv_response["Content-Type"].startswith("text/csv")
    assert csv_response["Content-Disposition"] == (
        'attachment; filename="baton-scorecards-week-2026-03-16-summary.csv"'
    )
    assert parse_report_csv(csv_response.content.decode()) == parse_report_csv(
        summary.csv
    )
    listing = client.get(reverse("admin:sla_scorecardreport_changelist"))
    assert listing.status_code == 200
    assert view in listing.content.decode()
    change = client.get(reverse("admin:sla_scorecardreport_change", args=[summary.pk]))
    assert change.status_code == 200
    assert b'name="_save"' not in change.content  # read-only
    # Reports are generated, never added by hand: the add page leads back.
    add = client.get(reverse("admin:sla_scorecardreport_add"))
    assert (add.status_code, add["Location"]) == (
        302,
        reverse("admin:sla_scorecardreport_changelist"),
    )


def test_the_admin_report_views_are_scoped_by_department(history: Org) -> None:
    from tests.helpers import make_user

    reports = {r.department: r for r in reports_generate(start=W3)}
    summary, finance = reports[""], reports["FIN"]

    def urls(report: ScorecardReport) -> list[str]:
        return [
            reverse("admin:sla_scorecardreport_report", args=[report.pk]),
            reverse("admin:sla_scorecardreport_csv", args=[report.pk]),
        ]

    anonymous = Client()
    assert [anonymous.get(u).status_code for u in urls(summary)] == [302, 302]
    # Staff in no department have no permission at all.
    outsider = Client()
    outsider.force_login(make_user("outsider"))
    assert [outsider.get(u).status_code for u in urls(finance)] == [403, 403]
    # A Finance agent reads Finance's report, not the service team's summary
    # nor another department's report.
    agent = Client()
    agent.force_login(history.agents["FIN"])
    assert [agent.get(u).status_code for u in urls(finance)] == [200, 200]
    assert [agent.get(u).status_code for u in urls(summary)] == [404, 404]
    assert [agent.get(u).status_code for u in urls(reports["LOG"])] == [404, 404]
    listed = agent.get("/admin/sla/scorecardreport/").context["cl"].result_list
    assert {r.department for r in listed} == {"FIN"}
    # Front-line leads (the service team) read everything.
    lead = Client()
    lead.force_login(history.leads["CS"])
    assert [lead.get(u).status_code for u in urls(summary)] == [200, 200]
    missing = reverse("admin:sla_scorecardreport_report", args=[summary.pk + 999])
    assert lead.get(missing).status_code == 404


# -- the demo data ---------------------------------------------------------------


def test_the_demo_data_gets_a_weekly_report_with_charts(db: None, at: Any) -> None:
    call_command("load_demo", force_demo_accounts=True, stdout=_Quiet())
    catch_up_scorecards()
    latest = ScorecardHandoff.objects.order_by("-week").values_list("week", flat=True)
    week = latest.first()
    assert week is not None
    _at(at, datetime.now(UTC) + timedelta(days=8))
    run = reports_generate_and_send(start=week)
    summary = run.reports[0]
    assert summary.department == "" and len(run.reports) > 1
    charts = svgs(summary.html)
    assert [c.get("data-chart") for c in charts] == ["line", "line", "bar"]
    starts = [s.isoformat() for s in trend_starts("week", week, 8)]
    for svg in charts:
        ticks = [
            t.get("data-period")
            for t in svg.iter(f"{SVG}text")
            if t.get("class") == "tick-x"
        ]
        assert ticks == starts
    bars = chart(summary.html, "received")
    series = [
        g.get("data-series") for g in bars.iter(f"{SVG}g") if g.get("class") == "series"
    ]
    assert series
    for code in series:
        assert [p for p, _ in points(bars, str(code), "rect")] == starts
    for line in (
        chart(summary.html, "breach-rate"),
        chart(summary.html, "average-score"),
    ):
        for code in series:
            periods = [p for p, _ in points(line, str(code), "circle")]
            assert periods == sorted(set(periods)) and set(periods) <= set(starts)
    # Emailed, with the CSV attached, and the CSV round-trips. (The demo
    # stored the last complete week's reports, unsent: they go out too.)
    assert run.sent == len(mail.outbox) == ScorecardReport.objects.count()
    [email] = [m for m in mail.outbox if m.subject == f"[Baton] {summary.title}"]
    [(_, attached, _)] = email.attachments
    parsed = {
        (r["department"], r["scenario"]): r["figures"]
        for r in parse_report_csv(attached)
    }
    assert parsed == {
        (s.department, s.scenario): s.figures
        for s in Scorecard.objects.filter(period="week", start=week)
    }


class _Quiet:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass
