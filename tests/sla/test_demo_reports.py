"""Reports on first run: ``load_demo`` stores the last complete week's
scorecard reports (the service team's summary and one per department
that received handoffs), so a newcomer finds one after ``make run``
without running the report command. They are stored, not emailed, and a
second run adds none."""

from __future__ import annotations

import io

from django.contrib.auth.models import User
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from sla.models import Scorecard, ScorecardReport
from sla.report_services import last_complete_start


def load_demo() -> str:
    out = io.StringIO()
    call_command("load_demo", force_demo_accounts=True, stdout=out)
    return out.getvalue()


def test_the_demo_stores_the_last_complete_weeks_reports(db: None) -> None:
    printed = load_demo()
    week = last_complete_start("week")
    reports = list(ScorecardReport.objects.order_by("department"))
    assert {r.start for r in reports} == {week}
    assert {r.period for r in reports} == {"week"}
    # The summary, and one per department with scorecards that week: the
    # demo's history reaches into that week, so the report has figures.
    with_figures = set(
        Scorecard.objects.filter(period="week", start=week, scenario="*").values_list(
            "department", flat=True
        )
    )
    assert with_figures, "the demo has no handoff in the last complete week"
    assert [r.department for r in reports] == ["", *sorted(with_figures)]
    summary = reports[0]
    assert summary.html.count('class="chart"') == 3
    for code in with_figures:
        assert f"({code})</th>" in summary.html  # a row per department
    assert f"Reports of the week of {week}: {len(reports)}" in printed
    # Stored, not emailed (a demo sends no mail on its own).
    assert mail.outbox == [] and all(r.sent_at is None for r in reports)
    # The admin shows them to the demo's superuser.
    client = Client()
    client.force_login(User.objects.get(username="admin"))
    listed = client.get(reverse("admin:sla_scorecardreport_changelist"))
    assert {r.pk for r in listed.context["cl"].result_list} == {r.pk for r in reports}
    page = client.get(reverse("admin:sla_scorecardreport_report", args=[summary.pk]))
    assert page.status_code == 200 and b"Service team summary" in page.content

    # Running the demo again (the next `make run`) finds them: no duplicate.
    again = load_demo()
    assert ScorecardReport.objects.count() == len(reports)
    assert f"Reports of the week of {week}: {len(reports)}" in again
