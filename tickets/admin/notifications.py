"""Each staff member's own settings in the admin ("My settings": the
interface language, the timezone times are shown in, and which
notifications they get by email), and the email outbox (read-only, with
"retry now" for failed emails)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from departments.timezones import timezone_choices
from tickets.admin.visibility import ReadOnlyTicketDataAdmin
from tickets.models import EmailNotification, NotificationSettings
from tickets.preferences import department_timezone, forget_preferences


class MySettingsForm(forms.ModelForm[NotificationSettings]):
    """The language and timezone as selects (blank: the browser's language,
    the department's timezone), then the notification switches."""

    language = forms.ChoiceField(label=_("Language"), required=False, choices=[])
    timezone = forms.ChoiceField(label=_("Timezone"), required=False, choices=[])

    class Meta:
        model = NotificationSettings
        fields = ["language", "timezone", *NotificationSettings.switches()]

    def __init__(self, *args: Any, default_zone: str = "UTC", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [  # type: ignore[attr-defined]
            ("", gettext("The browser's language")),
            *[(code, name) for code, name in settings.LANGUAGES],
        ]
        self.fields["timezone"].choices = timezone_choices(  # type: ignore[attr-defined]
            blank=gettext("My department's (%(zone)s)") % {"zone": default_zone}
        )
        self.fields["timezone"].help_text = gettext(
            "Every page shows times in this zone and names it."
        )


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(admin.ModelAdmin[NotificationSettings]):
    """ "My settings": every staff member edits their own settings and
    nobody else's (no list, no add, no delete: the page opens one's own
    row, created with the defaults on first visit)."""

    form = MySettingsForm
    fieldsets = [
        (_("Display"), {"fields": ["language", "timezone"]}),
        (
            _("Email me when"),
            {"fields": list(NotificationSettings.switches())},
        ),
    ]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        zone = department_timezone(request.user).key

        class OwnSettingsForm(form):  # type: ignore[valid-type,misc]
            def __init__(self, *args: Any, **kw: Any) -> None:
                super().__init__(*args, default_zone=zone, **kw)

        return OwnSettingsForm

    def _allowed(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request) and (
            obj is None or obj.user_id == request.user.pk
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[NotificationSettings]:
        return super().get_queryset(request).filter(user_id=int(request.user.pk or 0))

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The list is one's own settings form (GET shows it, POST saves)."""
        own, _created = NotificationSettings.objects.get_or_create(
            user_id=int(request.user.pk or 0)
        )
        context = {"title": _("My settings"), **(extra_context or {})}
        return self.change_view(request, str(own.pk), extra_context=context)

    def response_change(self, request: HttpRequest, obj: Any) -> HttpResponse:
        forget_preferences(request.user)
        self.message_user(request, _("Your settings were saved."))
        return HttpResponseRedirect(request.path)


@admin.register(EmailNotification)
class EmailNotificationAdmin(ReadOnlyTicketDataAdmin):
    """The outbox: what was emailed to whom and how it went. Staff see the
    rows of the tickets they may see; only superusers retry."""

    ticket_lookup = "ticket_id"
    list_display = [
        "kind",
        "recipient",
        "audience",
        "subject",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = ["status", "kind", "audience"]
    search_fields = ["recipient", "subject", "message_id"]
    date_hierarchy = "created_at"
    actions = ["retry"]
    readonly_fields = [
        "position",
        "kind",
        "recipient",
        "audience",
        "user_id",
        "ticket_id",
        "message_id",
        "in_reply_to",
        "references",
        "reply_to",
        "subject",
        "text",
        "html",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_until",
        "last_error",
        "sent_at",
        "created_at",
    ]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Actions need the change permission; rows stay read-only.
        return obj is None and bool(request.user.is_superuser)

    @admin.action(description=_("Retry selected emails now"))
    def retry(
        self, request: HttpRequest, queryset: QuerySet[EmailNotification]
    ) -> None:
        from tickets.mail.notifications import retry_now

        count = retry_now(queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            ngettext(
                "%(count)d email will be sent again.",
                "%(count)d emails will be sent again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
