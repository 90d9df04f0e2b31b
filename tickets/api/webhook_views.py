"""Webhook subscriptions. A subscription receives the events of every
ticket, so only superusers and front-line leads may hold one."""

from __future__ import annotations

from typing import Any

from django.core.validators import URLValidator
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from tickets import outbound, selectors
from tickets.api.serializers import NOT_BLANK, StrictCharField, problems
from tickets.api.views import IDEMPOTENCY_KEY, BaseApi
from tickets.domain import InvalidInput, TicketNotFound
from tickets.event_format import ACCEPTED_EVENT_NAMES, event_names
from tickets.models import WebhookSubscription


@extend_schema_field({"type": "string", "format": "uri", "maxLength": 500})
class WebhookUrlField(StrictCharField):
    """The receiver's URL: a JSON string that Django's URLValidator takes,
    refused with the field code ``invalid_url`` (JSON Schema's ``uri``
    format is looser than a reachable http(s) URL)."""


class WebhookInputSerializer(serializers.Serializer[Any]):
    name = StrictCharField(
        max_length=100, trim_whitespace=False, validators=[NOT_BLANK]
    )
    url = WebhookUrlField(
        max_length=500,
        trim_whitespace=False,
        validators=[
            URLValidator(
                schemes=["http", "https"],
                message="Enter an http(s) URL with a valid host name.",
                code="invalid_url",
            )
        ],
        help_text="http(s) URL receiving POSTs (a host name of labels of at "
        "most 63 characters, or an IP address; 400 validation_failed with "
        "the field code invalid_url otherwise). Its host must resolve to "
        "public addresses only (400 webhook_url_forbidden otherwise, "
        "webhook_host_unresolvable when it does not resolve), unless the "
        "operator allows the network (WEBHOOK_ALLOWED_NETWORKS).",
    )
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(ACCEPTED_EVENT_NAMES)),
        required=False,
        default=list,
        help_text="Event type names, e.g. Ticket.HandedOff (the short form "
        "HandedOff is accepted too and stored as Ticket.HandedOff); empty "
        "for all.",
    )

    def validate_event_types(self, value: list[str]) -> list[str]:
        return event_names(value)


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
        responses={200: WebhookSerializer(many=True), 403: problems("forbidden")},
    )
    def get(self, request: Request) -> Response:
        _require_subscriber(request)
        subscriptions = WebhookSubscription.objects.filter(owner=request.user.pk)
        return Response(WebhookSerializer(subscriptions, many=True).data)

    @extend_schema(
        operation_id="webhooks_create",
        request=WebhookInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: WebhookCreatedSerializer,
            400: problems(outbound.FORBIDDEN_CODE, outbound.UNRESOLVABLE_CODE),
            403: problems("forbidden"),
        },
    )
    def post(self, request: Request) -> Response:
        # Checked before the idempotent part: resolving the host is a
        # network call, never made inside the transaction that keeps the
        # response.
        _require_subscriber(request)
        data = WebhookInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            outbound.check_url(data.validated_data["url"])
        except outbound.DestinationRefused as refused:
            raise InvalidInput(
                refused.message, field="url", code=refused.code
            ) from None

        def handler(request: Request) -> Response:
            subscription = WebhookSubscription.objects.create(
                owner=request.user,  # type: ignore[misc]
                secret=WebhookSubscription.new_secret(),
                **data.validated_data,
            )
            return Response(WebhookCreatedSerializer(subscription).data, status=201)

        return self.idempotent_post(request, handler, atomic=True)


class WebhookDetailApi(BaseApi):
    @extend_schema(
        operation_id="webhooks_delete",
        responses={
            204: None,
            403: problems("forbidden"),
            404: problems("ticket_not_found"),
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
