"""Input and output shapes of the REST API (documented in the schema).

Inputs declare everything the server requires of a field's shape: whether
it is required, may be blank, its longest length (the domain's own limits)
and its pattern, so the OpenAPI schema generated from them is what the
server enforces (400 ``validation_failed`` with per-field ``errors``). The
domain still checks its rules and answers with its stable codes
(``handoff_to_current_owner``, ``invalid_characters``...).
"""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers

from departments.models import CODE_PATTERN
from tickets.domain import (
    MAX_COMMENT,
    MAX_EXTERNAL_REF,
    MAX_REASON,
    MAX_SHORT,
    MAX_SUBJECT,
    MAX_TEXT,
    SCENARIO_RE,
    Channel,
    DisputeDecision,
    DisputeSubject,
    Priority,
    RootCause,
)
from tickets.models import Handoff, SLAClock, TicketSummary
from tickets.sla_clocks import business_seconds_left, business_seconds_used

#: The domain strips text before it checks it, so "required" means "holds
#: something that is not whitespace" (an unanchored search, as JSON Schema's
#: ``pattern`` is).
NOT_BLANK = RegexValidator(r"\S", "This field may not be blank.", code="blank")
#: Department codes are matched case-insensitively (``fin`` is FIN).
DEPARTMENT_CODE_PATTERN = CODE_PATTERN.replace("[A-Z]", "[A-Za-z]").replace(
    "[A-Z0-9_]", "[A-Za-z0-9_]"
)
DEPARTMENT_CODE = RegexValidator(
    DEPARTMENT_CODE_PATTERN,
    "Use a department code: 2-16 letters, digits or underscores, e.g. FIN.",
    code="invalid_department_code",
)
#: A scenario code, or empty for none, with whitespace around it allowed
#: (the domain strips it).
SCENARIO = RegexValidator(
    r"^\s*(?:" + SCENARIO_RE.pattern.removeprefix("^").removesuffix("$") + r")?\s*\Z",
    "Use a scenario code of letters, digits, '.', '_' or '-' (at most 64), "
    "or an empty string.",
    code="invalid_scenario",
)


class StrictCharField(serializers.CharField):
    """Text that must be a JSON string: DRF would turn ``0`` or ``1.5``
    into text, which the schema (``type: string``) does not allow."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: not ``"5"``, ``5.0`` or ``true``, which the schema
    (``type: integer``) does not allow."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(super().to_internal_value(data))


class StrictUUIDField(serializers.UUIDField):
    """A UUID as a JSON string (DRF would also take an integer)."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


def _text(max_length: int, **kwargs: Any) -> serializers.CharField:
    """Optional free text (blank allowed), at most ``max_length``."""
    return StrictCharField(
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        max_length=max_length,
        **kwargs,
    )


def _required_text(max_length: int, **kwargs: Any) -> serializers.CharField:
    """Required text with something besides whitespace, at most
    ``max_length``: what the domain requires, declared (the domain's
    ``field_required`` and ``reason_required`` never reach an API client
    that follows the schema)."""
    return StrictCharField(
        required=True,
        allow_blank=False,
        trim_whitespace=False,
        max_length=max_length,
        validators=[NOT_BLANK],
        **kwargs,
    )


def _reason(**kwargs: Any) -> serializers.CharField:
    """A reason the command requires. Whether it says something is the
    domain's rule, shared with the admin pages: blank is 400
    ``reason_required`` (documented with the command's codes)."""
    return StrictCharField(
        required=True,
        allow_blank=True,
        trim_whitespace=False,
        max_length=MAX_REASON,
        **kwargs,
    )


@extend_schema_field({"type": "string", "enum": [s.value for s in DisputeSubject]})
class DisputeSubjectField(StrictCharField):
    """One of the domain's dispute subjects; the domain refuses any other
    with ``invalid_choice``."""


@extend_schema_field({"type": "string", "enum": [d.value for d in DisputeDecision]})
class DisputeDecisionField(StrictCharField):
    """One of the domain's decisions; the domain refuses any other with
    ``invalid_choice``."""


def _department_code(**kwargs: Any) -> serializers.CharField:
    return StrictCharField(
        trim_whitespace=False,
        max_length=16,
        validators=[DEPARTMENT_CODE],
        **kwargs,
    )


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


#: The rules a command on a ticket that must be open for work refuses by.
OPEN_FOR_WORK = ("ticket_resolved", "ticket_closed", "invalid_characters")
#: The rules a rating (staff or customer) refuses by.
RATING_REFUSALS = (
    "ticket_closed",
    "ticket_not_resolved",
    "invalid_characters",
    "unknown_handoff",
    "handoff_not_finished",
    "already_rated",
    "invalid_score",
)


# -- inputs --------------------------------------------------------------------


def _scenario(**kwargs: Any) -> serializers.CharField:
    return StrictCharField(
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        validators=[SCENARIO],
        **kwargs,
    )


class TicketOpenInputSerializer(serializers.Serializer[Any]):
    subject = _required_text(MAX_SUBJECT)
    description = _text(MAX_TEXT)
    customer_ref = _required_text(
        MAX_SHORT, help_text="Your reference for the customer."
    )
    customer_name = _text(MAX_SHORT)
    customer_contact = _text(MAX_SHORT)
    customer_timezone = StrictCharField(
        required=False,
        default="UTC",
        trim_whitespace=False,
        max_length=64,
        help_text="IANA timezone name, e.g. Europe/Paris (400 invalid_timezone "
        "otherwise).",
    )
    channel = serializers.ChoiceField(choices=[c.value for c in Channel])
    external_ref = _text(
        MAX_EXTERNAL_REF, help_text="Your system's id for this ticket."
    )
    scenario = _scenario(help_text="Business scenario code, e.g. REFUND.")
    priority = serializers.ChoiceField(
        choices=[p.value for p in Priority], required=False, default="normal"
    )
    department = _department_code(
        required=False,
        default=None,
        allow_null=True,
        help_text="Front-line department code; defaults to yours or the only one.",
    )


class HandOffInputSerializer(serializers.Serializer[Any]):
    to_department = _department_code(help_text="Department code, e.g. FIN.")
    reason = _reason(help_text="Why this department now owns it (not blank).")


class BodyInputSerializer(serializers.Serializer[Any]):
    body = _required_text(MAX_TEXT)


class ReasonInputSerializer(serializers.Serializer[Any]):
    """An optional reason (waiting on the customer)."""

    reason = _text(MAX_REASON)


class RequiredReasonInputSerializer(serializers.Serializer[Any]):
    """A reason the command requires (reopening)."""

    reason = _reason(help_text="Why it is reopened (not blank).")


class EmptyInputSerializer(serializers.Serializer[Any]):
    pass


class ResolveInputSerializer(serializers.Serializer[Any]):
    resolution = _required_text(MAX_TEXT, help_text="What was done.")
    root_cause = serializers.ChoiceField(choices=[c.value for c in RootCause])


class AssignInputSerializer(serializers.Serializer[Any]):
    agent_id = StrictIntegerField(
        min_value=1,
        max_value=2**31 - 1,
        help_text="User id of a member of the owner.",
    )


class PriorityInputSerializer(serializers.Serializer[Any]):
    priority = serializers.ChoiceField(choices=[p.value for p in Priority])


class ScenarioInputSerializer(serializers.Serializer[Any]):
    scenario = _scenario(help_text="Scenario code; empty clears it.")


#: The score's range is the domain's rule (400 ``invalid_score``), which
#: the customer's page shares.
SCORE_HELP = "A whole number from 1 to 5 (400 invalid_score otherwise)."


class RatingInputSerializer(serializers.Serializer[Any]):
    handoff_id = StrictUUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The handoff (stint) rated; omit to rate the whole ticket.",
    )
    score = StrictIntegerField(help_text=SCORE_HELP)
    comment = _text(MAX_COMMENT)


class DisputeInputSerializer(serializers.Serializer[Any]):
    handoff_id = StrictUUIDField(help_text="The handoff (stint) concerned.")
    subject = DisputeSubjectField(
        help_text="breach (of its response promise) or rating."
    )
    reason = _reason(help_text="Why the breach or rating is disputed (not blank).")


class DisputeDecisionInputSerializer(serializers.Serializer[Any]):
    dispute_id = StrictUUIDField()
    decision = DisputeDecisionField(
        help_text="accepted (it stands) or waived (adjusted figures leave it out)."
    )
    reason = _reason(help_text="Why it was decided so (not blank).")


# -- outputs -------------------------------------------------------------------


class ClockSerializer(serializers.ModelSerializer[SLAClock]):
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


class HandoffSerializer(serializers.ModelSerializer[Handoff]):
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


class TicketSerializer(serializers.ModelSerializer[TicketSummary]):
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


class CustomerMessageSerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField()
    at_local = serializers.CharField()
    author = serializers.CharField(help_text="'You', a first name, or 'Finance team'.")
    from_customer = serializers.BooleanField()
    kind = serializers.CharField()
    text = serializers.CharField()
    body = serializers.CharField(allow_blank=True)


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


class CustomerTimelineSerializer(serializers.Serializer[Any]):
    """What the customer sees: who has the ticket, their promise, and the
    journey step by step (no internal notes, reasons or surnames)."""

    ticket_id = serializers.UUIDField()
    subject = serializers.CharField()
    status = serializers.CharField()
    customer_timezone = serializers.CharField()
    owner = serializers.CharField()
    owner_name = serializers.CharField()
    owner_since = serializers.DateTimeField()
    owner_since_local = serializers.CharField()
    promise = serializers.CharField()
    promise_due_at = serializers.DateTimeField(allow_null=True)
    promise_overdue = serializers.BooleanField()
    journey = CustomerStepSerializer(many=True)
    ticket_rating = CustomerRatingSerializer(allow_null=True)
    can_rate_ticket = serializers.BooleanField()
    can_reply = serializers.BooleanField()


class PublicRatingInputSerializer(serializers.Serializer[Any]):
    handoff_id = StrictUUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The step rated; omit to rate the whole experience.",
    )
    score = StrictIntegerField(help_text=SCORE_HELP)
    comment = _text(MAX_COMMENT)


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
