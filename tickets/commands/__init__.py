"""The command table: every command on an existing ticket, named once.

An entry says what the command does (the aggregate call), how its inputs
are resolved, who may run it, its input schema, its summary and its own
refusal codes, and where each interface offers it. Everything else is
derived from it:

* ``tickets.services.ticket_command`` runs any entry (and each
  ``services.ticket_<command>`` is that with the name filled in);
* the REST API has one endpoint per entry (``tickets.api.urls``): path
  ``tickets/<id>/<path>``, operation ``tickets_<name>``;
* the admin ticket page dispatches its forms by ``admin_action``;
* the customer's page and the customer's API dispatch by
  ``customer_action``.

Adding a command: its aggregate method and event (``tickets.domain``), one
entry here, its projection handlers, and (for the admin or the customer
page) its form in the template.

Opening a ticket and changing its customer link are not here: they are
not commands on a ticket's state of this shape (``services.ticket_open``,
``services.ticket_customer_link_issue``/``_revoke``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from uuid import UUID

from rest_framework import serializers

from tickets.application import AggregateCall, Invocation, aggregate
from tickets.commands import inputs
from tickets.commands.followups import (
    FollowUpAssignInputSerializer,
    FollowUpCloseInputSerializer,
    FollowUpContactInputSerializer,
    FollowUpNoteInputSerializer,
    FollowUpReopenInputSerializer,
    follow_up_due_hours,
    front_line_codes,
    owner_ref,
    service_team_step,
)
from tickets.commands.references import (
    agent_ref,
    department_ref,
    department_timezones,
    scenario_code,
)
from tickets.routing import suggested_department


class Who(StrEnum):
    """Who may run a command (the domain still checks the ticket's rules)."""

    #: Members of a department (the service refuses anyone else).
    STAFF = "staff"
    #: Staff, or the customer through their link.
    EITHER = "either"
    #: The customer's voice: the customer, or the front line relaying it
    #: (the domain refuses anyone else).
    CUSTOMER = "customer"


@dataclass(frozen=True)
class Command:
    """One command on a ticket."""

    #: The table key; the API operation is ``tickets_<name>``.
    name: str
    #: Calls the aggregate (``tickets.application.aggregate``, or a function
    #: of the invocation and the resolved inputs); returns the detail.
    call: AggregateCall
    who: Who
    #: The input schema: the API validates with it; its field names are
    #: what the admin and customer forms post.
    input: type[serializers.Serializer[Any]]
    summary: str
    #: The API path below ``tickets/<id>/``.
    path: str
    #: The codes of the command's own rules (400), in the API schema.
    refusals: tuple[str, ...] = ()
    #: input name -> (the aggregate's parameter, resolver), e.g. a
    #: department code -> ``to``: its ``DepartmentRef``.
    resolve: Mapping[str, tuple[str, Callable[[Any], Any]]] = field(
        default_factory=dict
    )
    #: the aggregate's parameter -> a lookup the service makes, no input.
    context: Mapping[str, Callable[[], Any]] = field(default_factory=dict)
    #: The API response names the result's detail so (e.g. ``dispute_id``).
    detail_name: str = ""
    #: The action name of its form on the admin ticket page, if it has one.
    admin_action: str = ""
    #: The action name on the customer's page and API, if they offer it.
    customer_action: str = ""

    @property
    def fields(self) -> tuple[str, ...]:
        """The input's field names."""
        return tuple(self.input().fields)

    def resolved(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """The aggregate's inputs for the interface's ``inputs``."""
        values = dict(inputs)
        for name, (parameter, resolver) in self.resolve.items():
            if name in values:
                values[parameter] = resolver(values.pop(name))
        for parameter, lookup in self.context.items():
            values[parameter] = lookup()
        return values


# -- the calls that are more than ``aggregate(method)`` ---------------------------


def rate(
    invocation: Invocation,
    /,
    *,
    handoff_id: UUID | None = None,
    score: Any,
    comment: str = "",
    follow_up_hours: float | None = None,
) -> None:
    """The customer's rating: of one finished handoff, or, with no handoff
    id, of the whole experience (every interface rates through this). A
    score of 1 or 2 opens a follow-up due ``follow_up_hours`` later."""
    ticket, actor, at = invocation.ticket, invocation.actor, invocation.at
    hours = follow_up_due_hours() if follow_up_hours is None else follow_up_hours
    if handoff_id is None:
        ticket.rate_experience(
            score=score, comment=comment, actor=actor, at=at, follow_up_hours=hours
        )
    else:
        ticket.rate_handoff(
            handoff_id=handoff_id,
            score=score,
            comment=comment,
            actor=actor,
            at=at,
            follow_up_hours=hours,
        )


def hand_off(
    invocation: Invocation,
    /,
    *,
    to: Any,
    reason: str,
    routing: Callable[[UUID], str] | None = None,
) -> UUID:
    """Hand off, recording the department routing suggests at this moment
    (``routing``: ``tickets.routing.suggested_department``; None: no
    suggestion recorded, as in generated histories)."""
    ticket = invocation.ticket
    return ticket.hand_off(
        to=to,
        reason=reason,
        actor=invocation.actor,
        at=invocation.at,
        sla=invocation.sla,
        suggested_department=routing(ticket.id) if routing is not None else "",
    )


def reopen(
    invocation: Invocation,
    /,
    *,
    reason: str,
    timezones: Mapping[str, str] | None = None,
) -> None:
    """Reopen; the new stint is counted in its department's timezone as it
    is now."""
    ticket = invocation.ticket
    ticket.reopen(
        reason=reason,
        actor=invocation.actor,
        at=invocation.at,
        sla=invocation.sla,
        timezone=(timezones or {}).get(ticket.owner),
    )


def decide_dispute(invocation: Invocation, /, **inputs: Any) -> None:
    """Decide as a member of the front line, which only its leads may."""
    principal = invocation.principal
    actor = principal.actor_for(invocation.ticket.front_line)
    invocation.ticket.decide_dispute(
        actor=actor,
        at=invocation.at,
        is_lead=actor.department in principal.leads,
        **inputs,
    )


# -- the table --------------------------------------------------------------------

#: The rules a command on a ticket that must be open for work refuses by.
OPEN_FOR_WORK = ("ticket_resolved", "ticket_closed", "invalid_characters")
#: The rules a command carrying attachments refuses by (besides its own).
ATTACHMENT_REFUSALS = (
    "unknown_attachment",
    "ticket_attachments_full",
    "too_many_attachments",
)
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
#: The rules a dispute or its decision refuses by (besides its own).
DISPUTE_REFUSALS = ("ticket_closed", "invalid_characters")
#: The rules every step on a follow-up refuses by (besides its own).
FOLLOW_UP_REFUSALS = ("invalid_characters", "unknown_follow_up")

TABLE: tuple[Command, ...] = (
    Command(
        name="hand_off",
        call=hand_off,
        who=Who.STAFF,
        input=inputs.HandOffInputSerializer,
        summary="Hand the ticket to another department (starts its response clock)",
        path="handoffs/",
        refusals=(
            *OPEN_FOR_WORK,
            "reason_required",
            "handoff_to_current_owner",
            "department_inactive",
            "unknown_department",
        ),
        resolve={"to_department": ("to", department_ref)},
        context={"routing": lambda: suggested_department},
        admin_action="hand_off",
    ),
    Command(
        name="respond",
        call=aggregate("respond", sla=True),
        who=Who.STAFF,
        input=inputs.BodyInputSerializer,
        summary="Reply publicly to the customer (owner only)",
        path="responses/",
        refusals=(*OPEN_FOR_WORK, *ATTACHMENT_REFUSALS),
        admin_action="respond",
    ),
    Command(
        name="add_note",
        call=aggregate("add_note"),
        who=Who.STAFF,
        input=inputs.BodyInputSerializer,
        summary="Add an internal note (never shown to customers)",
        path="notes/",
        refusals=(*OPEN_FOR_WORK, *ATTACHMENT_REFUSALS),
        admin_action="note",
    ),
    Command(
        name="customer_reply",
        call=aggregate("record_customer_reply", sla=True),
        who=Who.EITHER,
        input=inputs.BodyInputSerializer,
        summary="Record the customer's message (ends waiting, resumes clocks)",
        path="customer-replies/",
        refusals=(*OPEN_FOR_WORK, *ATTACHMENT_REFUSALS),
        customer_action="reply",
    ),
    Command(
        name="wait",
        call=aggregate("wait_on_customer"),
        who=Who.STAFF,
        input=inputs.WaitInputSerializer,
        summary="Start waiting on the customer (pauses clocks)",
        path="waiting/",
        refusals=(*OPEN_FOR_WORK, "already_waiting"),
        admin_action="wait",
    ),
    Command(
        name="end_waiting",
        call=aggregate("end_waiting", sla=True),
        who=Who.STAFF,
        input=inputs.EmptyInputSerializer,
        summary="Stop waiting on the customer (resumes clocks)",
        path="waiting/end/",
        refusals=(*OPEN_FOR_WORK, "not_waiting"),
        admin_action="end_waiting",
    ),
    Command(
        name="resolve",
        call=aggregate("resolve", sla=True),
        who=Who.STAFF,
        input=inputs.ResolveInputSerializer,
        summary="Resolve the ticket with a root cause",
        path="resolve/",
        refusals=(*OPEN_FOR_WORK, "root_cause_detail_not_allowed"),
        admin_action="resolve",
    ),
    Command(
        name="reopen",
        call=reopen,
        who=Who.EITHER,
        input=inputs.RequiredReasonInputSerializer,
        summary="Reopen a resolved ticket (reason required)",
        path="reopen/",
        refusals=(
            "ticket_closed",
            "ticket_not_resolved",
            "invalid_characters",
            "reason_required",
        ),
        context={"timezones": department_timezones},
        admin_action="reopen",
    ),
    Command(
        name="close",
        call=aggregate("close"),
        who=Who.STAFF,
        input=inputs.EmptyInputSerializer,
        summary="Close a resolved ticket for good",
        path="close/",
        refusals=("ticket_closed", "ticket_not_resolved"),
        admin_action="close",
    ),
    Command(
        name="assign",
        call=aggregate("assign"),
        who=Who.STAFF,
        input=inputs.AssignInputSerializer,
        summary="Assign a member of the owning department",
        path="assign/",
        refusals=(*OPEN_FOR_WORK, "unknown_agent", "assignee_not_member", "no_change"),
        resolve={"agent_id": ("agent", agent_ref)},
        admin_action="assign",
    ),
    Command(
        name="change_priority",
        call=aggregate("change_priority"),
        who=Who.STAFF,
        input=inputs.PriorityInputSerializer,
        summary="Change the priority",
        path="priority/",
        refusals=(*OPEN_FOR_WORK, "no_change"),
        admin_action="priority",
    ),
    Command(
        name="change_scenario",
        call=aggregate("change_scenario"),
        who=Who.STAFF,
        input=inputs.ScenarioInputSerializer,
        summary="Change the business scenario",
        path="scenario/",
        refusals=(*OPEN_FOR_WORK, "unknown_scenario", "no_change"),
        resolve={"scenario": ("scenario", scenario_code)},
        admin_action="scenario",
    ),
    Command(
        name="rate",
        call=rate,
        who=Who.CUSTOMER,
        input=inputs.RatingInputSerializer,
        summary="Record the customer's rating of a finished handoff "
        "(or of the whole ticket)",
        path="ratings/",
        refusals=RATING_REFUSALS,
        customer_action="rate",
    ),
    # The service team's steps on a low rating's follow-up, worked in the
    # admin's Dissatisfied inbox (tickets.admin.followups).
    Command(
        name="follow_up_assign",
        call=service_team_step("assign_follow_up"),
        who=Who.STAFF,
        input=FollowUpAssignInputSerializer,
        summary="Give a dissatisfied rating's follow-up an owner (the service team)",
        path="follow-ups/owner/",
        refusals=(
            *FOLLOW_UP_REFUSALS,
            "follow_up_closed",
            "unknown_agent",
            "assignee_not_member",
            "no_change",
        ),
        resolve={"owner_id": ("owner", owner_ref)},
        context={"front_lines": front_line_codes},
    ),
    Command(
        name="follow_up_note",
        call=service_team_step("note_follow_up"),
        who=Who.STAFF,
        input=FollowUpNoteInputSerializer,
        summary="Note what was done on a follow-up (the service team)",
        path="follow-ups/notes/",
        refusals=FOLLOW_UP_REFUSALS,
        context={"front_lines": front_line_codes},
    ),
    Command(
        name="follow_up_contact",
        call=service_team_step("record_follow_up_contact"),
        who=Who.STAFF,
        input=FollowUpContactInputSerializer,
        summary="Record that the customer was contacted about a follow-up",
        path="follow-ups/contacts/",
        refusals=(*FOLLOW_UP_REFUSALS, "follow_up_closed", "invalid_choice"),
        context={"front_lines": front_line_codes},
    ),
    Command(
        name="follow_up_close",
        call=service_team_step("close_follow_up"),
        who=Who.STAFF,
        input=FollowUpCloseInputSerializer,
        summary="Close a follow-up with its outcome (the service team)",
        path="follow-ups/close/",
        refusals=(*FOLLOW_UP_REFUSALS, "follow_up_closed", "invalid_choice"),
        context={"front_lines": front_line_codes},
    ),
    Command(
        name="follow_up_reopen",
        call=service_team_step("reopen_follow_up"),
        who=Who.STAFF,
        input=FollowUpReopenInputSerializer,
        summary="Reopen a closed follow-up (reason required)",
        path="follow-ups/reopen/",
        refusals=(*FOLLOW_UP_REFUSALS, "reason_required", "no_change"),
        context={"front_lines": front_line_codes},
    ),
    # Disputes are raised and decided on the scorecard pages
    # (sla.scorecard_admin), not on the ticket page.
    Command(
        name="dispute",
        call=aggregate("dispute"),
        who=Who.STAFF,
        input=inputs.DisputeInputSerializer,
        summary="Dispute a handoff's breach or rating "
        "(the department judged or the front line)",
        path="disputes/",
        refusals=(
            *DISPUTE_REFUSALS,
            "unknown_handoff",
            "nothing_to_dispute",
            "already_disputed",
            "invalid_choice",
            "reason_required",
        ),
        detail_name="dispute_id",
    ),
    Command(
        name="decide_dispute",
        call=decide_dispute,
        who=Who.STAFF,
        input=inputs.DisputeDecisionInputSerializer,
        summary="Accept or waive a dispute (a front-line lead)",
        path="dispute-decisions/",
        refusals=(
            *DISPUTE_REFUSALS,
            "unknown_dispute",
            "dispute_already_decided",
            "invalid_choice",
            "reason_required",
        ),
    ),
)

#: The table by name.
COMMANDS: dict[str, Command] = {command.name: command for command in TABLE}

#: The calls of the commonest commands, for code that runs the application
#: without the services (benchmarks, persistence tests):
#: ``app.run_command(ticket_id, HAND_OFF, to=..., reason=..., ...)``.
HAND_OFF = COMMANDS["hand_off"].call
RESPOND = COMMANDS["respond"].call
ADD_NOTE = COMMANDS["add_note"].call
#: The admin ticket page's forms, by their action.
ADMIN_ACTIONS: dict[str, Command] = {c.admin_action: c for c in TABLE if c.admin_action}
#: The customer's page and API, by their action.
CUSTOMER_ACTIONS: dict[str, Command] = {
    c.customer_action: c for c in TABLE if c.customer_action
}

__all__ = [
    "ADD_NOTE",
    "ADMIN_ACTIONS",
    "ATTACHMENT_REFUSALS",
    "COMMANDS",
    "CUSTOMER_ACTIONS",
    "HAND_OFF",
    "OPEN_FOR_WORK",
    "RATING_REFUSALS",
    "RESPOND",
    "TABLE",
    "Command",
    "Who",
]
