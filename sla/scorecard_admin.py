"""Scorecards in the admin: the list of department scorecards, a page per
scorecard (raw and adjusted figures side by side, each linked to the
handoffs behind it, and the dispute trail), the drill-down page (where
departments dispute breaches and ratings and front-line leads decide),
and the what-if simulation. The ticket rows on these pages (the adjustment
trail, the handoffs behind a figure) are only those of tickets the viewer
may see (``tickets.selectors``), like everywhere else in the admin."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from departments.models import Department
from sla.models import Scorecard
from sla.reports import display_label, figure_kind
from sla.scorecards import (
    COUNT_FIGURES,
    DERIVED_FIGURES,
    FIGURE_NAMES,
    deciding_position,
    format_rate,
)
from sla.selectors import (
    ScorecardPeriod,
    scorecard_adjustments,
    scorecard_departments,
    scorecard_drilldown,
    scorecard_period,
)
from sla.whatif_admin import whatif_view
from tickets import selectors, services
from tickets.admin import ReadOnlyAdmin
from tickets.admin.visibility import HiddenIsMissingMixin, request_visibility
from tickets.application import VersionMismatch
from tickets.domain import (
    ConcurrencyConflict,
    TicketError,
    TicketNotFound,
    dispute_id_for,
)
from tickets.durations import format_duration

#: The figures shown on a scorecard page, in reading order, with their
#: adjusted counterpart when there is one.
SHOWN = [f.name for f in COUNT_FIGURES if not f.name.endswith("_adjusted")] + [
    f.name for f in DERIVED_FIGURES if not f.name.endswith("_adjusted")
]


def shown(name: str, value: Any) -> Any:
    """A figure as the scorecard pages show it: durations as people read
    them (the figures themselves are seconds), anything else as stored
    (None, nothing to compute it over, is left to the template)."""
    if value is not None and figure_kind(name) == "duration":
        return format_duration(value)
    return value


@admin.register(Scorecard)
class ScorecardAdmin(HiddenIsMissingMixin, ReadOnlyAdmin):
    list_display = [
        "department",
        "period",
        "start",
        "scenario_label",
        "received",
        "breached",
        "breach_rate",
        "average_score",
        "dissatisfied",
        "bounced",
        "reopened",
        "stalled",
        "abandoned",
    ]
    list_filter = ["period", "department", "scenario"]
    ordering = ["-start", "department", "scenario"]
    list_per_page = 100
    change_form_template = "admin/sla/scorecard/detail.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Scorecard]:
        queryset = super().get_queryset(request)
        allowed = scorecard_departments(request.user)
        return queryset if allowed is None else queryset.filter(department__in=allowed)

    # -- columns -------------------------------------------------------------

    @admin.display(description="Scenario", ordering="scenario")
    def scenario_label(self, row: Scorecard) -> str:
        return {"*": "All scenarios", "": "(none)"}.get(row.scenario, row.scenario)

    @admin.display(description="Received")
    def received(self, row: Scorecard) -> int:
        return int(row.figures["received"])

    @admin.display(description="Breached (adjusted)")
    def breached(self, row: Scorecard) -> str:
        f = row.figures
        return f"{f['breached']} ({f['breached_adjusted']})"

    @admin.display(description="Breach rate (adjusted)")
    def breach_rate(self, row: Scorecard) -> str:
        f = row.figures
        return (
            f"{format_rate(f['breach_rate'])} "
            f"({format_rate(f['breach_rate_adjusted'])})"
        )

    @admin.display(description="Avg rating (adjusted)")
    def average_score(self, row: Scorecard) -> str:
        f = row.figures

        def score(v: Any) -> str:
            return "-" if v is None else f"{v:.2f}"

        return f"{score(f['average_score'])} ({score(f['average_score_adjusted'])})"

    @admin.display(description="Dissatisfied")
    def dissatisfied(self, row: Scorecard) -> int:
        return int(row.figures["dissatisfied"])

    @admin.display(description="Bounced")
    def bounced(self, row: Scorecard) -> int:
        return int(row.figures["bounced"])

    @admin.display(description="Reopened")
    def reopened(self, row: Scorecard) -> int:
        return int(row.figures["reopened"])

    @admin.display(description="Stalled")
    def stalled(self, row: Scorecard) -> int:
        # Scorecards computed before the figure existed have none yet.
        return int(row.figures.get("stalled", 0))

    @admin.display(description="Abandoned")
    def abandoned(self, row: Scorecard) -> int:
        return int(row.figures.get("abandoned", 0))

    # -- pages ---------------------------------------------------------------

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("what-if/", view(whatif_view), name="sla_whatif"),
            path(
                "<path:object_id>/figures/<str:figure>/",
                view(self.drilldown_view),
                name="sla_scorecard_figure",
            ),
            *super().get_urls(),
        ]

    def _address(
        self, request: HttpRequest, key: str
    ) -> tuple[Scorecard, ScorecardPeriod]:
        if not self.has_view_permission(request):
            raise PermissionDenied
        key = unquote(key)
        row = (
            self.get_queryset(request).filter(pk=key).first()
            if "\x00" not in key
            else None
        )
        if row is None:
            raise Http404("No such scorecard, or not yours to see.")
        try:
            return row, scorecard_period(
                request.user, row.department, row.period, row.start
            )
        except TicketError as error:
            raise Http404(error.message) from None

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: Any = None,
    ) -> HttpResponse:
        row, address = self._address(request, object_id)
        figures = row.figures
        lines = []
        for name in SHOWN:
            if name not in figures:
                continue  # a figure newer than this scorecard: rebuild it
            adjusted = f"{name}_adjusted"
            lines.append(
                {
                    "name": name,
                    "label": display_label(name),
                    "raw": figures[name],
                    "adjusted": figures.get(adjusted, figures[name]),
                    "raw_text": shown(name, figures[name]),
                    "adjusted_text": shown(name, figures.get(adjusted, figures[name])),
                    "differs": adjusted in figures
                    and figures[adjusted] != figures[name],
                    "url": reverse("admin:sla_scorecard_figure", args=[row.pk, name]),
                    "adjusted_url": reverse(
                        "admin:sla_scorecard_figure", args=[row.pk, adjusted]
                    )
                    if adjusted in figures
                    else "",
                }
            )
        trail = [
            a
            for a in scorecard_adjustments(address)
            if row.scenario in ("*", a["scenario"])
        ]
        visible = request_visibility(request).ticket_ids(a["ticket_id"] for a in trail)
        trail = [a for a in trail if a["ticket_id"] in visible]
        siblings = Scorecard.objects.filter(
            department=row.department, period=row.period, start=row.start
        ).order_by("scenario")
        return TemplateResponse(
            request,
            "admin/sla/scorecard/detail.html",
            {
                **self.admin_site.each_context(request),
                "title": f"{address.department.name}: {row.period} from {row.start}",
                "opts": self.model._meta,
                "row": row,
                "address": address,
                "lines": lines,
                "trail": trail,
                "siblings": siblings,
            },
        )

    def drilldown_view(
        self, request: HttpRequest, object_id: str, figure: str
    ) -> HttpResponse:
        row, address = self._address(request, object_id)
        if figure not in FIGURE_NAMES:
            raise Http404("No such figure.")
        status = 200
        if request.method == "POST":
            outcome = self._dispute_command(request)
            if outcome is None:
                return HttpResponseRedirect(request.path)
            status = outcome
        value, _, facts = scorecard_drilldown(address, figure, row.scenario)
        # A department's scorecard counts only its own stints, so its members
        # see every ticket behind it; the rule still decides what is listed.
        visible = request_visibility(request).ticket_ids(f.ticket_id for f in facts)
        facts = [f for f in facts if f.ticket_id in visible]
        principal = services.principal_for_user(request.user)
        rows = [
            {
                "fact": fact,
                "deciding_position": deciding_position(figure, fact),
                "response": format_duration(fact.response_seconds),
                "ticket_url": reverse(
                    "admin:tickets_queueticket_change", args=[fact.ticket_id]
                ),
                "breach_dispute_id": dispute_id_for(fact.id, "breach"),
                "rating_dispute_id": dispute_id_for(fact.id, "rating"),
            }
            for fact in facts
        ]
        return TemplateResponse(
            request,
            "admin/sla/scorecard/figure.html",
            {
                **self.admin_site.each_context(request),
                "title": f"{display_label(figure)}: {address.department.name}, "
                f"{row.period} from {row.start}",
                "opts": self.model._meta,
                "row": row,
                "figure": figure,
                "value": value,
                "value_text": shown(figure, value),
                "rows": rows,
                "scorecard_url": reverse("admin:sla_scorecard_change", args=[row.pk]),
                "can_dispute": bool(principal.departments),
                "can_decide": Department.objects.front_line()
                .filter(code__in=principal.leads)
                .exists(),
            },
            status=status,
        )

    def _dispute_command(self, request: HttpRequest) -> int | None:
        """Run a dispute or a decision posted from the drill-down page;
        None when it was stored, else the HTTP status to re-render with."""
        principal = services.principal_for_user(request.user)
        data = request.POST
        try:
            ticket_id = UUID(data.get("ticket_id", ""))
            selectors.ticket_get(request.user, ticket_id)  # not found unless visible
            if data.get("action") == "dispute":
                services.ticket_dispute(
                    principal=principal,
                    ticket_id=ticket_id,
                    handoff_id=UUID(data.get("handoff_id", "")),
                    subject=data.get("subject", ""),
                    reason=data.get("reason", ""),
                )
            elif data.get("action") == "decide":
                services.ticket_dispute_decide(
                    principal=principal,
                    ticket_id=ticket_id,
                    dispute_id=UUID(data.get("dispute_id", "")),
                    decision=data.get("decision", ""),
                    reason=data.get("reason", ""),
                )
            else:
                raise ValueError("unknown action")
        except ValueError:
            self.message_user(request, "That request was malformed.", messages.ERROR)
            return 400
        except (VersionMismatch, ConcurrencyConflict):
            self.message_user(
                request,
                "The ticket changed meanwhile; nothing was saved. Please try again.",
                messages.ERROR,
            )
            return 409
        except TicketNotFound:
            self.message_user(
                request,
                "That ticket does not exist or is not yours to see.",
                messages.ERROR,
            )
            return 404
        except TicketError as error:
            self.message_user(request, error.message, messages.ERROR)
            return 403 if error.code in ("not_permitted", "not_owner") else 400
        self.message_user(
            request,
            "Recorded. The scorecard updates when the projector has processed it.",
            messages.SUCCESS,
        )
        return None
