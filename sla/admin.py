"""SLA admin: calendars and policies are edited by adding versions (rows
never change); clocks and notifications are read-only and, being about
tickets, shown only for tickets the viewer may see."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy

from departments.models import Department
from departments.selectors import scenario_tree
from sla.models import (
    Calendar,
    CalendarVersion,
    SLANotification,
    SLAPolicy,
    SLAPolicyVersion,
)
from sla.services import calendar_version_create, policy_version_create
from tickets.admin import ReadOnlyAdmin, ReadOnlyTicketDataAdmin
from tickets.models import SLAClock


def scenario_overrides_help() -> str:
    """The overrides' help text: the shape, and the catalogue's active
    codes an override may name (HTML, escaped)."""
    codes = ", ".join(
        f"{scenario.code} ({scenario.path})" for scenario, _ in scenario_tree()
    )
    return format_html(
        "{} {}",
        gettext(
            "Per scenario of the catalogue, minutes by kind and priority: "
            '{"REFUND": {"response": {"normal": 120}}}.'
        ),
        gettext("Active scenarios: %(codes)s.")
        % {"codes": codes or gettext("none yet (add them under Scenarios)")},
    )


class AddOnlyAdmin(admin.ModelAdmin[Any]):
    """Versions are appended through the services (which number them):
    add new ones, never change or delete. The add form starts from the
    latest version of the chosen department."""

    parent_field = ""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        skip = ("department", self.parent_field)
        fields = [f for f in super().get_fields(request, obj) if f not in skip]
        return ["department", *fields] if obj is None else fields

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        requested = kwargs.pop("fields", None)
        model_fields = (
            [f for f in requested if f != "department"]
            if requested is not None
            else None
        )
        form = super().get_form(
            request, obj, change=change, fields=model_fields, **kwargs
        )
        if obj is None:
            form.base_fields["department"] = forms.ModelChoiceField(
                queryset=Department.objects.all(),
                label=gettext_lazy("Department"),
                help_text=gettext_lazy("Whose version this is."),
            )
        return form

    def save_model(
        self, request: HttpRequest, obj: Any, form: Any, change: bool
    ) -> None:
        values = {
            name: value
            for name, value in form.cleaned_data.items()
            if name not in ("department", self.parent_field, "created_by")
        }
        created = self.create(
            department=form.cleaned_data["department"],
            created_by=request.user,
            **values,
        )
        # The admin logs and redirects with the form's instance: make it the
        # saved version.
        obj.pk, obj.version = created.pk, created.version
        setattr(obj, self.parent_field, getattr(created, self.parent_field))

    def create(self, **kwargs: Any) -> Any:
        raise NotImplementedError


@admin.register(Calendar)
class CalendarAdmin(ReadOnlyAdmin):
    list_display = ["department", "created_at"]


@admin.register(CalendarVersion)
class CalendarVersionAdmin(AddOnlyAdmin):
    parent_field = "calendar"
    exclude = ["calendar", "created_by"]

    def create(self, **kwargs: Any) -> Any:
        return calendar_version_create(**kwargs)

    list_display = [
        "calendar",
        "version",
        "effective_from",
        "timezone",
        "holiday_country",
    ]
    list_filter = ["calendar"]


@admin.register(SLAPolicy)
class SLAPolicyAdmin(ReadOnlyAdmin):
    list_display = ["department", "created_at"]


@admin.register(SLAPolicyVersion)
class SLAPolicyVersionAdmin(AddOnlyAdmin):
    parent_field = "policy"
    exclude = ["policy", "created_by"]

    def create(self, **kwargs: Any) -> Any:
        return policy_version_create(**kwargs)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        field = form.base_fields.get("scenario_overrides")
        if field is not None:
            field.help_text = scenario_overrides_help()
        return form

    list_display = [
        "policy",
        "version",
        "effective_from",
        "response_normal",
        "resolution_normal",
        "warn_percent",
        "pause_on_waiting",
        "stall_after",
        "abandon_after",
    ]
    list_filter = ["policy"]


@admin.register(SLAClock)
class SLAClockAdmin(ReadOnlyTicketDataAdmin):
    list_display = [
        "ticket",
        "department",
        "kind",
        "state",
        "started_at",
        "due_at",
        "stopped_at",
    ]
    list_filter = ["state", "kind", "department"]
    list_select_related = ["ticket"]


@admin.register(SLANotification)
class SLANotificationAdmin(ReadOnlyTicketDataAdmin):
    list_display = ["kind", "department", "ticket_id", "due_at", "sent_at", "attempts"]
    list_filter = ["kind", "department"]


# Scorecards (list, figures, drill-down, disputes, what-if) live in their
# own module; importing it registers them.
from sla import problem_admin, report_admin, scorecard_admin  # noqa: E402, F401
