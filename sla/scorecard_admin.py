"""Scorecards in the admin: the list of department scorecards, a page per
scorecard (raw and adjusted figures side by side, each linked to the
handoffs behind it, and the dispute trail), the drill-down page (where
departments dispute breaches and ratings and front-line leads decide),
the disputes inbox and the what-if simulation. Figures read through
:func:`sla.reports.format_figure` (rates as percentages, durations as
"1h 34m"), times in the viewer's timezone, named. The ticket rows on
these pages (the adjustment trail, the handoffs behind a figure) are only
those of tickets the viewer may see (``tickets.selectors``), like
everywhere else in the admin."""

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
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from departments.models import Department
from sla.disputes_admin import (
    Raised,
    StintDetails,
    dispute_raisers,
    disputes_view,
    stint_details,
)
from sla.models import Scorecard
from sla.reports import display_label, format_figure
from sla.reports.data import DISPUTE_STATES
from sla.scorecards import (
    COUNT_FIGURES,
    DERIVED_FIGURES,
    FIGURE_NAMES,
    PERIODS,
    deciding_position,
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
from tickets.formatting import (
    format_count,
    format_duration,
    format_instant,
    format_rate,
    format_score,
    zone_name,
)
from tickets.preferences import viewer_timezone

#: The figures shown on a scorecard page, in reading order (the rates,
#: durations and scores a lead reads first, then the counts behind them),
#: with their adjusted counterpart when there is one.
SHOWN = [f.name for f in DERIVED_FIGURES if not f.name.endswith("_adjusted")] + [
    f.name for f in COUNT_FIGURES if not f.name.endswith("_adjusted")
]


def shown(name: str, value: Any) -> str:
    """A figure as the scorecard pages show it: counts grouped, rates as
    percentages, scores to two decimals, durations as "1h 34m"; an en
    dash when there is nothing to compute it over."""
    return format_figure(name, value)


#: Stored codes as the drill-down shows them.
WORDS = {
    "opened": gettext_lazy("opened"),
    "handoff": gettext_lazy("handoff"),
    "reopen": gettext_lazy("reopen"),
    "met": gettext_lazy("met"),
    "breached": gettext_lazy("breached"),
    "handed_on": gettext_lazy("handed on"),
    "resolved": gettext_lazy("resolved"),
    "abandoned": gettext_lazy("abandoned"),
    **DISPUTE_STATES,
}


def word(code: str) -> str:
    """A stored code (a verdict, how a stint ended, a dispute's state) in
    the active language; an unknown one as stored."""
    return str(WORDS.get(code, code))


#: The period types of the list filter, the default first.
PERIOD_CHOICES = (
    ("week", gettext_lazy("Weeks")),
    ("month", gettext_lazy("Months")),
    ("day", gettext_lazy("Days")),
    ("all", gettext_lazy("All periods")),
)
DEFAULT_PERIOD = "week"


class PeriodFilter(admin.SimpleListFilter):
    """The scorecard list shows one period type at a time, weeks unless
    another (or all) is chosen; the parameter is the one Django's own
    field filter uses, so ``?period__exact=month`` links keep working."""

    title = gettext_lazy("period")
    parameter_name = "period__exact"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return PERIOD_CHOICES

    def value(self) -> str:
        chosen = super().value()
        return chosen if chosen in (*PERIODS, "all") else DEFAULT_PERIOD

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        chosen = self.value()
        return queryset if chosen == "all" else queryset.filter(period=chosen)

    def choices(self, changelist: Any) -> Any:
        facets = self.get_facet_queryset(changelist) if changelist.add_facets else {}
        for index, (lookup, title) in enumerate(self.lookup_choices):
            count = facets.get(f"{index}__c") if facets else None
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string(
                    {self.parameter_name: lookup}
                ),
                "display": title if count is None else f"{title} ({count})",
            }


class ScenarioFilter(admin.SimpleListFilter):
    """Scenario rows by name, the all-scenario totals named as such (the
    stored ``*`` means nothing to a reader)."""

    title = gettext_lazy("scenario")
    parameter_name = "scenario__exact"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        names = (
            model_admin.get_queryset(request)
            .exclude(scenario="*")
            .order_by("scenario")
            .values_list("scenario", flat=True)
            .distinct()
        )
        return [
            ("*", _("All scenarios (totals)")),
            *((name, name or _("(none)")) for name in names),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        chosen = self.value()
        return queryset if chosen is None else queryset.filter(scenario=chosen)


@admin.register(Scorecard)
class ScorecardAdmin(HiddenIsMissingMixin, ReadOnlyAdmin):
    # Fits a 1,366 px screen beside the filters; every other figure is one
    # click away (the scorecard's page).
    list_display = [
        "department",
        "period",
        "starts",
        "scenario_label",
        "received",
        "breach_rate",
        "median_response",
        "average_score",
    ]
    list_filter = [PeriodFilter, "department", ScenarioFilter]
    ordering = ["-start", "department", "scenario"]
    list_per_page = 100
    change_form_template = "admin/sla/scorecard/detail.html"
    change_list_template = "admin/sla/scorecard/change_list.html"

    def get_list_display(self, request: HttpRequest) -> Any:
        """The period column only when several period types are listed."""
        shown = list(super().get_list_display(request))
        if request.GET.get(PeriodFilter.parameter_name) != "all":
            shown.remove("period")
        return shown

    def get_queryset(self, request: HttpRequest) -> QuerySet[Scorecard]:
        queryset = super().get_queryset(request)
        allowed = scorecard_departments(request.user)
        return queryset if allowed is None else queryset.filter(department__in=allowed)

    # -- columns -------------------------------------------------------------

    @admin.display(description=gettext_lazy("Scenario"), ordering="scenario")
    def scenario_label(self, row: Scorecard) -> str:
        if row.scenario == "*":
            return _("All scenarios")
        return row.scenario or _("(none)")

    @admin.display(description=gettext_lazy("Received"))
    def received(self, row: Scorecard) -> str:
        return format_count(row.figures["received"])

    @admin.display(description=gettext_lazy("Starts"), ordering="start")
    def starts(self, row: Scorecard) -> str:
        return row.start.isoformat()

    # Raw figures (they never change); the page puts the adjusted beside them.
    @admin.display(description=gettext_lazy("Breach rate"))
    def breach_rate(self, row: Scorecard) -> str:
        return format_rate(row.figures["breach_rate"])

    @admin.display(description=gettext_lazy("Median first response"))
    def median_response(self, row: Scorecard) -> str:
        return format_duration(row.figures.get("median_response_seconds"))

    @admin.display(description=gettext_lazy("Average rating"))
    def average_score(self, row: Scorecard) -> str:
        return format_score(row.figures["average_score"])

    # -- pages ---------------------------------------------------------------

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("what-if/", view(whatif_view), name="sla_whatif"),
            path("disputes/", view(disputes_view), name="sla_disputes"),
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
            raise Http404(_("No such scorecard, or not yours to see."))
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
        trail = [
            {**a, "state_label": word(a["state"])}
            for a in trail
            if a["ticket_id"] in visible
        ]
        siblings = Scorecard.objects.filter(
            department=row.department, period=row.period, start=row.start
        ).order_by("scenario")
        return TemplateResponse(
            request,
            "admin/sla/scorecard/detail.html",
            {
                **self.admin_site.each_context(request),
                "title": _("%(department)s: %(period)s from %(start)s")
                % {
                    "department": address.department.name,
                    "period": row.get_period_display(),
                    "start": row.start.isoformat(),
                },
                "opts": self.model._meta,
                "row": row,
                "address": address,
                "period_zone": address.department.timezone,
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
            raise Http404(_("No such figure."))
        status = 200
        if request.method == "POST":
            outcome = self._dispute_command(request)
            if outcome is None:
                return HttpResponseRedirect(request.path)
            status = outcome
        value, _count, facts = scorecard_drilldown(address, figure, row.scenario)
        # A department's scorecard counts only its own stints, so its members
        # see every ticket behind it; the rule still decides what is listed.
        visible = request_visibility(request).ticket_ids(f.ticket_id for f in facts)
        facts = [f for f in facts if f.ticket_id in visible]
        principal = services.principal_for_user(request.user)
        zone = viewer_timezone(request.user)
        details = stint_details(f.id for f in facts)
        raisers = dispute_raisers(
            getattr(f, f"{kind}_dispute_position")
            for f in facts
            for kind in ("breach", "rating")
            if getattr(f, f"{kind}_dispute")
        )
        nothing = Raised("", "", None)

        def raised(fact: Any, kind: str) -> dict[str, str]:
            if not getattr(fact, f"{kind}_dispute"):
                return {}
            found = raisers.get(int(getattr(fact, f"{kind}_dispute_position") or 0))
            found = found or nothing
            return {
                "reason": getattr(fact, f"{kind}_dispute_reason"),
                "decision_reason": getattr(fact, f"{kind}_decision_reason"),
                "by": found.by,
                "at": format_instant(found.at, zone),
            }

        rows = [
            {
                "fact": fact,
                "subject": details.get(fact.id, StintDetails("", "", "")).subject,
                "agent": details.get(fact.id, StintDetails("", "", "")).agent,
                "received": format_instant(fact.received_at, zone, with_zone=False),
                "kind": word(fact.kind),
                "verdict": word(fact.verdict),
                "ended": word(fact.ended_how),
                "breach_state": word(fact.breach_dispute),
                "rating_state": word(fact.rating_dispute),
                "deciding_position": deciding_position(figure, fact),
                "response": format_duration(fact.response_seconds),
                "ticket_url": reverse(
                    "admin:tickets_queueticket_change", args=[fact.ticket_id]
                ),
                "breach_dispute_id": dispute_id_for(fact.id, "breach"),
                "rating_dispute_id": dispute_id_for(fact.id, "rating"),
                "breach": raised(fact, "breach"),
                "rating": raised(fact, "rating"),
            }
            for fact in facts
        ]
        return TemplateResponse(
            request,
            "admin/sla/scorecard/figure.html",
            {
                **self.admin_site.each_context(request),
                "title": _("%(figure)s: %(department)s, %(period)s from %(start)s")
                % {
                    "figure": display_label(figure),
                    "department": address.department.name,
                    "period": row.get_period_display(),
                    "start": row.start.isoformat(),
                },
                "opts": self.model._meta,
                "row": row,
                "figure": figure,
                "figure_label": display_label(figure),
                "value": value,
                "value_text": shown(figure, value),
                "rows": rows,
                "zone": zone_name(zone),
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
            self.message_user(request, _("That request was malformed."), messages.ERROR)
            return 400
        except (VersionMismatch, ConcurrencyConflict):
            self.message_user(
                request,
                _("The ticket changed meanwhile; nothing was saved. Please try again."),
                messages.ERROR,
            )
            return 409
        except TicketNotFound:
            self.message_user(
                request,
                _("That ticket does not exist or is not yours to see."),
                messages.ERROR,
            )
            return 404
        except TicketError as error:
            self.message_user(request, error.message, messages.ERROR)
            return 403 if error.code in ("not_permitted", "not_owner") else 400
        self.message_user(
            request,
            _("Recorded. The scorecard updates when the projector has processed it."),
            messages.SUCCESS,
        )
        return None
