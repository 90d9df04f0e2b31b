"""The "Dissatisfied" inbox: follow-ups of ratings of 1 or 2, for the
service team (and, read-only, the rated department's leads).

Two pages, added to the ticket admin's URLs by :class:`FollowUpInboxUrls`:

* ``admin:tickets_followups``: the list, overdue first, then open, then
  closed, oldest first; filters by status (default: open), department and
  overdue; each row with its ticket's subject, the department, score and
  comment, owner, status, age and due time (in the viewer's timezone,
  named);
* ``admin:tickets_followup``: one follow-up, its history (every step, an
  event) and, for the service team, the forms for the next steps. A step
  refused or beaten by another change re-renders the page with what was
  typed kept.

Who sees what is ``tickets.followups.follow_up_scope`` (and the ticket
visibility rule): a follow-up the viewer may not see answers 404, as a
missing one does; someone who sees none gets 403.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from departments.models import Department, Membership
from tickets import clock, services
from tickets.application import VersionMismatch
from tickets.commands import COMMANDS
from tickets.domain import (
    ConcurrencyConflict,
    ContactMethod,
    FollowUpOutcome,
    TicketError,
)
from tickets.followups import follow_up_scope, overdue_q, visible_follow_ups
from tickets.formatting import format_duration, format_instant, zone_name
from tickets.models import FollowUp, FollowUpEntry, TicketSummary
from tickets.preferences import viewer_timezone

PAGE_SIZE = 50
#: Each step form's action (a command of the table) by its name in the
#: template.
ACTIONS = {
    "ASSIGN": "follow_up_assign",
    "NOTE": "follow_up_note",
    "CONTACT": "follow_up_contact",
    "CLOSE": "follow_up_close",
    "REOPEN": "follow_up_reopen",
}


def _step_labels() -> dict[str, str]:
    return {
        "opened": _("Rated"),
        "assign": _("Owner set"),
        "note": _("What was done"),
        "contact": _("Customer contacted"),
        "close": _("Closed"),
        "reopen": _("Reopened"),
    }


def _method_labels() -> dict[str, str]:
    return {
        ContactMethod.PHONE: _("Phone"),
        ContactMethod.EMAIL: _("Email"),
        ContactMethod.CHAT: _("Chat"),
        ContactMethod.OTHER: _("Other"),
    }


def _status_choices() -> list[tuple[str, str]]:
    return [
        ("open", _("Open")),
        ("overdue", _("Overdue")),
        ("closed", _("Closed")),
        ("all", _("All")),
    ]


def _row(row: FollowUp, tz: Any, now: Any) -> dict[str, Any]:
    return {
        "obj": row,
        "url": reverse("admin:tickets_followup", args=[row.pk]),
        "ticket_url": reverse("admin:tickets_queueticket_change", args=[row.ticket_id]),
        "subject": row.ticket.subject,
        "overdue": bool(getattr(row, "overdue", False)),
        "age": format_duration(now - row.opened_at),
        "due": format_instant(row.due_at, tz),
        "opened": format_instant(row.opened_at, tz),
        "outcome": row.get_outcome_display() if row.outcome else "",
    }


def inbox_view(request: HttpRequest) -> HttpResponse:
    """The list (see the module docstring)."""
    scope = follow_up_scope(request.user)
    if not scope.sees_any:
        raise PermissionDenied
    now = clock.now()
    tz = viewer_timezone(request.user)
    rows = visible_follow_ups(request.user, now)
    status = request.GET.get("status", "open")
    if status == "open":
        rows = rows.filter(status=FollowUp.Status.OPEN)
    elif status == "overdue":
        rows = rows.filter(overdue_q(now))
    elif status == "closed":
        rows = rows.filter(status=FollowUp.Status.CLOSED)
    else:
        status = "all"
    departments = Department.objects.order_by("name")
    if scope.departments is not None:
        departments = departments.filter(code__in=scope.departments)
    department = request.GET.get("department", "")
    if department:
        rows = rows.filter(department=department)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return TemplateResponse(
        request,
        "admin/tickets/followups.html",
        {
            **admin.site.each_context(request),
            "title": _("Dissatisfied customers: follow-ups"),
            "opts": TicketSummary._meta,
            "rows": [_row(r, tz, now) for r in page.object_list],
            "page": page,
            "status": status,
            "statuses": _status_choices(),
            "department": department,
            "departments": [(d.code, d.name) for d in departments],
            "zone": zone_name(tz),
            "works": scope.works,
        },
    )


def _owner_choices() -> list[tuple[str, str]]:
    """Members of the front line (who may own a follow-up)."""
    members = (
        Membership.objects.filter(
            department__kind=Department.Kind.FRONT_LINE, user__is_active=True
        )
        .select_related("user", "department")
        .order_by("user__first_name", "user__username")
    )
    seen: dict[str, str] = {}
    for m in members:
        name = m.user.get_full_name() or m.user.get_username()
        seen.setdefault(str(m.user_id), f"{name} ({m.department.name})")
    return list(seen.items())


def _visible_follow_up(request: HttpRequest, follow_up_id: UUID) -> FollowUp:
    if not follow_up_scope(request.user).sees_any:
        raise PermissionDenied
    row = visible_follow_ups(request.user).filter(pk=follow_up_id).first()
    if row is None:
        raise Http404(_("No such follow-up, or not yours to see."))
    return row


def _run_step(request: HttpRequest, row: FollowUp) -> tuple[int, dict[str, str]]:
    """Run the posted step (a command of the table, by ``action``);
    (status, what was typed). 302 when stored."""
    data = request.POST
    action = data.get("action", "")
    if action not in ACTIONS.values():
        messages.error(request, _("Unknown action."))
        return 400, {}
    command = COMMANDS[action]
    fields = [name for name in command.fields if name != "follow_up_id"]
    typed = {"action": action, **{name: data.get(name, "") for name in fields}}
    if "owner_id" in fields and not typed["owner_id"]:
        messages.error(request, _("Choose who owns the follow-up."))
        return 400, typed
    try:
        version: int | None = int(data.get("version", ""))
    except ValueError:
        version = None
    try:
        services.ticket_command(
            action,
            principal=services.principal_for_user(request.user),
            ticket_id=row.ticket_id,
            expected_version=version,
            follow_up_id=row.pk,
            **{name: typed[name] for name in fields},
        )
    except (VersionMismatch, ConcurrencyConflict):
        messages.error(
            request,
            _(
                "Someone else changed this ticket while you were looking at it. "
                "Nothing was saved: check the follow-up below and send again; "
                "what you typed is kept."
            ),
        )
        return 409, typed
    except TicketError as failure:
        messages.error(request, failure.message)
        return 400, typed
    messages.success(request, _("Saved."))
    return 302, {}


def follow_up_view(request: HttpRequest, follow_up_id: UUID) -> HttpResponse:
    """One follow-up, its history and (service team) its step forms."""
    row = _visible_follow_up(request, follow_up_id)
    scope = follow_up_scope(request.user)
    status, typed = 200, dict[str, str]()
    if request.method == "POST":
        if not scope.works:
            raise PermissionDenied
        status, typed = _run_step(request, row)
        if status == 302:
            return HttpResponseRedirect(request.path)
        row = _visible_follow_up(request, follow_up_id)
    now = clock.now()
    tz = viewer_timezone(request.user)
    labels, methods = _step_labels(), _method_labels()
    entries = [
        {
            "obj": entry,
            "label": labels.get(entry.step, entry.step),
            "when": format_instant(entry.occurred_at, tz),
            "detail": methods.get(entry.detail, "")
            if entry.step == "contact"
            else entry.detail,
        }
        for entry in FollowUpEntry.objects.filter(follow_up=row).order_by("position")
    ]
    version = (
        TicketSummary.objects.filter(pk=row.ticket_id)
        .values_list("version", flat=True)
        .first()
    )
    response = TemplateResponse(
        request,
        "admin/tickets/followups_detail.html",
        {
            **admin.site.each_context(request),
            "title": _("Follow-up: %(department)s rated %(score)s/5")
            % {"department": row.department_name, "score": row.score},
            "opts": TicketSummary._meta,
            "row": _row(row, tz, now),
            "entries": entries,
            "works": scope.works,
            "version": version,
            "typed": typed,
            "zone": zone_name(tz),
            "owners": _owner_choices(),
            "methods": list(methods.items()),
            "outcomes": [
                (o.value, FollowUp.Outcome(o.value).label) for o in FollowUpOutcome
            ],
            "actions": ACTIONS,
            "inbox_url": reverse("admin:tickets_followups"),
        },
        status=status,
    )
    return response


class FollowUpInboxUrls:
    """Adds the inbox's pages to a model admin's URLs (the ticket admin)."""

    admin_site: admin.AdminSite

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("follow-ups/", view(inbox_view), name="tickets_followups"),
            path(
                "follow-ups/<uuid:follow_up_id>/",
                view(follow_up_view),
                name="tickets_followup",
            ),
            *super().get_urls(),  # type: ignore[misc]
        ]
