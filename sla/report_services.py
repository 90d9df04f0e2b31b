"""Generate, store and email the periodic scorecard reports.

A report is generated once per (period, start, department) and kept:
generating again returns the stored report, so a retried task never
duplicates one, and what was sent stays what the admin shows. The email carries the
charts as inline PNG images (``multipart/related``, referenced by
``cid:``), which every mail client shows; the stored HTML (the admin's
download) keeps them as SVG. Sending is
separate from generating and happens outside any database transaction
(no transaction is held across the SMTP call); a failure is recorded on
the report and retried by the next run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.mime.image import MIMEImage
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEMultipart
from django.db.models import Q, QuerySet
from django.utils.html import format_html
from django.utils.translation import gettext as _

from departments.models import Department, Membership
from sla.chart_png import report_charts
from sla.models import Scorecard, ScorecardReport
from sla.projections import ScorecardProjection
from sla.reports import (
    render_report_html,
    render_report_text,
    report_csv,
    report_data,
)
from sla.scorecards import (
    ALL_SCENARIOS,
    PERIODS,
    period_after,
    period_before,
    period_start,
)
from tickets import clock
from tickets.application import get_tickets_application
from tickets.projection_runner import catch_up, positions_of, projection_group

logger = logging.getLogger(__name__)

#: How long a worker's claim on a report it is emailing holds.
SEND_LEASE = timedelta(minutes=15)


def _earliest_local_date(now: datetime) -> date:
    """Today's date where it is earliest: across the active departments'
    timezones (and UTC)."""
    zones = set(Department.objects.active().values_list("timezone", flat=True))
    return min(now.astimezone(ZoneInfo(zone)).date() for zone in zones | {"UTC"})


def last_complete_start(period: str = "week", now: datetime | None = None) -> date:
    """The start of the latest ``period`` that has ended in every active
    department's timezone (each department's periods are in its own)."""
    today = _earliest_local_date(now or clock.now())
    return period_before(period, period_start(period, today))


def reports_generate(
    *, period: str = "week", start: date | None = None, catch_up_first: bool = True
) -> list[ScorecardReport]:
    """The service-team summary and one report per department that
    received handoffs in the period, summary first.

    ``start`` defaults to the last complete period and is otherwise
    normalised to the first day of the period containing it. A report
    that already exists for the same (period, start, department) is
    returned as it is, never regenerated. The scorecard projections are
    caught up first, so the figures are as of the latest event.

    Raises ValueError for an unknown period or one that has not ended yet
    in every department's timezone (a stored report is final, so a partial
    period must not be stored).
    """
    if period not in PERIODS:
        raise ValueError(
            _("The period must be one of %(periods)s.")
            % {"periods": ", ".join(PERIODS)}
        )
    now = clock.now()
    if start is None:
        start = last_complete_start(period, now)
    else:
        start = period_start(period, start)
        if period_after(period, start) > _earliest_local_date(now):
            raise ValueError(
                _(
                    "The %(period)s starting %(start)s has not ended yet in "
                    "every department's timezone."
                )
                % {"period": period, "start": start.isoformat()}
            )

    app = get_tickets_application()
    projections = projection_group("scorecards")
    if catch_up_first:
        catch_up(app, projections)
    position = positions_of(projections, app.name).get(ScorecardProjection.name)

    codes = sorted(
        set(
            Scorecard.objects.filter(
                period=period, start=start, scenario=ALL_SCENARIOS
            ).values_list("department", flat=True)
        )
    )
    keys = ["", *codes]
    existing = {
        r.department: r
        for r in ScorecardReport.objects.filter(
            period=period, start=start, department__in=keys
        )
    }
    reports = []
    for key in keys:
        if key in existing:
            reports.append(existing[key])
            continue
        previous = (
            ScorecardReport.objects.filter(
                period=period, department=key, start__lt=start
            )
            .order_by("-start")
            .values_list("position", flat=True)
            .first()
        )
        data = report_data(
            period=period,
            start=start,
            department=key or None,
            position=position,
            since_position=previous,
        )
        report, _created = ScorecardReport.objects.get_or_create(
            period=period,
            start=start,
            department=key,
            defaults={
                "title": data.title[:200],
                "position": position,
                "html": render_report_html(data),
                "text": render_report_text(data),
                "csv": report_csv(data),
            },
        )
        reports.append(report)
    return reports


def report_recipients(report: ScorecardReport) -> list[str]:
    """A department's report goes to its shared mailbox and its leads; the
    summary to the front-line departments' mailboxes and leads."""
    departments: QuerySet[Department] = (
        Department.objects.active().front_line()
        if report.is_summary
        else Department.objects.filter(code=report.department)
    )
    emails = {d.email for d in departments if d.email}
    emails.update(
        Membership.objects.filter(
            department__in=departments,
            role=Membership.Role.LEAD,
            user__is_active=True,
        )
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    return sorted(emails)


def report_filename(report: ScorecardReport, extension: str) -> str:
    who = report.department.lower() or "summary"
    return (
        f"baton-scorecards-{report.period}-{report.start.isoformat()}-{who}.{extension}"
    )


class ReportEmail(EmailMultiAlternatives):
    """An email whose HTML alternative travels with its images: the HTML
    part and the ``images`` (Content-ID, PNG bytes) form one
    ``multipart/related`` part, so the structure is
    ``mixed[alternative[text, related[html, png...]], attachments...]``."""

    def __init__(
        self, *args: Any, images: list[tuple[str, bytes]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.images = list(images or [])

    # Django's own hook for building the alternative part (not in the stubs).
    def _create_alternatives(self, msg: Any) -> Any:
        msg = super()._create_alternatives(msg)  # type: ignore[misc]
        if not self.images or not msg.is_multipart():
            return msg
        parts = msg.get_payload()
        for index, part in enumerate(parts):
            if part.get_content_type() != "text/html":
                continue
            related = SafeMIMEMultipart(
                _subtype="related", encoding=self.encoding or settings.DEFAULT_CHARSET
            )
            related.attach(part)
            for content_id, png in self.images:
                image = MIMEImage(png, "png")
                image.add_header("Content-ID", f"<{content_id}>")
                image.add_header(
                    "Content-Disposition",
                    "inline",
                    filename=content_id.split("@")[0] + ".png",
                )
                related.attach(image)
            parts[index] = related
        return msg


def email_html(report: ScorecardReport) -> tuple[str, list[tuple[str, bytes]]]:
    """The report's HTML for email, each SVG chart replaced by an ``<img>``
    of its PNG (``cid:`` reference), and those PNGs with their Content-IDs.
    A chart that cannot be drawn keeps its SVG."""
    html, images = report.html, []
    for number, chart in enumerate(report_charts(report.html), start=1):
        content_id = f"chart-{number}.report-{report.pk}@baton"
        image = format_html(
            '<img src="cid:{}" alt="{}" width="{}" height="{}" '
            'style="max-width:100%;height:auto">',
            content_id,
            chart.title,
            chart.width,
            chart.height,
        )
        html = html.replace(chart.svg, image, 1)
        images.append((content_id, chart.png))
    return html, images


def report_send(report: ScorecardReport) -> bool:
    """Email ``report`` (plain text, the HTML as alternative with its
    charts as inline PNG images, the CSV attached) unless it was sent
    already. Returns True when this call sent it. Never raises for a mail
    failure or a report nobody can receive: the reason is stored in
    ``error`` (and the next run tries again).

    Must not be called inside a database transaction: each step is its
    own short write, none spans the SMTP call.
    """
    now = clock.now()
    # Claim it first: of two overlapping runs (the schedule, the command,
    # a redelivered task) only one sends. A claim older than the lease is
    # a worker that died mid-send.
    claimed = (
        ScorecardReport.objects.filter(pk=report.pk, sent_at__isnull=True)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - SEND_LEASE))
        .update(claimed_at=now)
    )
    if not claimed:
        report.refresh_from_db(fields=["sent_at"])
        return False
    recipients = report_recipients(report)
    if not recipients:
        _failed(
            report,
            recipients,
            _(
                "Not sent: nobody to send it to (no shared mailbox and no lead "
                "with an email address)."
            ),
        )
        return False
    try:
        html, images = email_html(report)
        message = ReportEmail(
            subject=f"[Baton] {report.title}"[:250],
            body=report.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=recipients,
            images=images,
        )
        message.attach_alternative(html, "text/html")
        message.attach(report_filename(report, "csv"), report.csv, "text/csv")
        message.send()
    except Exception as error:
        logger.exception("Sending scorecard report %s failed", report.pk)
        _failed(report, recipients, f"{type(error).__name__}: {error}")
        return False
    now = clock.now()
    sent = ScorecardReport.objects.filter(pk=report.pk, sent_at__isnull=True).update(
        sent_at=now, recipients=", ".join(recipients), error="", claimed_at=None
    )
    report.sent_at, report.recipients, report.error = now, ", ".join(recipients), ""
    return bool(sent)


def _failed(report: ScorecardReport, recipients: list[str], error: str) -> None:
    report.recipients, report.error = ", ".join(recipients), error[:2000]
    ScorecardReport.objects.filter(pk=report.pk).update(
        recipients=report.recipients, error=report.error, claimed_at=None
    )


@dataclass
class ReportRun:
    reports: list[ScorecardReport] = field(default_factory=list)
    sent: int = 0
    failed: int = 0


def reports_generate_and_send(
    *, period: str = "week", start: date | None = None, email: bool = True
) -> ReportRun:
    """Generate the period's reports (or find them) and email those not
    sent yet. Idempotent: running it again sends nothing twice."""
    run = ReportRun(reports=reports_generate(period=period, start=start))
    if email:
        # This period's reports, and any earlier one a failure left unsent.
        pending = reports_send_pending()
        run.sent, run.failed = pending.sent, pending.failed
        for report in run.reports:
            report.refresh_from_db(fields=["sent_at", "recipients", "error"])
    return run


def reports_send_pending() -> ReportRun:
    """Email every stored report still unsent (a mail outage, nobody to
    send it to then): the hourly retry."""
    run = ReportRun()
    for report in ScorecardReport.objects.filter(sent_at__isnull=True).order_by(
        "start", "department"
    ):
        if report_send(report):
            run.sent += 1
        elif report.error:
            run.failed += 1
    return run
