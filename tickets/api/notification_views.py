"""The caller's own notification settings: ``GET/PUT /api/v1/me/notifications/``."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from tickets.api.serializers import problems
from tickets.api.views import BaseApi
from tickets.models import NotificationSettings

SETTINGS_FIELDS = NotificationSettings.switches()


class StrictBooleanField(serializers.BooleanField):
    """A JSON ``true`` or ``false`` only (DRF's own also takes "yes", 1...)."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class NotificationSettingsSerializer(serializers.ModelSerializer[NotificationSettings]):
    department_handoff = StrictBooleanField(
        required=False,
        help_text="Email me when a ticket is handed to one of my departments "
        "(default false; the department's own mailbox always gets it).",
    )
    assigned = StrictBooleanField(
        required=False, help_text="Email me when a ticket is assigned to me."
    )
    customer_reply = StrictBooleanField(
        required=False,
        help_text="Email me when the customer replies on a ticket my department owns.",
    )
    sla_alert = StrictBooleanField(
        required=False,
        help_text="Email me when a ticket of my department is at risk or "
        "breached (the department's own mailbox always gets it).",
    )

    class Meta:
        model = NotificationSettings
        fields = list(SETTINGS_FIELDS)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        raw = self.initial_data
        if not isinstance(raw, dict):
            raise serializers.ValidationError(
                "Send a JSON object of booleans.", code="invalid"
            )
        unknown = sorted(set(raw) - set(SETTINGS_FIELDS))
        if unknown:
            raise serializers.ValidationError(
                {
                    name: serializers.ErrorDetail(
                        "Unknown field.", code="unknown_field"
                    )
                    for name in unknown
                }
            )
        return attrs


#: The PUT body as the schema states it: the serializer's booleans, and no
#: other field (an unknown one is refused, code ``unknown_field``).
PUT_BODY_SCHEMA = {
    "application/json": {
        "type": "object",
        "properties": {
            name: {
                "type": "boolean",
                "description": str(
                    NotificationSettingsSerializer().fields[name].help_text
                ),
            }
            for name in SETTINGS_FIELDS
        },
        "additionalProperties": False,
    }
}


def _own(request: Request) -> NotificationSettings:
    """The caller's settings (the defaults until they change one)."""
    found = NotificationSettings.objects.filter(
        user_id=int(request.user.pk or 0)
    ).first()
    return found or NotificationSettings(user_id=int(request.user.pk or 0))


class MyNotificationSettingsApi(BaseApi):
    @extend_schema(
        operation_id="me_notifications_get",
        responses={200: NotificationSettingsSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response(NotificationSettingsSerializer(_own(request)).data)

    @extend_schema(
        operation_id="me_notifications_put",
        request=PUT_BODY_SCHEMA,
        responses={
            200: NotificationSettingsSerializer,
            400: problems("validation_failed"),
        },
    )
    def put(self, request: Request) -> Response:
        """Change the caller's settings; fields left out keep their values."""
        data = NotificationSettingsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            own, _created = (
                NotificationSettings.objects.select_for_update().get_or_create(
                    user_id=int(request.user.pk or 0)
                )
            )
            for name, value in data.validated_data.items():
                setattr(own, name, value)
            own.save()
        return Response(NotificationSettingsSerializer(own).data)
