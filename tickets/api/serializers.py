"""Output shapes and problem responses of the REST API (documented in the
schema). The inputs of commands are part of the command table
(``tickets.commands.inputs``): each declares everything the server requires
of a field's shape, so the schema is what the server enforces.
"""

from __future__ import annotations

import copy
from typing import Any

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from tickets.commands.inputs import (
    DEPARTMENT_CODE_PATTERN,
    NOT_BLANK,
    StrictCharField,
)
from tickets.models import Handoff, SLAClock, TicketSummary
from tickets.sla_clocks import business_seconds_left, business_seconds_used

#: The input shapes other API modules build on (webhooks, sla.api).
__all__ = ["DEPARTMENT_CODE_PATTERN", "NOT_BLANK", "StrictCharField"]

# -- problems ----------------------------------------------------------------


class ProblemFieldErrorSerializer(serializers.Serializer[Any]):
    field = serializers.CharField()
    message = serializers.CharField()
    code = serializers.CharField()


class ProblemSerializer(serializers.Serializer[Any]):
    """RFC 9457 problem details with Baton's stable ``code``."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField()
    instance = serializers.CharField(required=False)
    field = serializers.CharField(required=False)
    errors = ProblemFieldErrorSerializer(many=True, required=False)  # type: ignore[assignment]


def problems(*codes: str) -> OpenApiResponse:
    """A problem response that names the ``code`` values an operation can
    answer with for that status, as a Markdown list the schema hook
    (``config.openapi``) completes with the codes every operation shares
    and publishes as ``x-problem-codes``."""
    return OpenApiResponse(
        ProblemSerializer, description="\n".join(f"- `{code}`" for code in codes)
    )


# -- outputs -------------------------------------------------------------------


class BuiltOnce:
    """For a ModelSerializer: build its fields from the model once per class,
    not for every instance as DRF does (for a ticket with its clocks and
    stints that was a third of a read's time); each instance gets its own
    copy, as DRF gives it of declared fields."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        cls = type(self)
        built = cls.__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()  # type: ignore[misc]
            cls._built_fields = built  # type: ignore[attr-defined]
        return copy.deepcopy(built)


class ClockSerializer(BuiltOnce, serializers.ModelSerializer[SLAClock]):
    business_seconds_used = serializers.SerializerMethodField()
    business_seconds_left = serializers.SerializerMethodField()

    class Meta:
        model = SLAClock
        fields = [
            "id",
            "ticket_id",
            "handoff_id",
            "department",
            "kind",
            "state",
            "started_at",
            "due_at",
            "warn_at",
            "stopped_at",
            "outcome",
            "target_seconds",
            "paused_seconds",
            "business_seconds_used",
            "business_seconds_left",
            "warning_recorded",
            "breach_recorded",
            "policy_version",
            "calendar_version",
        ]

    def get_business_seconds_used(self, clock: SLAClock) -> float:
        return round(business_seconds_used(clock), 3)

    def get_business_seconds_left(self, clock: SLAClock) -> float:
        return round(business_seconds_left(clock), 3)


class HandoffSerializer(BuiltOnce, serializers.ModelSerializer[Handoff]):
    class Meta:
        model = Handoff
        fields = [
            "id",
            "kind",
            "from_department",
            "department",
            "department_name",
            "reason",
            "started_at",
            "first_response_at",
            "outcome",
            "outcome_at",
            "ended_at",
            "agent_id",
            "agent_name",
            "rating_score",
            "rating_comment",
        ]


class TicketSerializer(BuiltOnce, serializers.ModelSerializer[TicketSummary]):
    id = serializers.UUIDField(source="ticket_id")
    clocks = ClockSerializer(many=True, read_only=True)

    class Meta:
        model = TicketSummary
        fields = [
            "id",
            "subject",
            "description",
            "status",
            "priority",
            "scenario",
            "channel",
            "customer_ref",
            "customer_name",
            "customer_contact",
            "customer_timezone",
            "language",
            "external_ref",
            "front_line",
            "owner",
            "owner_name",
            "owner_since",
            "current_stint_id",
            "assignee_id",
            "assignee_name",
            "handoff_count",
            "reopen_count",
            "opened_at",
            "updated_at",
            "resolved_at",
            "closed_at",
            "experience_score",
            "version",
            "clocks",
        ]


class TicketDetailSerializer(TicketSerializer):
    handoffs = HandoffSerializer(many=True, read_only=True)

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "handoffs"]


class TicketOpenedSerializer(TicketDetailSerializer):
    customer_link = serializers.URLField(
        allow_null=True,
        help_text="The customer's page; shown only now (only a hash is kept). "
        "Null when an Idempotency-Key replay returns this response: re-issue a "
        "link instead.",
    )
    customer_link_redacted = serializers.BooleanField(required=False)

    class Meta(TicketDetailSerializer.Meta):
        fields = [
            *TicketDetailSerializer.Meta.fields,
            "customer_link",
            "customer_link_redacted",
        ]


class CommandAcceptedSerializer(serializers.Serializer[Any]):
    """The command is stored but the ticket's read model has not caught up
    yet: fetch ``Location`` shortly."""

    id = serializers.UUIDField()
    version = serializers.IntegerField()
    position = serializers.IntegerField()
    status = serializers.CharField()
    customer_link = serializers.URLField(required=False, allow_null=True)
    customer_link_redacted = serializers.BooleanField(required=False)


class CustomerLinkSerializer(serializers.Serializer[Any]):
    customer_link = serializers.URLField(allow_null=True)
    customer_link_redacted = serializers.BooleanField(required=False)
    expires_at = serializers.DateTimeField(allow_null=True)


class CustomerLinkInputSerializer(serializers.Serializer[Any]):
    expires_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="When the link stops working, in the future (400 "
        "validation_failed with the field code expiry_not_in_future "
        "otherwise); omit for no expiry.",
    )

    def validate_expires_at(self, value: Any) -> Any:
        from tickets import clock

        if value is not None and value <= clock.now():
            raise serializers.ValidationError(
                "The expiry must be in the future.", code="expiry_not_in_future"
            )
        return value


class CustomerFileSerializer(serializers.Serializer[Any]):
    """A file the customer may download (from their link's
    ``attachments/<id>/``; staff from the ticket's)."""

    id = serializers.UUIDField()
    name = serializers.CharField()
    size = serializers.IntegerField()
    content_type = serializers.CharField()


class CustomerMessageSerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField()
    at_local = serializers.CharField()
    author = serializers.CharField(help_text="'You', a first name, or 'Finance team'.")
    from_customer = serializers.BooleanField()
    kind = serializers.CharField()
    text = serializers.CharField()
    body = serializers.CharField(allow_blank=True)
    attachments = CustomerFileSerializer(many=True)


class CustomerRatingSerializer(serializers.Serializer[Any]):
    score = serializers.IntegerField()
    comment = serializers.CharField(allow_blank=True)


class CustomerStepSerializer(serializers.Serializer[Any]):
    handoff_id = serializers.UUIDField()
    department = serializers.CharField()
    received_at = serializers.DateTimeField()
    received_at_local = serializers.CharField()
    answered_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    took = serializers.CharField(allow_blank=True)
    promised_by = serializers.DateTimeField(allow_null=True)
    promised_by_local = serializers.CharField(allow_blank=True)
    kept_promise = serializers.BooleanField(allow_null=True)
    finished = serializers.BooleanField()
    rating = CustomerRatingSerializer(allow_null=True)
    can_rate = serializers.BooleanField()
    messages = CustomerMessageSerializer(many=True)


class CustomerRatingQuestionSerializer(serializers.Serializer[Any]):
    """One department the customer's page asks about (once per department
    that worked on the ticket; quick forwards are not asked about)."""

    department = serializers.CharField()
    handoff_id = serializers.UUIDField(
        help_text="The stint a rating is recorded for (the department's "
        "last worked one)."
    )
    rating = CustomerRatingSerializer(allow_null=True)
    can_rate = serializers.BooleanField()


class CustomerTimelineSerializer(serializers.Serializer[Any]):
    """What the customer sees: who has the ticket, their promise, and the
    journey step by step (no internal notes, reasons or surnames). Texts
    are in the request's language (Accept-Language)."""

    ticket_id = serializers.UUIDField()
    subject = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField(help_text="The status, worded.")
    language = serializers.CharField(
        allow_blank=True,
        help_text="The ticket's language (blank: the site's default).",
    )
    customer_timezone = serializers.CharField()
    owner = serializers.CharField()
    owner_name = serializers.CharField()
    owner_since = serializers.DateTimeField()
    owner_since_local = serializers.CharField()
    promise = serializers.CharField()
    promise_context = serializers.CharField(allow_blank=True)
    promise_due_at = serializers.DateTimeField(allow_null=True)
    promise_overdue = serializers.BooleanField()
    journey = CustomerStepSerializer(many=True)
    rating_questions = CustomerRatingQuestionSerializer(many=True)
    ticket_rating = CustomerRatingSerializer(allow_null=True)
    can_rate_ticket = serializers.BooleanField()
    can_reply = serializers.BooleanField()
    attachments = CustomerFileSerializer(
        many=True,
        help_text="Every file the customer may see, the opening message's too.",
    )


class EventSerializer(serializers.Serializer[Any]):
    position = serializers.IntegerField(allow_null=True)
    ticket_id = serializers.UUIDField()
    version = serializers.IntegerField()
    type = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    actor = serializers.DictField()
    data = serializers.DictField()  # type: ignore[assignment]


class EventPageSerializer(serializers.Serializer[Any]):
    events = EventSerializer(many=True)
    next_after = serializers.IntegerField()
    has_more = serializers.BooleanField()
