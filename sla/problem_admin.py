"""The Problems page in the admin, for the service team's leads and
superusers (those who read every department's scorecards): the root
causes of the tickets resolved in a period, by scenario and product area,
with volumes, departments, weekly trend, examples, customers' comments,
the linked issue and the effect of a shipped fix; its CSV; a page per
problem listing every resolution behind its numbers; and the links to
Product's tracker (:class:`ProblemLink`), created from the problem rows.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _

from departments.models import Department
from sla.models import ProblemLink
from sla.problems import (
    DEFAULT_WEEKS,
    EFFECT_WEEKS,
    ROOT_CAUSE_LABELS,
    Problem,
    ProblemKey,
    default_period,
    problem,
    problems,
    week_starts,
)
from sla.reports import problems_csv, sparkline
from tickets import clock
from tickets.selectors import sees_everything

MAX_DAYS = 366


class PeriodForm(forms.Form):
    """The period (the last ``weeks`` ISO weeks, or from/to) and filters."""

    weeks = forms.IntegerField(
        label=_("Last weeks"), min_value=1, max_value=52, required=False
    )
    start = forms.DateField(label=_("From"), required=False)
    end = forms.DateField(label=_("To (inclusive)"), required=False)
    department = forms.ChoiceField(label=_("Resolved by"), required=False)
    scenario = forms.CharField(label=_("Scenario"), required=False, max_length=64)
    root_cause = forms.ChoiceField(
        label=_("Root cause"),
        required=False,
        choices=[("", _("Any")), *ROOT_CAUSE_LABELS.items()],
    )
    effect_weeks = forms.IntegerField(
        label=_("Effect weeks"), min_value=1, max_value=26, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [  # type: ignore[attr-defined]
            ("", _("Any")),
            *Department.objects.order_by("name").values_list("code", "name"),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(_("The period ends before it starts."))
            if (end - start).days >= MAX_DAYS:
                raise forms.ValidationError(_("A period is at most a year."))
        elif start or end:
            raise forms.ValidationError(_("Give both dates, or neither."))
        return data

    def period(self) -> tuple[date, date]:
        """(first day, day after the last)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        if data.get("start") and data.get("end"):
            return data["start"], data["end"] + timedelta(days=1)
        return default_period(clock.now().date(), data.get("weeks") or DEFAULT_WEEKS)

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        scenario = (data.get("scenario") or "").strip().upper()
        return {
            "department": data.get("department") or None,
            "scenario": scenario or None,
            "root_cause": data.get("root_cause") or None,
            "effect_weeks": data.get("effect_weeks") or EFFECT_WEEKS,
        }


def _row(p: Problem, weeks: list[date], query: str) -> dict[str, Any]:
    return {
        "problem": p,
        "sparkline": sparkline(
            p.weekly, starts=weeks, title=f"{p.key.label}: resolutions per week"
        ),
        "detail_url": reverse("admin:sla_problemlink_problem")
        + f"?{p.key.query}&{query}",
        "link_url": (
            reverse("admin:sla_problemlink_change", args=[p.link.pk])
            if p.link is not None
            else reverse("admin:sla_problemlink_add") + f"?{p.key.query}"
        ),
    }


@admin.register(ProblemLink)
class ProblemLinkAdmin(admin.ModelAdmin[ProblemLink]):
    list_display = [
        "scenario",
        "root_cause",
        "product_area",
        "title",
        "url",
        "shipped_on",
    ]
    list_filter = ["root_cause", "shipped_on"]
    search_fields = ["scenario", "product_area", "title", "url"]
    fields = ["scenario", "root_cause", "product_area", "title", "url", "shipped_on"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    change_list_template = "admin/sla/problemlink_changelist.html"

    # Leads of the service team and superusers only (they see every
    # department's tickets, which the Problems page lists).
    def has_module_permission(self, request: HttpRequest) -> bool:
        return sees_everything(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return sees_everything(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return sees_everything(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return sees_everything(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return sees_everything(request.user)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        form.base_fields["root_cause"] = forms.ChoiceField(
            choices=list(ROOT_CAUSE_LABELS.items()), label=_("Root cause")
        )
        return form

    def save_model(
        self, request: HttpRequest, obj: ProblemLink, form: Any, change: bool
    ) -> None:
        obj.scenario = obj.scenario.strip().upper()
        obj.product_area = " ".join(obj.product_area.split())
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "problems/", view(self.problems_view), name="sla_problemlink_problems"
            ),
            path(
                "problems/csv/",
                view(self.csv_view),
                name="sla_problemlink_problems_csv",
            ),
            path(
                "problems/one/", view(self.problem_view), name="sla_problemlink_problem"
            ),
            *super().get_urls(),
        ]

    def _form(self, request: HttpRequest) -> PeriodForm:
        if not sees_everything(request.user):
            raise PermissionDenied
        return PeriodForm(request.GET or None)

    def problems_view(self, request: HttpRequest) -> HttpResponse:
        form = self._form(request)
        start, end = form.period()
        filters = form.filters()
        report = problems(start, end, **filters)
        query = request.GET.urlencode()
        return TemplateResponse(
            request,
            "admin/sla/problems.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Problems"),
                "opts": self.model._meta,
                "form": form,
                "report": report,
                "rows": [_row(p, report.weeks, query) for p in report.problems],
                "csv_url": reverse("admin:sla_problemlink_problems_csv")
                + (f"?{query}" if query else ""),
                "effect_weeks": filters["effect_weeks"],
            },
        )

    def csv_view(self, request: HttpRequest) -> HttpResponse:
        form = self._form(request)
        start, end = form.period()
        report = problems(start, end, **form.filters())
        response = HttpResponse(
            "\ufeff" + problems_csv(report), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="problems-{start.isoformat()}-'
            f'{report.last_day.isoformat()}.csv"'
        )
        return response

    def problem_view(self, request: HttpRequest) -> HttpResponse:
        """One problem: every resolution behind its numbers (with the log
        position of its event), all its comments, and the tickets behind
        each figure of its effect."""
        form = self._form(request)
        start, end = form.period()
        filters = form.filters()
        key = ProblemKey(
            request.GET.get("scenario", "")[:64],
            request.GET.get("root_cause", "")[:16],
            request.GET.get("product_area", "")[:100],
        )
        found = problem(
            key,
            start,
            end,
            department=filters["department"],
            effect_weeks=filters["effect_weeks"],
        )
        return TemplateResponse(
            request,
            "admin/sla/problem.html",
            {
                **self.admin_site.each_context(request),
                "title": key.label,
                "opts": self.model._meta,
                "start": start,
                "last_day": end - timedelta(days=1),
                "row": _row(found, week_starts(start, end), request.GET.urlencode()),
                "problem": found,
                "problems_url": reverse("admin:sla_problemlink_problems"),
            },
        )
