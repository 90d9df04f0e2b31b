"""Generate the scorecard reports of a period (the service-team summary
and one per department) and email those not sent yet. The scheduled task
does the same for the last complete week."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from sla.report_services import reports_generate_and_send
from sla.scorecards import PERIODS
from tickets.formatting import format_instant


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(
            _("--start must be YYYY-MM-DD, not %(text)r.") % {"text": text}
        ) from None


class Command(BaseCommand):
    help = (
        "Generate (once) and email the scorecard reports of a period: by "
        "default the last week that has ended in every department's timezone."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--period", choices=PERIODS, default="week")
        parser.add_argument(
            "--start",
            type=_day,
            default=None,
            help="A day of the period (YYYY-MM-DD); default: the last complete one.",
        )
        parser.add_argument(
            "--no-email",
            action="store_true",
            help="Generate and store the reports without sending them.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            run = reports_generate_and_send(
                period=options["period"],
                start=options["start"],
                email=not options["no_email"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        for report in run.reports:
            if report.sent_at:
                status = _("sent %(at)s to %(to)s") % {
                    "at": format_instant(report.sent_at, "UTC"),
                    "to": report.recipients,
                }
            elif report.error:
                status = _("NOT SENT: %(error)s") % {"error": report.error}
            else:
                status = _("not sent")
            self.stdout.write(f"{report.title}: {status}")
        self.stdout.write(
            _("%(reports)s report(s), %(sent)s sent, %(failed)s failed.")
            % {"reports": len(run.reports), "sent": run.sent, "failed": run.failed}
        )
        if run.failed:
            raise CommandError(
                _("%(failed)s report(s) could not be sent.") % {"failed": run.failed}
            )
