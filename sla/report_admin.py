"""Admin for the stored scorecard reports: read-only, with the report
itself (its stored HTML, as emailed) and its CSV download. Both views
need the model's view permission. A report lists tickets (the dissatisfied
ratings), so one the viewer may not read answers 404 everywhere."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sla.models import ScorecardReport
from sla.report_services import report_filename
from sla.selectors import scorecard_departments
from tickets.admin import ReadOnlyAdmin
from tickets.admin.visibility import HiddenIsMissingMixin

#: The stored report is a standalone page with inline CSS and SVG: it
#: needs nothing else, so forbid everything else (scripts included).
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

FIELDS = (
    "title",
    "period",
    "start",
    "department",
    "created_at",
    "position",
    "recipients",
    "sent_at",
    "error",
    "links",
)


@admin.register(ScorecardReport)
class ScorecardReportAdmin(HiddenIsMissingMixin, ReadOnlyAdmin):
    list_display = [
        "title",
        "period",
        "start",
        "who",
        "created_at",
        "sent_at",
        "has_error",
        "links",
    ]
    list_filter = ["period", "department"]
    date_hierarchy = "start"
    search_fields = ["title", "department", "recipients"]
    fields = FIELDS
    readonly_fields = FIELDS

    @admin.display(description=gettext_lazy("Report for"))
    def who(self, obj: ScorecardReport) -> str:
        return obj.department or _("Service team (summary)")

    @admin.display(description=gettext_lazy("Failed"), boolean=True)
    def has_error(self, obj: ScorecardReport) -> bool:
        return bool(obj.error)

    @admin.display(description=gettext_lazy("Report"))
    def links(self, obj: ScorecardReport) -> str:
        info = self.opts.app_label, self.opts.model_name
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:{}_{}_report".format(*info), args=[obj.pk]),
            _("View report"),
            reverse("admin:{}_{}_csv".format(*info), args=[obj.pk]),
            _("Download CSV"),
        )

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<int:pk>/report/",
                self.admin_site.admin_view(self.report_view),
                name="{}_{}_report".format(*info),
            ),
            path(
                "<int:pk>/csv/",
                self.admin_site.admin_view(self.csv_view),
                name="{}_{}_csv".format(*info),
            ),
            *super().get_urls(),
        ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ScorecardReport]:
        """Department staff see their departments' reports; the service
        team's summary and every report are for front-line leads and
        superusers."""
        queryset = super().get_queryset(request)
        allowed = scorecard_departments(request.user)
        return queryset if allowed is None else queryset.filter(department__in=allowed)

    def _report(self, request: HttpRequest, pk: int) -> ScorecardReport:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(self.get_queryset(request), pk=pk)

    def report_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The report exactly as it was generated and emailed."""
        report = self._report(request, pk)
        if not report.html:
            raise Http404(_("This report has no HTML."))
        response = HttpResponse(report.html, content_type="text/html; charset=utf-8")
        response["Content-Security-Policy"] = REPORT_CSP
        return response

    def csv_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        report = self._report(request, pk)
        response = HttpResponse(report.csv, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{report_filename(report, "csv")}"'
        )
        return response
