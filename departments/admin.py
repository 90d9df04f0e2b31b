from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from departments.models import Department, Membership, Scenario, ScenarioVersion
from departments.services import scenario_save, user_groups_sync
from departments.timezones import timezone_choices


class MembershipInline(admin.TabularInline[Membership, Department]):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class DepartmentForm(forms.ModelForm[Department]):
    """The timezone as a select (common zones first), not a free-text box."""

    class Meta:
        model = Department
        fields = ["code", "name", "kind", "timezone", "email", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["timezone"] = forms.ChoiceField(
            label=_("Timezone"),
            choices=timezone_choices(),
            initial=self.instance.timezone if self.instance.pk else "UTC",
            help_text=_(
                "Its staff see times in this zone unless they choose their own."
            ),
        )


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin[Department]):
    form = DepartmentForm
    list_display = ["code", "name", "kind", "timezone", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]
    inlines = [MembershipInline]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        # The code is stored in every event that names the department.
        return ["code"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        # Events refer to departments forever: deactivate instead.
        return False

    def save_related(
        self, request: HttpRequest, form: Any, formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        for membership in Membership.objects.filter(department=form.instance):
            user_groups_sync(membership.user)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ["user", "department", "role"]
    list_filter = ["department", "role"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]

    def save_model(
        self, request: HttpRequest, obj: Membership, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        user_groups_sync(obj.user)

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        user = obj.user
        super().delete_model(request, obj)
        user_groups_sync(user)


class ScenarioVersionInline(admin.TabularInline[ScenarioVersion, Scenario]):
    """What each save of the scenario said, and who saved it (read-only)."""

    model = ScenarioVersion
    extra = 0
    can_delete = False
    readonly_fields = fields = (
        "version",
        "name",
        "is_active",
        "owner_code",
        "parent_code",
        "description",
        "created_by",
        "created_at",
    )
    verbose_name_plural = _("History (one version per save)")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ScenarioForm(forms.ModelForm[Scenario]):
    class Meta:
        model = Scenario
        fields = ["code", "name", "description", "is_active", "owner", "parent"]

    def clean_code(self) -> str:
        # Codes are stored upper-case: "refund.double" is REFUND.DOUBLE.
        return str(self.cleaned_data.get("code") or "").strip().upper()


@admin.register(Scenario)
class ScenarioAdmin(admin.ModelAdmin[Scenario]):
    """The scenario catalogue: front-line leads add and edit scenarios;
    every save keeps a version (``departments.services.scenario_save``)."""

    form = ScenarioForm
    list_display = ["code", "path", "owner", "is_active", "updated_at"]
    list_filter = ["is_active", "owner"]
    search_fields = ["code", "name", "description"]
    list_select_related = ["owner", "parent"]
    autocomplete_fields = ["parent"]
    inlines = [ScenarioVersionInline]

    @admin.display(description=_("Scenario"))
    def path(self, scenario: Scenario) -> str:
        return scenario.path

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        # The code is stored in the events of every ticket that has it.
        return ["code"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        # Tickets refer to scenarios forever: deactivate instead.
        return False

    def save_model(
        self, request: HttpRequest, obj: Scenario, form: Any, change: bool
    ) -> None:
        scenario_save(obj, user=request.user)
