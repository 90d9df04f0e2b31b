"""The department work queue and ticket page in the Django admin.

Staff land on their department's open tickets, overdue and at risk first
(then due soonest), with a business-time countdown. The ticket page shows
every clock and the whole timeline, and offers the commands the viewer
may issue. Every form calls the same services as the API, with the
version the page showed: if the ticket changed meanwhile, nothing is
stored and the fresh state is shown with what the agent typed kept.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
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
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from departments.models import Department
from departments.selectors import memberships_for_user
from tickets import attachments, clock, selectors, services
from tickets.admin.queue_parts import (  # noqa: F401 - re-exported
    OPEN_STATUSES,
    AssigneeFilter,
    BulkHandOffForm,
    ClockStateFilter,
    DepartmentQueueFilter,
    HandOffForm,
    OpenTicketForm,
    StalledFilter,
    WaitingFilter,
    annotate_queue,
    countdown,
    default_department,
    filter_clock_state,
    queue_ordering,
    switchable_departments,
    ticket_scenario_choices,
    word,
)
from tickets.admin.visibility import TicketDataAdmin, request_visibility
from tickets.application import VersionMismatch
from tickets.commands import ADMIN_ACTIONS
from tickets.customer import customer_link_path
from tickets.domain import (
    MAX_ATTACHMENTS,
    ConcurrencyConflict,
    Priority,
    RootCause,
    TicketError,
    TicketNotFound,
)
from tickets.durations import format_duration
from tickets.models import QueueTicket, SLAClock, TicketSummary, TimelineEntry
from tickets.preferences import department_timezone, viewer_timezone
from tickets.problems_port import known_problem
from tickets.routing import Suggestions, advice
from tickets.sla_clocks import (
    clock_state_conditions,
    is_stalled,
    stalled_condition,
)

#: The ticket page's forms for an open (or waiting) ticket, and for a
#: resolved one.
OPEN_TICKET_FORMS = frozenset(
    {
        "respond",
        "note",
        "hand_off",
        "wait",
        "end_waiting",
        "assign",
        "priority",
        "scenario",
        "resolve",
    }
)
RESOLVED_TICKET_FORMS = frozenset({"reopen", "close"})
#: The typed fields of the ticket page's forms, as a kept copy labels them.
TYPED_LABELS = {
    "body": gettext_lazy("Reply or note"),
    "reason": gettext_lazy("Reason"),
    "request": gettext_lazy("What the customer is asked for"),
    "resolution": gettext_lazy("What was done"),
    "product_area": gettext_lazy("Product area"),
    "root_cause_detail": gettext_lazy("What exactly went wrong"),
}
#: Posted fields that are not typed by the agent.
_NOT_TYPED = frozenset({"csrfmiddlewaretoken", "version"})


def kept_input(data: Any) -> dict[str, str]:
    """What the agent posted (the action and every typed field), to show
    again in the form after a refusal."""
    return {name: str(data.get(name, "")) for name in data if name not in _NOT_TYPED}


def form_offered(action: str, status: str) -> bool:
    """Whether the ticket page shows ``action``'s form for a ticket in
    ``status`` (as ``ticket.html`` decides)."""
    if status in OPEN_STATUSES:
        return action in OPEN_TICKET_FORMS
    return status == "resolved" and action in RESOLVED_TICKET_FORMS


@admin.register(QueueTicket)
class QueueAdmin(TicketDataAdmin):
    # Seven narrow columns that wrap: the queue fits 1,366 px with the
    # filters beside it (the assignee column is never cut off).
    list_display = [
        "subject_link",
        "customer",
        "what",
        "with_department",
        "sla",
        "assignee",
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
    # The counter below the list says what the numbers mean (the template
    # replaces Django's "5 results (6 total)").
    show_full_result_count = False

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
        """Overdue and at risk first, then due soonest (``queue_ordering``)."""
        return queue_ordering(clock.now())

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        """Tickets are opened, not added: the add URL leads to the open form
        (or back to the queue for those who cannot open tickets)."""
        if self.has_work_permission(request):
            return HttpResponseRedirect(reverse("admin:tickets_queueticket_open"))
        if self.has_view_permission(request):
            return HttpResponseRedirect(reverse("admin:tickets_queueticket_changelist"))
        raise PermissionDenied

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

    @admin.display(description=gettext_lazy("Subject"), ordering="subject")
    def subject_link(self, ticket: Any) -> str:
        url = reverse("admin:tickets_queueticket_change", args=[ticket.pk])
        return format_html('<a href="{}">{}</a>', url, ticket.subject)

    @admin.display(description=gettext_lazy("Customer"), ordering="customer_ref")
    def customer(self, ticket: Any) -> str:
        return format_html(
            "{}<br><small>{}</small>", ticket.customer_name or "-", ticket.customer_ref
        )

    @admin.display(description=gettext_lazy("Scenario, priority"), ordering="scenario")
    def what(self, ticket: Any) -> str:
        return format_html(
            '{}<br><small class="baton-priority-{}">{}</small>',
            ticket.scenario or "\u2013",
            ticket.priority,
            word(ticket.priority),
        )

    @admin.display(description=gettext_lazy("Assignee"), ordering="assignee_name")
    def assignee(self, ticket: Any) -> str:
        return ticket.assignee_name or gettext("nobody")

    @admin.display(
        description=gettext_lazy("With the department for"), ordering="owner_since"
    )
    def with_department(self, ticket: Any) -> str:
        return format_duration(clock.now() - ticket.owner_since)

    @admin.display(description=gettext_lazy("SLA (business time)"), ordering="due_at")
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
        form = OpenTicketForm(
            request.POST or None,
            customer_timezone=department_timezone(request.user).key,
        )
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
                    gettext(
                        "Ticket opened. Send the customer this link (it is shown "
                        "only now): %(link)s"
                    )
                    % {"link": link},
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
                "title": gettext("Open a ticket"),
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
                total=Count("pk"),
            )
        context = {
            **(extra_context or {}),
            "title": gettext("Work queue: %(department)s")
            % {"department": department.name}
            if department
            else gettext("Work queue"),
            "state_counts": counts,
            "queue_department": department,
        }
        return super().changelist_view(request, extra_context=context)

    # bulk actions (same services as the API)
    @admin.action(description=gettext_lazy("Assign to me"), permissions=["work"])
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
        self._report(
            request,
            failed,
            ngettext(
                "%(count)d ticket assigned to you.",
                "%(count)d tickets assigned to you.",
                done,
            )
            % {"count": done}
            if done
            else "",
        )

    @admin.action(
        description=gettext_lazy("Hand off selected to a department"),
        permissions=["work"],
    )
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
            self._report(
                request,
                failed,
                ngettext(
                    "%(count)d ticket handed off.",
                    "%(count)d tickets handed off.",
                    done,
                )
                % {"count": done}
                if done
                else "",
            )
            return None
        return TemplateResponse(
            request,
            "admin/tickets/queue/bulk_hand_off.html",
            {
                **self.admin_site.each_context(request),
                "title": gettext("Hand off selected tickets"),
                "tickets": queryset,
                "form": form,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )

    def _report(self, request: HttpRequest, failed: list[str], done: str) -> None:
        if done:
            self.message_user(request, done, messages.SUCCESS)
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
                return HttpResponse(gettext("You cannot work tickets."), status=403)
            outcome = self._run_command(request, ticket)
            if isinstance(outcome, HttpResponse):
                return outcome
            status, customer_link = outcome
            if status >= 400:
                # Keep what was typed (a refused file, a stale version...):
                # the form shows it again, nothing is lost.
                posted = kept_input(request.POST)
            ticket = selectors.ticket_get(request.user, object_id)
        context = self._ticket_context(request, ticket, customer_link)
        context["posted"] = posted
        if posted.get("action") == "hand_off":
            context["hand_off_form"].initial.update(
                {k: posted[k] for k in ("to_department", "reason") if posted.get(k)}
            )
        # The fresh state may no longer offer the form (someone resolved
        # the ticket meanwhile): the typed text is then shown on its own.
        context["kept_elsewhere"] = bool(posted) and not form_offered(
            posted.get("action", ""), ticket.status
        )
        context["kept_fields"] = [
            (name, str(TYPED_LABELS.get(name, name)), value)
            for name, value in posted.items()
            if name in TYPED_LABELS and value
        ]
        response = TemplateResponse(
            request, "admin/tickets/queue/ticket.html", context, status=status
        )
        # Render now, inside the viewer's timezone: activating it for the
        # thread would leak into the next request that thread serves.
        with timezone.override(viewer_timezone(request.user)):
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
                gettext("A new customer link was issued; the old one no longer works."),
                messages.SUCCESS,
            )
            return 200, request.build_absolute_uri(customer_link_path(token))
        # Each form is a command of the table (its ``admin_action``) that
        # posts the command's input fields as text, which the services and
        # the domain check (the API's shape checks need JSON types).
        command = ADMIN_ACTIONS.get(action)
        if command is None:
            self.message_user(request, gettext("Unknown action."), messages.ERROR)
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
        self.message_user(request, gettext("Done."), messages.SUCCESS)
        return HttpResponseRedirect(request.path)

    def _refused(self, request: HttpRequest, failure: TicketError) -> Any:
        if isinstance(failure, VersionMismatch | ConcurrencyConflict):
            self.message_user(
                request,
                gettext(
                    "Someone else changed this ticket while you were looking at "
                    "it. Nothing was saved: here is the current state, please "
                    "check it and try again. What you typed is kept below."
                ),
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
        zone = viewer_timezone(request.user)
        clocks = [(c, *countdown(c, now), word(c.kind)) for c in ticket.clocks.all()]
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
            "priorities": [(p.value, word(p.value)) for p in Priority],
            "words": {
                "status": word(ticket.status),
                "priority": word(ticket.priority),
                "channel": word(ticket.channel),
            },
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
