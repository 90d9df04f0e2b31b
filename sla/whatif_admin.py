"""Admin page for the what-if simulation (``sla.whatif``).

A GET form (so a result can be bookmarked and nothing can be changed):
department, period, a day in it, a proposed response target per priority
and an optional scenario; the result table is shown below the form.
Staff with the ``sla.view_slapolicyversion`` permission only (403
otherwise). The figures count every clock of the department; the list of
handoffs whose verdict would change names only tickets the viewer may see
(``tickets.selectors``), the others are counted in a message. Hook it
into the admin, wrapped in ``admin_site.admin_view``, for example from
``SLAPolicyVersionAdmin.get_urls``::

    path("what-if/", self.admin_site.admin_view(whatif_view), name="sla_whatif")
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import ngettext
from django.views.decorators.http import require_safe

from departments.models import Department
from sla.models import PRIORITIES, SLAPolicyVersion
from sla.scorecards import PERIODS
from sla.whatif import (
    Simulation,
    WhatIfError,
    default_start,
    format_rate,
    parse_duration,
    simulate_policy,
)
from tickets.admin.visibility import request_visibility
from tickets.durations import format_duration

PERMISSION = "sla.view_slapolicyversion"


class WhatIfForm(forms.Form):
    department = forms.ModelChoiceField(
        queryset=Department.objects.all(), to_field_name="code"
    )
    period = forms.ChoiceField(
        choices=[(p, p.title()) for p in PERIODS], initial="week"
    )
    start = forms.DateField(
        required=False,
        help_text="A day in the period, e.g. 2026-11-16 (empty: the current "
        "period in the department's timezone).",
    )
    scenario = forms.CharField(
        required=False,
        max_length=64,
        help_text="Only this scenario's handoffs (empty: all).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for priority in PRIORITIES:
            self.fields[f"response_{priority}"] = forms.CharField(
                required=False,
                max_length=32,
                label=f"Response target, {priority}",
                help_text="e.g. 2h, 30m, 1h30m (empty: each clock keeps its own).",
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        targets: dict[str, float] = {}
        for priority in PRIORITIES:
            text = (cleaned.get(f"response_{priority}") or "").strip()
            if not text:
                continue
            try:
                targets[priority] = parse_duration(text)
            except WhatIfError as error:
                self.add_error(f"response_{priority}", error.message)
        cleaned["targets"] = targets
        return cleaned


def _display(simulation: Simulation, listed: list[Any]) -> dict[str, Any]:
    """Plain strings for the template (no logic there); ``listed`` are the
    flipped clocks to list."""
    figures = [*simulation.by_priority, simulation.total]
    return {
        "rows": [
            {
                "priority": f.priority,
                "clocks": f.clocks,
                "breached_now": f.breached_now,
                "breached_proposed": f.breached_proposed,
                "breach_change": f"{f.breach_change:+d}" if f.breach_change else "0",
                "rate_now": format_rate(f.rate_now),
                "rate_proposed": format_rate(f.rate_proposed),
                "rate_change": (
                    "-"
                    if f.rate_change is None
                    else f"{f.rate_change * 100:+.1f} pts"
                    if f.rate_change
                    else "0"
                ),
                "is_total": f.priority == "total",
            }
            for f in figures
        ],
        "proposed": [
            (priority, format_duration(seconds))
            for priority, seconds in simulation.proposed.items()
        ],
        "flips": [
            {
                "ticket_id": c.ticket_id,
                "stint_id": c.stint_id,
                "priority": c.priority,
                "change": c.change,
                "stored_target": format_duration(c.stored_target_seconds),
                "proposed_target": format_duration(c.proposed_target_seconds),
                "stored_due_at": c.stored_due_at,
                "proposed_due_at": c.proposed_due_at,
                "stopped_at": c.stopped_at,
                "state": "paused" if c.paused else "still running",
            }
            for c in listed
        ],
    }


@require_safe
def whatif_view(request: HttpRequest) -> HttpResponse:
    """The what-if form and, once submitted, its result. Reads only."""
    user = request.user
    if not (user.is_active and user.is_staff and user.has_perm(PERMISSION)):
        raise PermissionDenied
    submitted = "department" in request.GET
    form = WhatIfForm(request.GET if submitted else None)
    simulation: Simulation | None = None
    error = ""
    if submitted and form.is_valid():
        data = form.cleaned_data
        department = data["department"].code
        try:
            start = data["start"] or default_start(department, data["period"])
            simulation = simulate_policy(
                department=department,
                period=data["period"],
                start=start,
                response=data["targets"],
                scenario=data["scenario"].strip() or None,
            )
        except WhatIfError as failure:
            error = failure.message
    display: dict[str, Any] = {}
    if simulation is not None:
        visible = request_visibility(request).ticket_ids(
            c.ticket_id for c in simulation.flips
        )
        listed = [c for c in simulation.flips if c.ticket_id in visible]
        hidden = len(simulation.flips) - len(listed)
        if hidden:
            messages.info(
                request,
                ngettext(
                    "%(count)d handoff whose verdict would change is on a ticket "
                    "you cannot see: it is counted above but not listed.",
                    "%(count)d handoffs whose verdict would change are on tickets "
                    "you cannot see: they are counted above but not listed.",
                    hidden,
                )
                % {"count": hidden},
                fail_silently=True,  # a message is a courtesy, not the result
            )
        display = _display(simulation, listed)
    invalid = submitted and (bool(error) or not form.is_valid())
    return TemplateResponse(
        request,
        "admin/sla/whatif.html",
        {
            **admin.site.each_context(request),
            "title": "What-if: response targets",
            "opts": SLAPolicyVersion._meta,
            "form": form,
            "error": error,
            "simulation": simulation,
            **display,
        },
        status=400 if invalid else 200,
    )
