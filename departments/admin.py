from django.contrib import admin

from departments.models import Department, Membership


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


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ["user", "department", "role"]
    list_filter = ["department", "role"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]
