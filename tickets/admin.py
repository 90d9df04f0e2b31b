"""Read-only admin registrations of the ticket read models.

Nobody can add, change or delete read-model rows here: they are derived
from the event log, and state changes go through the services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tickets.models import Handoff, ProjectionTracking, TicketSummary, TimelineEntry


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class HandoffInline(admin.TabularInline[Handoff, TicketSummary]):
    model = Handoff
    extra = 0
    can_delete = False
    readonly_fields = (
        "department_name",
        "from_department",
        "kind",
        "started_at",
        "first_response_at",
        "outcome",
        "ended_at",
        "agent_name",
        "reason",
    )
    fields = readonly_fields
    ordering = ["started_position"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TimelineInline(admin.TabularInline[TimelineEntry, TicketSummary]):
    model = TimelineEntry
    extra = 0
    can_delete = False
    fields = [
        "occurred_at",
        "audience",
        "actor_name",
        "text",
        "body",
        "internal_detail",
    ]
    ordering = ["version"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TicketSummary)
class TicketSummaryAdmin(ReadOnlyAdmin):
    list_display = [
        "subject",
        "customer_ref",
        "owner_name",
        "status",
        "priority",
        "scenario",
        "channel",
        "owner_since",
        "updated_at",
    ]
    list_filter = ["status", "owner", "priority", "channel"]
    search_fields = ["subject", "customer_ref", "external_ref"]
    date_hierarchy = "opened_at"
    inlines = [HandoffInline, TimelineInline]


@admin.register(Handoff)
class HandoffAdmin(ReadOnlyAdmin):
    list_display = [
        "ticket",
        "department",
        "from_department",
        "kind",
        "started_at",
        "first_response_at",
        "outcome",
        "ended_at",
    ]
    list_filter = ["department", "kind", "outcome"]
    list_select_related = ["ticket"]


@admin.register(ProjectionTracking)
class ProjectionTrackingAdmin(ReadOnlyAdmin):
    list_display = ["projection", "application", "position", "updated_at"]
