"""The disputes inbox, and the dispute details the scorecard pages show.

A department disputes a breach or a rating on one of its handoffs from a
scorecard's drill-down page; a lead of the ticket's front-line department
accepts or waives it there (the rule is the domain's:
``tickets.domain.disputes``). The inbox lists the open disputes, oldest
first, with their reasons, who raised them and when, and a link to the
drill-down row where they are decided.

Who sees which disputes follows the scorecard rule
(:func:`sla.selectors.scorecard_departments`): superusers and front-line
leads see every department's, department staff only their own
department's (what they raised, awaiting a decision), and, as on every
admin page, only those of tickets they may see (``tickets.selectors``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from departments.models import Department
from sla.models import Scorecard, ScorecardHandoff
from sla.scorecards import ALL_SCENARIOS, scorecard_key
from sla.selectors import scorecard_departments
from tickets import services
from tickets.admin.visibility import request_visibility
from tickets.formatting import format_duration, format_instant, zone_name
from tickets.models import Handoff, TimelineEntry
from tickets.preferences import viewer_timezone

#: The drill-down figure where each kind of dispute is decided.
DECIDED_ON = {"breach": "breached", "rating": "ratings"}


@dataclass(frozen=True)
class Raised:
    """Who raised a dispute and when (from the ticket's internal timeline
    entry of the event that opened it)."""

    by: str
    department: str
    at: datetime | None


def dispute_raisers(positions: Iterable[int | None]) -> dict[int, Raised]:
    """The raiser of each dispute, by the log position of its
    ``DisputeOpened`` event (one query)."""
    wanted = {int(p) for p in positions if p is not None}
    if not wanted:
        return {}
    return {
        row.position: Raised(row.actor_name, row.actor_department, row.occurred_at)
        for row in TimelineEntry.objects.filter(position__in=wanted).only(
            "position", "actor_name", "actor_department", "occurred_at"
        )
    }


@dataclass(frozen=True)
class StintDetails:
    subject: str
    agent: str
    front_line: str


def stint_details(stint_ids: Iterable[UUID]) -> dict[UUID, StintDetails]:
    """The ticket subject, the stint's agent (blank when nobody was
    assigned) and the ticket's front line of each stint (one query). The
    caller passes only stints of tickets the viewer may see."""
    wanted = set(stint_ids)
    if not wanted:
        return {}
    rows = Handoff.objects.filter(id__in=wanted).values_list(
        "id", "agent_name", "ticket__subject", "ticket__front_line"
    )
    return {
        stint: StintDetails(subject or "", agent or "", front_line or "")
        for stint, agent, subject, front_line in rows
    }


def _open_disputes(request: HttpRequest) -> list[dict[str, Any]]:
    """The open disputes the viewer may see, oldest first."""
    facts = ScorecardHandoff.objects.filter(
        Q(breach_dispute="open") | Q(rating_dispute="open")
    )
    allowed = scorecard_departments(request.user)
    if allowed is not None:
        facts = facts.filter(department__in=allowed)
    found = list(facts)
    visible = request_visibility(request).ticket_ids(f.ticket_id for f in found)
    found = [f for f in found if f.ticket_id in visible]
    details = stint_details(f.id for f in found)
    raisers = dispute_raisers(
        getattr(f, f"{kind}_dispute_position")
        for f in found
        for kind in DECIDED_ON
        if getattr(f, f"{kind}_dispute") == "open"
    )
    names = dict(Department.objects.values_list("code", "name"))
    leads = set(services.principal_for_user(request.user).leads)
    zone = viewer_timezone(request.user)
    rows = []
    for fact in found:
        detail = details.get(fact.id, StintDetails("", "", ""))
        for kind, figure in DECIDED_ON.items():
            if getattr(fact, f"{kind}_dispute") != "open":
                continue
            position = getattr(fact, f"{kind}_dispute_position")
            raised = raisers.get(int(position or 0), Raised("", "", None))
            key = scorecard_key(fact.department, "week", fact.week, ALL_SCENARIOS)
            rows.append(
                {
                    "fact": fact,
                    "kind": kind,
                    "kind_label": _("Breach") if kind == "breach" else _("Rating"),
                    "department": fact.department,
                    "department_name": names.get(fact.department, fact.department),
                    "subject": detail.subject,
                    "agent": detail.agent,
                    "reason": getattr(fact, f"{kind}_dispute_reason"),
                    "raised_by": raised.by,
                    "raised_at": format_instant(raised.at, zone),
                    "raised_instant": raised.at,
                    "position": position,
                    "response": format_duration(fact.response_seconds),
                    "ticket_url": reverse(
                        "admin:tickets_queueticket_change", args=[fact.ticket_id]
                    ),
                    "decide_url": reverse(
                        "admin:sla_scorecard_figure", args=[quote(key), figure]
                    )
                    + f"#dispute-{kind}-{fact.id}",
                    "can_decide": detail.front_line in leads,
                }
            )
    # Oldest first by when each was raised (imported history is not in
    # time order in the log), then by log position.
    rows.sort(
        key=lambda r: (
            r["raised_instant"] is None,
            r["raised_instant"] or 0,
            r["position"] or 0,
        )
    )
    return rows


def disputes_view(request: HttpRequest) -> HttpResponse:
    """The disputes inbox: open disputes with their reasons, oldest first.
    Needs the scorecards' view permission (403 without it)."""
    if not request.user.has_perm("sla.view_scorecard"):
        raise PermissionDenied
    rows = _open_disputes(request)
    from django.contrib import admin

    return TemplateResponse(
        request,
        "admin/sla/disputes.html",
        {
            **admin.site.each_context(request),
            "title": _("Open disputes"),
            "opts": Scorecard._meta,
            "rows": rows,
            "zone": zone_name(viewer_timezone(request.user)),
            "decides": any(r["can_decide"] for r in rows),
        },
    )
