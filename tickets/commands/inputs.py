"""The inputs of the ticket commands (and of opening a ticket): DRF
serializers that declare everything the server requires of a field's shape,
so the OpenAPI schema generated from them is what the server enforces (400
``validation_failed`` with per-field ``errors``). Each command table entry
(``tickets.commands``) names its input here; the domain still checks its
rules and answers with its stable codes (``handoff_to_current_owner``,
``invalid_characters``...).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.utils import translation
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from departments.models import CODE_PATTERN
from tickets.domain import (
    MAX_ATTACHMENTS,
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
    Ticket,
)
from tickets.languages import default_language, language_from_request, supported

#: The domain strips text before it checks it, so "required" means "holds
#: something that is not whitespace" (an unanchored search, as JSON Schema's
#: ``pattern`` is). Whitespace is spelled out as Python's ``str.strip``
#: knows it: ``\s`` means less in the schema's ECMA-262 regexes (not the
#: separators U+001C-U+001F nor U+0085), so a client could send a body
#: the schema calls valid and the domain calls blank.
NOT_BLANK_PATTERN = (
    r"[^\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a"
    r"\u2028\u2029\u202f\u205f\u3000]"
)
NOT_BLANK = RegexValidator(
    NOT_BLANK_PATTERN, "This field may not be blank.", code="blank"
)
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


def _attachments() -> Any:
    return serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        max_length=MAX_ATTACHMENTS,
        help_text="Ids of your uploads (POST /api/v1/attachments/) to attach "
        f"(at most {MAX_ATTACHMENTS}).",
    )


class RequestLanguage:
    """The default of a ticket's ``language``: what the request asks for
    (``Accept-Language``, restricted to ``settings.LANGUAGES``). The request
    comes from the serializer's context, else the active language is used:
    ``LocaleMiddleware`` chose it from the same request."""

    requires_context = True

    def __call__(self, field: serializers.Field[Any, Any, Any, Any]) -> str:
        request = field.context.get("request")
        if request is not None:
            return language_from_request(getattr(request, "_request", request))
        return supported(translation.get_language()) or default_language()

    def __repr__(self) -> str:  # the schema shows no default value
        return "RequestLanguage()"


def _language() -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=[code for code, _name in settings.LANGUAGES],
        required=False,
        # DRF calls a default that ``requires_context`` with the field (the
        # stubs know only plain callables).
        default=RequestLanguage(),  # type: ignore[arg-type]
        help_text="The customer's language (their page and emails); defaults "
        "to the request's Accept-Language.",
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
    attachments = _attachments()
    language = _language()


class HandOffInputSerializer(serializers.Serializer[Any]):
    to_department = _department_code(help_text="Department code, e.g. FIN.")
    reason = _reason(help_text="Why this department now owns it (not blank).")


class BodyInputSerializer(serializers.Serializer[Any]):
    body = _required_text(MAX_TEXT)
    attachments = _attachments()


class ReasonInputSerializer(serializers.Serializer[Any]):
    """An optional reason (waiting on the customer)."""

    reason = _text(MAX_REASON)


class WaitInputSerializer(serializers.Serializer[Any]):
    """Waiting on the customer: what they are asked for (shown to them and
    emailed) and, optionally, why (staff only)."""

    request = _text(
        MAX_REASON,
        help_text="What the customer is asked for; shown to them.",
    )
    reason = _text(MAX_REASON, help_text="Why, for staff only.")


class RequiredReasonInputSerializer(serializers.Serializer[Any]):
    """A reason the command requires (reopening)."""

    reason = _reason(help_text="Why it is reopened (not blank).")


class EmptyInputSerializer(serializers.Serializer[Any]):
    pass


class ResolveInputSerializer(serializers.Serializer[Any]):
    """There is no default root cause: the one figure meant for Product
    must not lean towards whatever a form preselects."""

    resolution = _required_text(MAX_TEXT, help_text="What was done.")
    root_cause = serializers.ChoiceField(
        choices=[c.value for c in RootCause],
        help_text="Why the customer had the problem (no default).",
    )
    product_area = _text(
        Ticket.Resolved.MAX_PRODUCT_AREA,
        help_text="Which part of the product or process, e.g. 'Billing / "
        "invoices'. Only with the root causes "
        + " and ".join(Ticket.Resolved.DETAILED_CAUSES)
        + " (400 root_cause_detail_not_allowed otherwise).",
    )
    root_cause_detail = _text(
        MAX_REASON,
        help_text="What exactly went wrong, for Product. Same rule as product_area "
        "(whether it says something is the domain's rule).",
    )


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


def _rated_handoff(help_text: str) -> serializers.UUIDField:
    """The handoff a rating is for; none (omitted or null) rates the whole
    ticket (``tickets.commands.rate``)."""
    return StrictUUIDField(
        required=False, allow_null=True, default=None, help_text=help_text
    )


class RatingInputSerializer(serializers.Serializer[Any]):
    handoff_id = _rated_handoff(
        "The handoff (stint) rated; omit to rate the whole ticket."
    )
    score = StrictIntegerField(help_text=SCORE_HELP)
    comment = _text(MAX_COMMENT)


#: The customer's own API says the same in the customer's words.
class PublicRatingInputSerializer(serializers.Serializer[Any]):
    handoff_id = _rated_handoff("The step rated; omit to rate the whole experience.")
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
