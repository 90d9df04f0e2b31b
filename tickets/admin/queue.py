"""The department work queue and ticket page in the Django admin.

Staff land on their department's open tickets sorted by due time, with a
business-time countdown. The ticket page shows every clock and the whole
timeline, and offers the commands the viewer may issue. Every form calls
the same services as the API, with the version the page showed: if the
ticket changed meanwhile, nothing is stored and the fresh state is shown.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, OuterRef, QuerySet, Subquery
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from departments.models import Department
from departments.selectors import memberships_for_user, scenario_choices
from tickets import attachments, clock, selectors, services, sla_clocks
from tickets.admin.visibility import TicketDataAdmin, request_visibility
from tickets.application import VersionMismatch
from tickets.commands import ADMIN_ACTIONS
from tickets.customer import customer_link_path
from tickets.domain import (
    MAX_ATTACHMENTS,
    Channel,
    ConcurrencyConflict,
    Priority,
    RootCause,
    TicketError,
    TicketNotFound,
)
from tickets.durations import format_duration
from tickets.models import QueueTicket, SLAClock, TicketSummary, TimelineEntry
from tickets.problems_port import known_problem
from tickets.routing import Suggestions, advice
from tickets.sla_clocks import (
    business_seconds_left,
    clock_state_conditions,
    is_stalled,
    stalled_condition,
)

OPEN_STATUSES = ("open", "waiting")


def countdown(clock_row: SLAClock | None, now: datetime) -> tuple[str, str]:
    """(css class, text) for a response clock: on track, at risk,
    breached, paused (the state from ``tickets.sla_clocks``); the time is
    business time."""
    state = sla_clocks.state_of(clock_row, now)
    if clock_row is None or state == sla_clocks.NONE:
        return "none", "no SLA"
    if state == sla_clocks.PAUSED:
        return "paused", "paused: waiting on customer"
    if state == sla_clocks.ANSWERED:
        met = clock_row.state == SLAClock.State.MET
        verb = {"handed_on": "handed on", "resolved": "resolved"}.get(
            clock_row.outcome, "answered"
        )
        return ("met" if met else "breached"), f"{verb} {'in time' if met else 'late'}"
    left = format_duration(abs(business_seconds_left(clock_row, now)))
    if state == sla_clocks.BREACHED:
        return "breached", f"overdue {left}"
    if state == sla_clocks.AT_RISK:
        return "at-risk", f"{left} left"
    return "on-track", f"{left} left"


def viewer_zone(user: Any) -> zoneinfo.ZoneInfo:
    memberships = memberships_for_user(user)
    name = memberships[0].department.timezone if memberships else "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def switchable_departments(user: Any) -> list[Department]:
    """Departments whose queue the user may open: their own; every one for
    front-line leads and superusers."""
    if selectors.sees_everything(user):
        return list(Department.objects.active())
    return [m.department for m in memberships_for_user(user)]


# --- filters -----------------------------------------------------------------


class DepartmentQueueFilter(admin.SimpleListFilter):
    title = "department"
    parameter_name = "dept"

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        # Filters are built per request: the default belongs here, not on
        # the ModelAdmin, which every request and thread shares.
        self.default_code = default_department(request.user)
        super().__init__(request, *args, **kwargs)

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(d.code, d.name) for d in switchable_departments(request.user)]

    def value(self) -> str | None:
        value = super().value()
        return str(value) if value else None

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        allowed = {code for code, _ in self.lookup_choices}
        code = self.value() or self.default_code
        if code not in allowed:
            return queryset.none()
        return queryset.filter(owner=code)

    def choices(self, changelist: Any) -> Any:
        current = self.value() or self.default_code
        for code, title in self.lookup_choices:
            yield {
                "selected": current == code,
                "query_string": changelist.get_query_string(
                    {self.parameter_name: code}
                ),
                "display": title,
            }


def default_department(user: Any) -> str | None:
    memberships = memberships_for_user(user)
    if memberships:
        return memberships[0].department.code
    departments = switchable_departments(user)
    return departments[0].code if departments else None


class ClockStateFilter(admin.SimpleListFilter):
    title = "SLA"
    parameter_name = "sla"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("on_track", "On track"),
            ("at_risk", "At risk"),
            ("breached", "Breached"),
            ("paused", "Paused"),
            ("answered", "Answered"),
            ("none", "No SLA"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return filter_clock_state(queryset, self.value(), clock.now())


def filter_clock_state(
    queryset: QuerySet[Any], state: str | None, now: datetime
) -> QuerySet[Any]:
    conditions = clock_state_conditions(now, state="clock_state")
    return queryset.filter(conditions[state]) if state in conditions else queryset


class StalledFilter(admin.SimpleListFilter):
    """Open tickets whose current stint went quiet past its department's
    limit (``tickets.sla_clocks.stalled_condition``)."""

    title = gettext_lazy("stalled")
    parameter_name = "stalled"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", gettext("Stalled")), ("no", gettext("Not stalled"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(stalled_condition())
        if self.value() == "no":
            return queryset.exclude(stalled_condition())
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    title = "assignee"
    parameter_name = "assignee"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("me", "Me"), ("unassigned", "Unassigned")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "me":
            return queryset.filter(assignee_id=str(request.user.pk))
        if self.value() == "unassigned":
            return queryset.filter(assignee_id="")
        return queryset


class WaitingFilter(admin.SimpleListFilter):
    title = "waiting on customer"
    parameter_name = "waiting"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Waiting"), ("no", "Not waiting")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(status="waiting")
        if self.value() == "no":
            return queryset.filter(status="open")
        return queryset


# --- forms -------------------------------------------------------------------


class HandOffForm(forms.Form):
    to_department = forms.ChoiceField(label="Hand off to")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=True)

    def __init__(
        self, *args: Any, owner: str, suggested: str = "", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        # ``suggested`` (routing's top department) is preselected and
        # marked, never forced: every other active department stays a choice.
        choices = [
            (d.code, d.name) for d in Department.objects.active().exclude(code=owner)
        ]
        self.fields["to_department"].choices = [  # type: ignore[attr-defined]
            (code, gettext("%(name)s (suggested)") % {"name": name})
            if code == suggested
            else (code, name)
            for code, name in choices
        ]
        if suggested in {code for code, _ in choices}:
            self.initial.setdefault("to_department", suggested)


class BulkHandOffForm(HandOffForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, owner="", **kwargs)


class OpenTicketForm(forms.Form):
    subject = forms.CharField(max_length=200)
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    customer_ref = forms.CharField(max_length=200, label="Customer reference")
    customer_name = forms.CharField(max_length=200, required=False)
    customer_contact = forms.CharField(max_length=200, required=False)
    customer_timezone = forms.CharField(max_length=64, initial="UTC")
    channel = forms.ChoiceField(choices=[(c.value, c.value) for c in Channel])
    external_ref = forms.CharField(max_length=128, required=False)
    scenario = forms.ChoiceField(required=False, choices=[])
    priority = forms.ChoiceField(
        choices=[(p.value, p.value) for p in Priority], initial="normal"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The catalogue's active scenarios (the service refuses others).
        self.fields["scenario"].choices = scenario_choices(  # type: ignore[attr-defined]
            blank=gettext("(none: triage later)")
        )


def ticket_scenario_choices(current: str) -> list[tuple[str, str]]:
    """The change-scenario select: none, the active scenarios, and the
    ticket's own if it is no longer active (shown, refused if chosen)."""
    choices = scenario_choices(blank=gettext("(none)"))
    if current and current not in {code for code, _ in choices}:
        choices.insert(1, (current, gettext("%s (inactive)") % current))
    return choices


# --- the queue ----------------------------------------------------------------


def annotate_queue(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Add the current stint's response clock (due, warn, state) so the
    queue sorts and filters in one query."""
    current = SLAClock.objects.filter(
        ticket_id=OuterRef("pk"),
        handoff_id=OuterRef("current_stint_id"),
        kind=SLAClock.Kind.RESPONSE,
    )
    annotated: QuerySet[Any] = queryset.annotate(
        due_at=Subquery(current.values("due_at")[:1]),
        warn_at=Subquery(current.values("warn_at")[:1]),
        clock_state=Subquery(current.values("state")[:1]),
    )
    return annotated


@admin.register(QueueTicket)
class QueueAdmin(TicketDataAdmin):
    list_display = [
        "subject_link",
        "customer",
        "scenario",
        "priority",
        "with_department",
        "sla",
        "assignee_name",
    ]
    list_filter = [
        DepartmentQueueFilter,
        ClockStateFilter,
        StalledFilter,
        "priority",
        "scenario",
        "channel",
        AssigneeFilter,
        WaitingFilter,
    ]
    list_display_links = None  # subject_link is the link to the ticket page
    search_fields = ["subject", "customer_ref", "external_ref"]
    list_per_page = 100
    actions = ["assign_to_me", "hand_off_selected"]
    change_list_template = "admin/tickets/queue/change_list.html"

    # permissions: the queue is read through it; work goes through services
    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("tickets.view_queueticket")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("tickets.view_queueticket") and (
            request.user.is_superuser or bool(memberships_for_user(request.user))
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_work_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("tickets.work_tickets") and bool(
            memberships_for_user(request.user)
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request).filter(status__in=OPEN_STATUSES)
        return annotate_queue(queryset).prefetch_related("clocks")

    def get_ordering(self, request: HttpRequest) -> list[Any]:
        return [F("due_at").asc(nulls_last=True), "opened_at"]

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        return actions if self.has_work_permission(request) else {}

    # columns
    def _response_clock(self, ticket: Any) -> SLAClock | None:
        return next(
            (
                c
                for c in ticket.clocks.all()
                if c.kind == SLAClock.Kind.RESPONSE
                and c.handoff_id == ticket.current_stint_id
            ),
            None,
        )

    @admin.display(description="Subject", ordering="subject")
    def subject_link(self, ticket: Any) -> str:
        url = reverse("admin:tickets_queueticket_change", args=[ticket.pk])
        return format_html('<a href="{}">{}</a>', url, ticket.subject)

    @admin.display(description="Customer", ordering="customer_ref")
    def customer(self, ticket: Any) -> str:
        return format_html(
            "{}<br><small>{}</small>", ticket.customer_name or "-", ticket.customer_ref
        )

    @admin.display(description="With department for", ordering="owner_since")
    def with_department(self, ticket: Any) -> str:
        return format_duration(clock.now() - ticket.owner_since)

    @admin.display(description="SLA (business time)", ordering="due_at")
    def sla(self, ticket: Any) -> str:
        css, text = countdown(self._response_clock(ticket), clock.now())
        chip = format_html('<span class="baton-sla baton-{}">{}</span>', css, text)
        if is_stalled(ticket):
            chip = format_html(
                '{} <span class="baton-sla baton-stalled" title="{}">{}</span>',
                chip,
                gettext("No public activity for %(duration)s")
                % {"duration": format_duration(clock.now() - ticket.last_public_at)},
                gettext("stalled"),
            )
        return chip

    def get_urls(self) -> list[Any]:
        from django.urls import path

        extra = [
            path(
                "open/",
                self.admin_site.admin_view(self.open_ticket_view),
                name="tickets_queueticket_open",
            ),
            path(
                "<uuid:ticket_id>/attachments/<uuid:attachment_id>/",
                self.admin_site.admin_view(self.attachment_view),
                name="tickets_queueticket_attachment",
            ),
        ]
        return extra + super().get_urls()

    def open_ticket_view(self, request: HttpRequest) -> HttpResponse:
        """Open a ticket for a customer; the customer's link is shown once."""
        if not self.has_work_permission(request):
            raise PermissionDenied
        form = OpenTicketForm(request.POST or None)
        error = ""
        if request.method == "POST" and form.is_valid():
            try:
                result = services.ticket_open(
                    principal=services.principal_for_user(request.user),
                    **form.cleaned_data,
                )
            except TicketError as failure:
                error = failure.message
            else:
                link = request.build_absolute_uri(
                    customer_link_path(result.detail["customer_token"])
                )
                self.message_user(
                    request,
                    f"Ticket opened. Send the customer this link (it is shown only "
                    f"now): {link}",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:tickets_queueticket_change", args=[result.ticket_id])
                )
        return TemplateResponse(
            request,
            "admin/tickets/queue/open.html",
            {
                **self.admin_site.each_context(request),
                "title": "Open a ticket",
                "opts": self.model._meta,
                "form": form,
                "error": error,
            },
            status=400
            if error or (request.method == "POST" and not form.is_valid())
            else 200,
        )

    def attachment_view(
        self, request: HttpRequest, ticket_id: Any, attachment_id: Any
    ) -> HttpResponseBase:
        """Download one of the ticket's files (internal ones too) for staff
        who may see the ticket; otherwise 404, as for a missing one."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        missing = gettext("That file does not exist or is not yours to see.")
        try:
            ticket_pk = selectors.require_visible(request.user, ticket_id)
            attachment = attachments.attached_file(
                ticket_pk, attachment_id, customer_only=False
            )
        except TicketError:
            raise Http404(missing) from None
        return attachments.download_response(attachment)

    # counts per clock state above the list
    def changelist_view(
        self, request: HttpRequest, extra_context: Any = None
    ) -> HttpResponse:
        code = request.GET.get("dept") or default_department(request.user)
        allowed = {d.code for d in switchable_departments(request.user)}
        counts: dict[str, int] = {}
        department = None
        if code in allowed:
            department = Department.objects.filter(code=code).first()
            now = clock.now()
            base = annotate_queue(
                request_visibility(request).rows(
                    TicketSummary.objects.filter(owner=code, status__in=OPEN_STATUSES)
                )
            )
            conditions = clock_state_conditions(now, state="clock_state")
            counts = base.aggregate(
                **{
                    ("no_sla" if name == "none" else name): Count("pk", filter=q)
                    for name, q in conditions.items()
                },
                stalled=Count("pk", filter=stalled_condition()),
            )
        context = {
            **(extra_context or {}),
            "title": f"Work queue: {department.name}" if department else "Work queue",
            "state_counts": counts,
            "queue_department": department,
        }
        return super().changelist_view(request, extra_context=context)

    # bulk actions (same services as the API)
    @admin.action(description="Assign to me", permissions=["work"])
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        principal = services.principal_for_user(request.user)
        done, failed = 0, []
        for ticket in queryset:
            try:
                services.ticket_assign(
                    principal=principal, ticket_id=ticket.pk, agent_id=request.user.pk
                )
                done += 1
            except TicketError as error:
                failed.append(f"{ticket.subject}: {error.message}")
        self._report(request, done, failed, "assigned to you")

    @admin.action(description="Hand off selected to a department", permissions=["work"])
    def hand_off_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        form = BulkHandOffForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            principal = services.principal_for_user(request.user)
            done, failed = 0, []
            for ticket in queryset:
                try:
                    services.ticket_hand_off(
                        principal=principal,
                        ticket_id=ticket.pk,
                        to_department=form.cleaned_data["to_department"],
                        reason=form.cleaned_data["reason"],
                    )
                    done += 1
                except TicketError as error:
                    failed.append(f"{ticket.subject}: {error.message}")
            self._report(request, done, failed, "handed off")
            return None
        return TemplateResponse(
            request,
            "admin/tickets/queue/bulk_hand_off.html",
            {
                **self.admin_site.each_context(request),
                "title": "Hand off selected tickets",
                "tickets": queryset,
                "form": form,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )

    def _report(
        self, request: HttpRequest, done: int, failed: list[str], verb: str
    ) -> None:
        if done:
            self.message_user(request, f"{done} ticket(s) {verb}.", messages.SUCCESS)
        for line in failed:
            self.message_user(request, line, messages.ERROR)

    # the ticket page. CSRF is checked by ``_ticket_page``, after the
    # body's size: the check reads the form, which would spool a body of
    # any size to disk first.
    @method_decorator(csrf_exempt)
    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: Any = None,
    ) -> HttpResponse:
        if request.method == "POST" and self.has_view_permission(request):
            try:
                attachments.check_body_size(request.META, files=MAX_ATTACHMENTS)
            except TicketError as failure:  # refused unread: nothing kept
                self.message_user(request, failure.message, messages.ERROR)
                return HttpResponseRedirect(request.path, status=303)
        return self._ticket_page(request, object_id, form_url, extra_context)

    @method_decorator(csrf_protect)
    def _ticket_page(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: Any = None,
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            ticket = selectors.ticket_get(request.user, object_id)
        except TicketNotFound:
            # As the API does: a hidden ticket is indistinguishable from a
            # missing one.
            raise Http404(
                gettext("That ticket does not exist or is not yours to see.")
            ) from None
        status = 200
        customer_link = ""
        posted: dict[str, str] = {}
        if request.method == "POST":
            if not self.has_work_permission(request):
                return HttpResponse("You cannot work tickets.", status=403)
            outcome = self._run_command(request, ticket)
            if isinstance(outcome, HttpResponse):
                return outcome
            status, customer_link = outcome
            if status >= 400:
                # Keep what was typed (a refused file, a stale version...).
                posted = {
                    "action": request.POST.get("action", ""),
                    "body": request.POST.get("body", ""),
                }
            ticket = selectors.ticket_get(request.user, object_id)
        context = self._ticket_context(request, ticket, customer_link)
        context["posted"] = posted
        response = TemplateResponse(
            request, "admin/tickets/queue/ticket.html", context, status=status
        )
        # Render now, inside the viewer's timezone: activating it for the
        # thread would leak into the next request that thread serves.
        with timezone.override(viewer_zone(request.user)):
            response.render()
        return response

    def _run_command(self, request: HttpRequest, ticket: Any) -> Any:
        action = request.POST.get("action", "")
        principal = services.principal_for_user(request.user)
        data = request.POST
        try:
            version = int(data.get("version", ""))
        except ValueError:
            version = None
        if action == "customer_link":
            token = services.ticket_customer_link_issue(
                principal=principal, ticket_id=ticket.pk
            )
            self.message_user(
                request,
                "A new customer link was issued; the old one no longer works.",
                messages.SUCCESS,
            )
            return 200, request.build_absolute_uri(customer_link_path(token))
        # Each form is a command of the table (its ``admin_action``) that
        # posts the command's input fields as text, which the services and
        # the domain check (the API's shape checks need JSON types).
        command = ADMIN_ACTIONS.get(action)
        if command is None:
            self.message_user(request, "Unknown action.", messages.ERROR)
            return 400, ""
        # Files go with a reply or a note: stored as the user's uploads and
        # attached by the same command; kept only if the command is stored.
        stored: list[Any] = []
        try:
            fields: dict[str, Any] = {
                name: data.get(name, "")
                for name in command.fields
                if name != "attachments"
            }
            uploads = request.FILES.getlist("attachments")
            if uploads and "attachments" in command.fields:
                stored = attachments.store_all(
                    uploads,
                    uploader=attachments.uploader_key(principal, ticket.pk),
                    uploaded_by=principal.name,
                )
                fields["attachments"] = [a.id for a in stored]
            services.ticket_command(
                command.name,
                principal=principal,
                ticket_id=ticket.pk,
                expected_version=version,
                **fields,
            )
        except TicketError as failure:  # refused: no event, so keep no file
            attachments.discard(stored)
            return self._refused(request, failure)
        self.message_user(request, "Done.", messages.SUCCESS)
        return HttpResponseRedirect(request.path)

    def _refused(self, request: HttpRequest, failure: TicketError) -> Any:
        if isinstance(failure, VersionMismatch | ConcurrencyConflict):
            self.message_user(
                request,
                "Someone else changed this ticket while you were looking at it. "
                "Nothing was saved: here is the current state, please check it "
                "and try again.",
                messages.ERROR,
            )
            return 409, ""
        self.message_user(request, failure.message, messages.ERROR)
        return 400, ""

    def _routing_context(self, request: HttpRequest, ticket: Any) -> dict[str, Any]:
        """The hand-off and assign forms with routing's advice preselected:
        the top department and the suggested agent. No advice (routing
        off or failing, the ticket not open): the forms work as before."""
        suggestions: Suggestions | None = None
        if ticket.status in OPEN_STATUSES and self.has_work_permission(request):
            suggestions = advice(ticket.pk)
        top = suggestions.top if suggestions is not None else None
        assignees = suggestions.assignees if suggestions is not None else ()
        return {
            "hand_off_form": HandOffForm(
                owner=ticket.owner, suggested=top.code if top is not None else ""
            ),
            "routing": suggestions,
            "suggested_agent": assignees[0] if assignees else None,
        }

    def _ticket_context(
        self, request: HttpRequest, ticket: Any, customer_link: str
    ) -> dict[str, Any]:
        now = clock.now()
        zone = viewer_zone(request.user)
        clocks = [(c, *countdown(c, now)) for c in ticket.clocks.all()]
        files = attachments.entry_files(ticket.pk, customer_only=False)
        entries = [
            (entry, files.get(entry.version, []))
            for entry in TimelineEntry.objects.filter(ticket_id=ticket.pk).order_by(
                "version"
            )
        ]
        members = (
            Department.objects.get(code=ticket.owner).memberships.select_related("user")
            if Department.objects.filter(code=ticket.owner).exists()
            else []
        )
        return {
            **self.admin_site.each_context(request),
            "title": ticket.subject,
            "opts": self.model._meta,
            "ticket": ticket,
            "clocks": clocks,
            "entries": entries,
            **self._routing_context(request, ticket),
            "scenario_choices": ticket_scenario_choices(ticket.scenario),
            "members": members,
            "priorities": [p.value for p in Priority],
            # No root cause is preselected (the form starts on "choose").
            "root_causes": [
                (c.value, c.value.replace("_", " ").capitalize()) for c in RootCause
            ],
            "known_problem": known_problem(ticket.pk),
            "can_work": self.has_work_permission(request),
            "customer_link": customer_link,
            "viewer_timezone": zone.key,
            "has_link": ticket.customer_links.filter(revoked_at__isnull=True).exists(),
        }
