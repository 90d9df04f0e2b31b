"""The lead dashboard in the admin (``admin:sla_dashboard``): departments
side by side for a week or a month and a scenario, ranked, with trend
sparklines and charts, drill-through to the scorecards and the handoffs
behind each number, and a department's figures per agent
(``admin:sla_dashboard_agent_figure`` lists the stints behind an agent's
figure). Figures come from :mod:`sla.dashboard`; who sees what is decided
there.

The page hangs off a proxy of ``Scorecard`` (no table of its own), so it
sits in the admin's index and URL scheme like any model page: its list
is the dashboard; a row's page is the scorecard's own page.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from departments.selectors import scenario_choices
from sla import dashboard as figures
from sla.charts import chart_table_rows, format_value, line_chart_svg, sparkline_svg
from sla.models import Scorecard
from sla.scorecards import ALL_SCENARIOS
from tickets import clock
from tickets.admin import ReadOnlyAdmin
from tickets.admin.visibility import request_visibility
from tickets.domain import InvalidInput, NotPermitted
from tickets.followups import dashboard_counts
from tickets.formatting import format_instant, zone_name
from tickets.models import Handoff, TicketSummary
from tickets.preferences import viewer_timezone

#: How a stint's verdict and ending read on the drill-down page.
OUTCOMES = {
    "met": gettext_lazy("met"),
    "breached": gettext_lazy("breached"),
    "handed_on": gettext_lazy("handed on"),
    "resolved": gettext_lazy("resolved"),
    "abandoned": gettext_lazy("abandoned"),
}


class LeadDashboard(Scorecard):
    """The dashboard's place in the admin (a proxy: no table)."""

    class Meta:
        proxy = True
        verbose_name = gettext_lazy("lead dashboard")
        verbose_name_plural = gettext_lazy("lead dashboard")


#: The dates the dashboard can show: stepping a period either way from
#: any of them stays a date (an address beyond them reads as none given).
EARLIEST, LATEST = date(1970, 1, 1), date(9000, 12, 31)


def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if EARLIEST <= day <= LATEST else None


def _followups(scope: set[str] | None) -> dict[str, Any]:
    """Open and overdue follow-ups of dissatisfied ratings in ``scope``
    (:func:`tickets.followups.dashboard_counts`) and the inbox's address."""
    return {
        **dashboard_counts(scope),
        "url": reverse("admin:tickets_followups"),
    }


@admin.register(LeadDashboard)
class LeadDashboardAdmin(ReadOnlyAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return figures.may_see_dashboard(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return figures.may_see_dashboard(request.user)

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("", view(self.dashboard_view), name="sla_dashboard"),
            path(
                "agent-figure/",
                view(self.agent_figure_view),
                name="sla_dashboard_agent_figure",
            ),
            *super().get_urls(),
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: Any = None
    ) -> HttpResponse:
        return self.dashboard_view(request)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: Any = None,
    ) -> HttpResponse:
        """A row is a scorecard: its page is the scorecard's page (which
        decides who may read it)."""
        self._allowed(request)
        return HttpResponseRedirect(
            reverse("admin:sla_scorecard_change", args=[object_id])
        )

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        return self.change_view(request, object_id)

    # -- the pages ---------------------------------------------------------

    def _allowed(self, request: HttpRequest) -> set[str] | None:
        try:
            return figures.dashboard_departments(request.user)
        except NotPermitted:
            raise PermissionDenied from None

    def _address(
        self, request: HttpRequest, scope: set[str] | None
    ) -> tuple[figures.Period, str]:
        query = request.GET
        scenario = (query.get("scenario") or ALL_SCENARIOS).strip() or ALL_SCENARIOS
        try:
            period = figures.resolve_period(
                query.get("period") or "week",
                _day(query.get("start")),
                scope,
                scenario,
            )
        except InvalidInput as error:
            raise Http404(error.message) from None
        return period, scenario

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        scope = self._allowed(request)
        period, scenario = self._address(request, scope)
        board = figures.department_lines(scope, period, scenario)
        code = request.GET.get("department", "")
        if not code and scope is not None:
            code = sorted(scope)[0]
        agents: list[figures.AgentLine] = []
        department = None
        if code:
            try:
                department = figures.require_department(request.user, code)
            except NotPermitted:
                raise PermissionDenied from None
            agents = figures.agent_lines(department.code, period, scenario)
        zone = viewer_timezone(request.user)
        followups = _followups(scope)

        def link(**changes: str) -> str:
            query = {
                "period": period.kind,
                "start": period.start.isoformat(),
                "scenario": scenario,
                **({"department": department.code} if department else {}),
            }
            query.update(changes)
            return f"?{urlencode({k: v for k, v in query.items() if v})}"

        columns = [
            {"name": name, "kind": kind, "label": figures.figure_label(name)}
            for name, kind in figures.FIGURES
        ]
        rows = []
        for line in board.lines:
            cells = []
            for name, kind in figures.FIGURES:
                value = line.figures.get(name)
                cells.append(
                    {
                        "name": name,
                        "text": format_value(kind, value),
                        "url": reverse(
                            "admin:sla_scorecard_figure", args=[quote(line.key), name]
                        )
                        if line.key
                        else "",
                    }
                )
            adjusted = line.figures.get("breach_rate_adjusted")
            rows.append(
                {
                    "line": line,
                    "cells": cells,
                    "breach_adjusted": format_value("rate", adjusted)
                    if adjusted != line.figures.get("breach_rate")
                    else "",
                    "scorecard_url": reverse(
                        "admin:sla_scorecard_change", args=[quote(line.key)]
                    )
                    if line.key
                    else "",
                    "agents_url": link(department=line.code) + "#agents",
                    "followups": (followups or {})
                    .get("by_department", {})
                    .get(line.code),
                    "sparklines": [
                        sparkline_svg(
                            line.trend[name],
                            kind=kind,
                            label=figures.figure_label(name),
                            x_labels=board.x_labels,
                        )
                        for name, kind in (
                            ("received", "count"),
                            ("breach_rate", "rate"),
                        )
                    ],
                }
            )
        charts = [
            {
                "data": chart,
                "svg": line_chart_svg(chart),
                "rows": chart_table_rows(chart),
            }
            for chart in board.charts
        ]
        agent_rows = [
            {
                "line": agent,
                "cells": [
                    {
                        "name": name,
                        "text": format_value(kind, agent.figures.get(name)),
                        "url": reverse("admin:sla_dashboard_agent_figure")
                        + link(agent=agent.agent_id or "-", figure=name),
                    }
                    for name, kind in figures.AGENT_FIGURES
                ],
            }
            for agent in agents
        ]
        title = (
            _("Lead dashboard: week of %(start)s")
            if period.kind == "week"
            else _("Lead dashboard: month of %(start)s")
        ) % {"start": period.start.isoformat()}
        return TemplateResponse(
            request,
            "admin/sla/dashboard.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": self.model._meta,
                "board": board,
                "period": period,
                "scenario": scenario,
                "scenarios": scenario_choices(),
                "columns": columns,
                "rows": rows,
                "charts": charts,
                "x_labels": board.x_labels,
                "department": department,
                "agent_columns": [
                    {"name": n, "label": figures.figure_label(n)}
                    for n, _k in figures.AGENT_FIGURES
                ],
                "agent_rows": agent_rows,
                "followups": followups,
                "zone": zone_name(zone),
                "as_of": format_instant(clock.now(), zone),
                "previous_url": link(start=period.previous.isoformat()),
                "next_url": link(start=period.following.isoformat())
                if period.following
                else "",
                "week_url": link(period="week", start=""),
                "month_url": link(period="month", start=""),
                "single_department": scope is not None and len(scope) == 1,
                # A dashboard needs the width: no model list beside it.
                "is_nav_sidebar_enabled": False,
            },
        )

    def agent_figure_view(self, request: HttpRequest) -> HttpResponse:
        scope = self._allowed(request)
        period, scenario = self._address(request, scope)
        try:
            department = figures.require_department(
                request.user, request.GET.get("department", "")
            )
        except NotPermitted:
            raise PermissionDenied from None
        agent = request.GET.get("agent", "")
        agent_id = "" if agent in ("", "-") else agent
        figure = request.GET.get("figure", "received")
        try:
            value, facts = figures.agent_figure_rows(
                department.code, period, scenario, agent_id, figure
            )
        except InvalidInput as error:
            raise Http404(error.message) from None
        visible = request_visibility(request).ticket_ids(f.ticket_id for f in facts)
        subjects = dict(
            TicketSummary.objects.filter(pk__in=visible).values_list("pk", "subject")
        )
        zone = viewer_timezone(request.user)
        kind = figures.kind_of(figure)
        rows = [
            {
                "fact": fact,
                "subject": subjects.get(fact.ticket_id, ""),
                "received": format_instant(fact.received_at, zone, with_zone=False),
                "response": format_value("duration", fact.response_seconds),
                "verdict": OUTCOMES.get(fact.verdict, fact.verdict),
                "ended": OUTCOMES.get(fact.ended_how, fact.ended_how),
                "ticket_url": reverse(
                    "admin:tickets_queueticket_change", args=[fact.ticket_id]
                ),
            }
            for fact in facts
            if fact.ticket_id in visible
        ]
        name = (
            Handoff.objects.filter(agent_id=agent_id)
            .exclude(agent_name="")
            .values_list("agent_name", flat=True)
            .first()
            if agent_id
            else None
        )
        who = name or agent_id or _("Not assigned")
        back = (
            reverse("admin:sla_dashboard")
            + "?"
            + urlencode(
                {
                    "period": period.kind,
                    "start": period.start.isoformat(),
                    "scenario": scenario,
                    "department": department.code,
                }
            )
        )
        return TemplateResponse(
            request,
            "admin/sla/dashboard_agent_figure.html",
            {
                **self.admin_site.each_context(request),
                "title": _("%(figure)s: %(agent)s, %(department)s")
                % {
                    "figure": figures.figure_label(figure),
                    "agent": who,
                    "department": department.name,
                },
                "opts": self.model._meta,
                "value_text": format_value(kind, value),
                "rows": rows,
                "zone": zone_name(zone),
                "back_url": back + "#agents",
                "period": period,
            },
        )
