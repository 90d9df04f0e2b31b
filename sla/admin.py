"""SLA admin: calendars and policies are edited by adding versions (rows
never change); clocks and notifications are read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from sla.models import (
    Calendar,
    CalendarVersion,
    SLAClock,
    SLANotification,
    SLAPolicy,
    SLAPolicyVersion,
)
from tickets.admin import ReadOnlyAdmin


class AddOnlyAdmin(admin.ModelAdmin[Any]):
    """Versions are appended: add new ones, never change or delete."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Calendar)
class CalendarAdmin(ReadOnlyAdmin):
    list_display = ["department", "created_at"]


@admin.register(CalendarVersion)
class CalendarVersionAdmin(AddOnlyAdmin):
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
    list_display = [
        "policy",
        "version",
        "effective_from",
        "response_normal",
        "resolution_normal",
        "warn_percent",
        "pause_on_waiting",
    ]
    list_filter = ["policy"]


@admin.register(SLAClock)
class SLAClockAdmin(ReadOnlyAdmin):
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
class SLANotificationAdmin(ReadOnlyAdmin):
    list_display = ["kind", "department", "ticket_id", "due_at", "sent_at", "attempts"]
    list_filter = ["kind", "department"]
