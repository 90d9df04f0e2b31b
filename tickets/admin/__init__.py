"""Read-only admin registrations of the ticket read models.

Nobody can add, change or delete read-model rows here: they are derived
from the event log, and state changes go through the services. Rows that
name a ticket are shown through ``TicketDataAdmin`` (``visibility``), so
staff see only the tickets the API shows them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_lazy, ngettext

from tickets import clock
from tickets.admin.followups import FollowUpInboxUrls
from tickets.admin.visibility import (
    ReadOnlyTicketDataAdmin,
    TicketDataAdmin,
    TicketDataStackedInline,
    TicketDataTabularInline,
)
from tickets.models import (
    ApiToken,
    Handoff,
    ProjectionTracking,
    TicketSummary,
    TimelineEntry,
    WebhookDelivery,
    WebhookSubscription,
)

# The bases other apps' admins build on.
__all__ = [
    "ReadOnlyAdmin",
    "ReadOnlyTicketDataAdmin",
    "TicketDataAdmin",
    "TicketDataStackedInline",
    "TicketDataTabularInline",
]


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class HandoffInline(TicketDataTabularInline):
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


class TimelineInline(TicketDataTabularInline):
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
class TicketSummaryAdmin(FollowUpInboxUrls, ReadOnlyTicketDataAdmin):
    """The tickets as rows; also hosts the Dissatisfied inbox's pages."""

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
class HandoffAdmin(ReadOnlyTicketDataAdmin):
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


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """Tokens are issued here (the key is shown once) and revoked, never
    edited: only a hash of the key is stored."""

    list_display = [
        "name",
        "user",
        "key_prefix",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at"]
    fields = ["name", "user"]
    actions = ["revoke"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: ApiToken, form: Any, change: bool
    ) -> None:
        token, key = ApiToken.issue(user=obj.user, name=obj.name)
        obj.pk = token.pk
        obj.key_prefix, obj.key_hash = token.key_prefix, token.key_hash
        self.message_user(
            request,
            gettext("Token issued. Copy the key now, it is not shown again: %(key)s")
            % {"key": key},
            messages.WARNING,
        )

    @admin.action(description=gettext_lazy("Revoke selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=clock.now())
        self.message_user(
            request,
            ngettext("Revoked %(count)d token.", "Revoked %(count)d tokens.", count)
            % {"count": count},
        )


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin[WebhookSubscription]):
    list_display = ["name", "url", "owner", "is_active", "created_at"]
    list_filter = ["is_active"]
    fields = ["name", "owner", "url", "event_types", "is_active"]

    def save_model(
        self, request: HttpRequest, obj: WebhookSubscription, form: Any, change: bool
    ) -> None:
        if not obj.secret:
            obj.secret = WebhookSubscription.new_secret()
            self.message_user(
                request,
                gettext(
                    "Signing secret (copy it now, it is not shown again): %(secret)s"
                )
                % {"secret": obj.secret},
                messages.WARNING,
            )
        super().save_model(request, obj, form, change)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyTicketDataAdmin):
    list_display = [
        "event_type",
        "subscription",
        "position",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["status", "event_type", "subscription"]
    list_select_related = ["subscription"]
    actions = ["replay"]

    @admin.action(description=gettext_lazy("Replay selected deliveries"))
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        from tickets.webhooks import delivery_replay

        count = delivery_replay(
            delivery_ids=list(queryset.values_list("pk", flat=True))
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery will be sent again.",
                "%(count)d deliveries will be sent again.",
                count,
            )
            % {"count": count},
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Actions need the change permission; rows stay read-only (no form).
        return obj is None and request.user.is_superuser


from tickets.admin import (  # noqa: E402
    mail,  # noqa: F401 - inbound email
    notifications,  # noqa: F401 - own notification settings, email outbox
    queue,  # noqa: F401 - registers the work queue
)
