from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from departments.models import Department, Membership
from departments.services import user_groups_sync


class MembershipInline(admin.TabularInline[Membership, Department]):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin[Department]):
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
