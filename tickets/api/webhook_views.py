"""Webhook subscriptions. A subscription receives the events of every
ticket, so only superusers and front-line leads may hold one."""

from __future__ import annotations

from typing import Any

from django.core.validators import URLValidator
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from tickets import selectors
from tickets.api.serializers import ProblemSerializer
from tickets.api.views import ERRORS, IDEMPOTENCY_KEY, TYPE_NAMES, BaseApi
from tickets.domain import TicketNotFound
from tickets.models import WebhookSubscription


class WebhookInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=100)
    url = serializers.URLField(
        max_length=500,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="http(s) URL receiving POSTs.",
    )
    event_types = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        default=list,
        help_text="Event type names, e.g. HandedOff; empty for all.",
    )

    def validate_event_types(self, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - TYPE_NAMES)
        if unknown:
            raise serializers.ValidationError(
                f"Unknown event types: {', '.join(unknown)}."
            )
        return sorted(set(value))


class WebhookSerializer(serializers.ModelSerializer[WebhookSubscription]):
    class Meta:
        model = WebhookSubscription
        fields = ["id", "name", "url", "event_types", "is_active", "created_at"]


class WebhookCreatedSerializer(WebhookSerializer):
    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]


def _require_subscriber(request: Request) -> None:
    if not selectors.sees_everything(request.user):
        raise PermissionDenied("Webhooks are for front-line leads and admins.")


class WebhookListCreateApi(BaseApi):
    @extend_schema(
        operation_id="webhooks_list",
        responses={200: WebhookSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        _require_subscriber(request)
        subscriptions = WebhookSubscription.objects.filter(owner=request.user.pk)
        return Response(WebhookSerializer(subscriptions, many=True).data)

    @extend_schema(
        operation_id="webhooks_create",
        request=WebhookInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: WebhookCreatedSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        def handler(request: Request) -> Response:
            _require_subscriber(request)
            data = WebhookInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            subscription = WebhookSubscription.objects.create(
                owner=request.user,  # type: ignore[misc]
                secret=WebhookSubscription.new_secret(),
                **data.validated_data,
            )
            return Response(WebhookCreatedSerializer(subscription).data, status=201)

        return self.idempotent_post(request, handler)


class WebhookDetailApi(BaseApi):
    @extend_schema(
        operation_id="webhooks_delete",
        responses={
            204: None,
            401: ProblemSerializer,
            403: ProblemSerializer,
            404: ProblemSerializer,
            429: ProblemSerializer,
        },
    )
    def delete(self, request: Request, webhook_id: int) -> Response:
        _require_subscriber(request)
        deleted, _ = WebhookSubscription.objects.filter(
            pk=webhook_id, owner=request.user.pk
        ).delete()
        if not deleted:
            raise TicketNotFound(f"No webhook {webhook_id}.")
        return Response(status=204)
