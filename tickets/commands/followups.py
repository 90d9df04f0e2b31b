"""The follow-up commands: the service team's steps on a dissatisfied
rating's follow-up (``tickets.domain.followups``), their inputs, and how
long a new follow-up may stay open.

Each step is one command table entry (``follow_up_assign``,
``follow_up_note``, ``follow_up_contact``, ``follow_up_close``,
``follow_up_reopen``); the admin's follow-up page posts their fields.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from departments.models import Department
from tickets.application import AggregateCall, Invocation
from tickets.commands.inputs import (
    NOT_BLANK,
    StrictCharField,
    StrictIntegerField,
    StrictUUIDField,
)
from tickets.domain import (
    DEFAULT_DUE_HOURS,
    MAX_REASON,
    MAX_SHORT,
    MAX_TEXT,
    AgentRef,
    ContactMethod,
    FollowUpOutcome,
    InvalidInput,
)


def follow_up_due_hours() -> float:
    """Hours a follow-up may stay open before it is overdue
    (``FOLLOWUP_DUE_HOURS``, default 24), fixed in the follow-up when it
    opens."""
    return float(getattr(settings, "FOLLOWUP_DUE_HOURS", DEFAULT_DUE_HOURS))


def front_line_codes() -> frozenset[str]:
    """The front-line departments: their leads are the service team."""
    return frozenset(Department.objects.front_line().values_list("code", flat=True))


def service_team_step(method: str) -> AggregateCall:
    """``Ticket.<method>(**inputs)`` as a member of the ticket's front line;
    ``service_team``: the principal leads a front-line department."""

    def call(
        invocation: Invocation,
        /,
        *,
        front_lines: frozenset[str] = frozenset(),
        **inputs: Any,
    ) -> None:
        principal, ticket = invocation.principal, invocation.ticket
        getattr(ticket, method)(
            actor=principal.actor_for(ticket.front_line),
            at=invocation.at,
            service_team=any(code in front_lines for code in principal.leads),
            **inputs,
        )

    call.__name__ = call.__qualname__ = method
    return call


def owner_ref(owner_id: Any) -> AgentRef:
    """The owner named by user id (``unknown_agent`` if none is active)."""
    from tickets.commands.references import agent_ref

    try:
        return agent_ref(owner_id)
    except InvalidInput as error:
        raise InvalidInput(error.message, field="owner_id", code=error.code) from None


# -- inputs ----------------------------------------------------------------------


@extend_schema_field({"type": "string", "enum": [m.value for m in ContactMethod]})
class ContactMethodField(StrictCharField):
    """How the customer was reached; the domain refuses any other with
    ``invalid_choice``."""


@extend_schema_field({"type": "string", "enum": [o.value for o in FollowUpOutcome]})
class FollowUpOutcomeField(StrictCharField):
    """How the follow-up ended; the domain refuses any other with
    ``invalid_choice``."""


def _follow_up_id() -> Any:
    return StrictUUIDField(help_text="The follow-up (GET follow-ups lists them).")


def _optional_text(max_length: int, **kwargs: Any) -> Any:
    return StrictCharField(
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        max_length=max_length,
        **kwargs,
    )


class FollowUpAssignInputSerializer(serializers.Serializer[Any]):
    follow_up_id = _follow_up_id()
    owner_id = StrictIntegerField(
        min_value=1,
        max_value=2**31 - 1,
        help_text="User id of a member of the ticket's front line.",
    )


class FollowUpNoteInputSerializer(serializers.Serializer[Any]):
    follow_up_id = _follow_up_id()
    note = StrictCharField(
        max_length=MAX_TEXT,
        trim_whitespace=False,
        validators=[NOT_BLANK],
        help_text="What was done (internal).",
    )


class FollowUpContactInputSerializer(serializers.Serializer[Any]):
    follow_up_id = _follow_up_id()
    method = ContactMethodField(help_text="phone, email, chat or other.")
    note = _optional_text(MAX_TEXT, help_text="What was said (internal).")


class FollowUpCloseInputSerializer(serializers.Serializer[Any]):
    follow_up_id = _follow_up_id()
    outcome = FollowUpOutcomeField(help_text="resolved, no_action or product_fix.")
    problem_ref = _optional_text(
        MAX_SHORT, help_text="The problem or bug it went to (product_fix)."
    )
    note = _optional_text(MAX_REASON, help_text="Internal.")


class FollowUpReopenInputSerializer(serializers.Serializer[Any]):
    follow_up_id = _follow_up_id()
    reason = StrictCharField(
        max_length=MAX_REASON,
        trim_whitespace=False,
        allow_blank=True,
        help_text="Why it needs more work (not blank).",
    )
