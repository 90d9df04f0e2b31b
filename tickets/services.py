"""The only way interfaces (API, admin, tasks, commands) change tickets.

Each service resolves references (departments, agents), calls one
``TicketsApplication`` method with the current time, then catches the core
read models up to the write so the caller sees its own change at once.
Rule violations surface as ``tickets.domain.TicketError`` subclasses with a
stable ``code``; a concurrent change surfaces as ``ConcurrencyConflict``.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model

from departments.models import Department, Membership
from departments.selectors import default_front_line, memberships_for_user
from tickets import clock
from tickets.application import (
    CommandResult,
    get_tickets_application,
    replaying_a_lost_answer,
)
from tickets.domain import (
    ActorKind,
    AgentRef,
    DepartmentRef,
    InvalidInput,
    NotPermitted,
    Principal,
)
from tickets.projection_runner import catch_up, projection_group

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------
# Principals and references
# ---------------------------------------------------------------------------


def principal_for_user(
    user: Any,
    *,
    kind: str = ActorKind.USER,
    id: str | None = None,
    name: str | None = None,
) -> Principal:
    """The principal for a staff user (or an integration acting as one).

    Its departments are the user's active memberships, front line first.
    """
    memberships = memberships_for_user(user)
    full_name = user.get_full_name() or user.get_username()
    return Principal(
        kind=kind,
        id=id or str(user.pk),
        name=name or full_name,
        short_name=user.first_name or _role_word(memberships),
        departments=tuple(m.department.code for m in memberships),
        leads=tuple(
            m.department.code for m in memberships if m.role == Membership.Role.LEAD
        ),
    )


def principal_for_customer(*, customer_ref: str, name: str = "") -> Principal:
    return Principal(
        kind=ActorKind.CUSTOMER,
        id=customer_ref or "customer",
        name=name or "Customer",
        short_name=(name.split()[0] if name.strip() else "Customer"),
    )


def _role_word(memberships: list[Membership]) -> str:
    if not memberships:
        return "Staff"
    m = memberships[0]
    return f"{m.department.name} {m.get_role_display().lower()}"


def department_ref(code: str, *, field: str = "to_department") -> DepartmentRef:
    department = Department.objects.filter(code=str(code or "").upper()).first()
    if department is None:
        raise InvalidInput(
            f"There is no department {code!r}.", field=field, code="unknown_department"
        )
    return DepartmentRef(
        code=department.code,
        name=department.name,
        active=department.is_active,
        front_line=department.is_front_line,
        timezone=department.timezone,
    )


def agent_ref(agent_id: Any) -> AgentRef:
    user_model = get_user_model()
    try:
        user = user_model.objects.get(pk=int(agent_id), is_active=True)
    except (TypeError, ValueError, user_model.DoesNotExist):
        raise InvalidInput(
            f"There is no active user {agent_id!r}.",
            field="agent",
            code="unknown_agent",
        ) from None
    return AgentRef(
        id=str(user.pk),
        name=user.get_full_name() or user.get_username(),
        departments=frozenset(m.department.code for m in memberships_for_user(user)),
    )


def _front_line_for(principal: Principal, code: str | None) -> DepartmentRef:
    if code:
        return department_ref(code, field="department")
    front_lines = set(Department.objects.front_line().values_list("code", flat=True))
    for candidate in principal.departments:
        if candidate in front_lines:
            return department_ref(candidate, field="department")
    fallback = default_front_line()
    if fallback is None:
        raise InvalidInput(
            "Say which front-line department opens this ticket.",
            field="department",
            code="front_line_ambiguous",
        )
    return department_ref(fallback.code, field="department")


def _require_staff(principal: Principal) -> None:
    if (
        principal.kind in (ActorKind.USER, ActorKind.INTEGRATION)
        and not principal.departments
    ):
        raise NotPermitted(
            "You are not a member of any department, so you cannot work tickets."
        )


# ---------------------------------------------------------------------------
# Inline projection catch-up
# ---------------------------------------------------------------------------


def project_inline(result: CommandResult) -> None:
    """Catch the inline read models up to ``result`` so the caller reads
    its own write."""
    project_up_to(result.position)


def project_up_to(position: int) -> None:
    """Catch the inline projection groups up to log ``position``. The
    projector process is the guarantee; this is the convenience, so a
    failure here is logged rather than failing a command that is already
    stored (tests set BATON_INLINE_PROJECTION_ERRORS=raise)."""
    app = get_tickets_application()
    try:
        for group in settings.BATON_INLINE_PROJECTION_GROUPS:
            catch_up(app, projection_group(group), up_to=position)
    except Exception:
        if getattr(settings, "BATON_INLINE_PROJECTION_ERRORS", "log") == "raise":
            raise
        logger.exception("Inline projection catch-up failed at %s", position)


def _run(result: CommandResult) -> CommandResult:
    project_inline(result)
    return result


# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------


def ticket_open(
    *,
    principal: Principal,
    subject: str,
    customer_ref: str,
    channel: str,
    description: str = "",
    customer_name: str = "",
    customer_contact: str = "",
    customer_timezone: str = "UTC",
    external_ref: str = "",
    scenario: str = "",
    priority: str = "normal",
    department: str | None = None,
    ticket_id: UUID | None = None,
) -> CommandResult:
    """Open a ticket owned by the front line (the principal's own, the one
    named by ``department``, or the only one there is), and issue the
    customer's link: ``result.detail["customer_token"]`` (shown once;
    None when this is a replay of an open whose link was already issued)."""
    _require_staff(principal)
    front_line = _front_line_for(principal, department)
    result = _run(
        get_tickets_application().open_ticket(
            principal=principal,
            front_line=front_line,
            at=clock.now(),
            ticket_id=ticket_id,
            subject=subject,
            description=description,
            customer_ref=customer_ref,
            customer_name=customer_name,
            customer_contact=customer_contact,
            customer_timezone=customer_timezone,
            channel=channel,
            external_ref=external_ref,
            scenario=scenario,
            priority=priority,
        )
    )
    from tickets.customer import customer_link_issue
    from tickets.models import CustomerAccess

    if (
        result.replayed
        and not replaying_a_lost_answer()
        and CustomerAccess.objects.filter(ticket_id=result.ticket_id).exists()
    ):
        # A retry of an open that was answered: its link was shown once
        # then, and a new one would revoke it. (A retry whose first answer
        # was lost gets a new link: nobody has seen the first.)
        return dataclasses.replace(result, detail={"customer_token": None})
    token = customer_link_issue(ticket_id=result.ticket_id, issued_by=principal.name)
    return dataclasses.replace(result, detail={"customer_token": token})


def _require_link_keeper(principal: Principal, ticket_id: UUID) -> None:
    """Customer links are changed by the owning department or the front
    line, not by a department that merely handled the ticket once."""
    _require_staff(principal)
    ticket = get_tickets_application().get_ticket(ticket_id)
    if not {ticket.owner, ticket.front_line} & set(principal.departments):
        raise NotPermitted(
            f"Only {ticket.owner_name} or the front line may change the "
            "customer's link."
        )


def ticket_customer_link_issue(
    *, principal: Principal, ticket_id: UUID, expires_at: Any = None
) -> str:
    """Issue a new customer link for a ticket (the old one stops working);
    returns the token, shown once."""
    from tickets.customer import customer_link_issue

    _require_link_keeper(principal, ticket_id)
    return customer_link_issue(
        ticket_id=ticket_id, issued_by=principal.name, expires_at=expires_at
    )


def ticket_hand_off(
    *,
    principal: Principal,
    ticket_id: UUID,
    to_department: str,
    reason: str,
    expected_version: int | None = None,
) -> CommandResult:
    _require_staff(principal)
    return _run(
        get_tickets_application().hand_off_ticket(
            ticket_id,
            to=department_ref(to_department),
            reason=reason,
            principal=principal,
            at=clock.now(),
            expected_version=expected_version,
        )
    )


def ticket_respond(
    *,
    principal: Principal,
    ticket_id: UUID,
    body: str,
    expected_version: int | None = None,
) -> CommandResult:
    _require_staff(principal)
    return _run(
        get_tickets_application().respond_to_ticket(
            ticket_id,
            body=body,
            principal=principal,
            at=clock.now(),
            expected_version=expected_version,
        )
    )


def ticket_add_note(
    *,
    principal: Principal,
    ticket_id: UUID,
    body: str,
    expected_version: int | None = None,
) -> CommandResult:
    _require_staff(principal)
    return _run(
        get_tickets_application().add_note_to_ticket(
            ticket_id,
            body=body,
            principal=principal,
            at=clock.now(),
            expected_version=expected_version,
        )
    )


def ticket_record_customer_reply(
    *,
    principal: Principal,
    ticket_id: UUID,
    body: str,
    expected_version: int | None = None,
) -> CommandResult:
    return _run(
        get_tickets_application().record_customer_reply(
            ticket_id,
            body=body,
            principal=principal,
            at=clock.now(),
            expected_version=expected_version,
        )
    )


def ticket_wait_on_customer(
    *,
    principal: Principal,
    ticket_id: UUID,
    reason: str = "",
    expected_version: int | None = None,
) -> CommandResult:
    _require_staff(principal)
    return _run(
        get_tickets_application().wait_on_customer(
            ticket_id,
            reason=reason,
            principal=principal,
            at=clock.now(),
            expected_version=expected_version,
        )
    )


def ticket_end_waiting(
    *,
    principal: Principal,
    ticket_id: UUID,
    expected_version: int | None = None,
) -> CommandResult:
    _require_staff(principal)
    return _run(
        get_tickets_application().end_waiting(
            ticket_id,
            principal=principal,
            at=clock.now(),
            expected_version=expected_version,
        )
    )


def ticket_resolve(
    *,
    principal: Principal,
    ticket_id: UUID,
    resolution: str,
    root_cause: str,
    expected_version: int | None = None,
) -> CommandResult:
    _require_staff(principal)
    return _run(
        get_tickets_application().resolve_ticket(
            ticket_id,
            resolution=resolution,
            root_cause=root_cause,
            principal=principal,
            at=clock.now(),
            expected_version=expected_version,
        )
    )


def ticket_reopen(
    *,
    principal: Principal,
    ticket_id: UUID,
    reason: str,
    expected_version: int | None = None,
) -> CommandResult:
    # The reopened stint is counted in its department's timezone as it is
    # now (the aggregate knows the department, not its settings).
    timezones = dict(Department.objects.values_list("code", "timezone"))
    return _run(
        get_tickets_application().reopen_ticket(
            ticket_id,
            reason=reason,
            principal=principal,
            at=clock.now(),
            expected_version=expected_version,
            timezones=timezones,
        )
    )


def ticket_close(
    *,
    principal: Principal,
    ticket_id: UUID,
    expected_version: int | None = None,
) -> CommandResult:
    _require_staff(principal)
    return _run(
        get_tickets_application().close_ticket(
            ticket_id,
            principal=principal,
            at=clock.now(),
            expected_version=expected_version,
        )
    )


def ticket_change_priority(
    *,
    principal: Principal,
    ticket_id: UUID,
    priority: str,
    expected_version: int | None = None,
) -> CommandResult:
    _require_staff(principal)
    return _run(
        get_tickets_application().change_ticket_priority(
            ticket_id,
            priority=priority,
            principal=principal,
            at=clock.now(),
            expected_version=expected_version,
        )
    )


def ticket_change_scenario(
    *,
    principal: Principal,
    ticket_id: UUID,
    scenario: str,
    expected_version: int | None = None,
) -> CommandResult:
    _require_staff(principal)
    return _run(
        get_tickets_application().change_ticket_scenario(
            ticket_id,
            scenario=scenario,
            principal=principal,
            at=clock.now(),
            expected_version=expected_version,
        )
    )


def ticket_assign(
    *,
    principal: Principal,
    ticket_id: UUID,
    agent_id: Any,
    expected_version: int | None = None,
) -> CommandResult:
    _require_staff(principal)
    return _run(
        get_tickets_application().assign_ticket(
            ticket_id,
            agent=agent_ref(agent_id),
            principal=principal,
            at=clock.now(),
            expected_version=expected_version,
        )
    )


def ticket_rate_handoff(
    *,
    principal: Principal,
    ticket_id: UUID,
    handoff_id: UUID,
    score: Any,
    comment: str = "",
    expected_version: int | None = None,
) -> CommandResult:
    """Record the customer's rating of one finished handoff."""
    return _run(
        get_tickets_application().rate_handoff(
            ticket_id,
            handoff_id=handoff_id,
            score=score,
            comment=comment,
            principal=principal,
            at=clock.now(),
            expected_version=expected_version,
        )
    )


def ticket_rate_experience(
    *,
    principal: Principal,
    ticket_id: UUID,
    score: Any,
    comment: str = "",
    expected_version: int | None = None,
) -> CommandResult:
    """Record the customer's rating of the whole ticket."""
    return _run(
        get_tickets_application().rate_experience(
            ticket_id,
            score=score,
            comment=comment,
            principal=principal,
            at=clock.now(),
            expected_version=expected_version,
        )
    )


def ticket_dispute(
    *,
    principal: Principal,
    ticket_id: UUID,
    handoff_id: UUID,
    subject: str,
    reason: str,
    expected_version: int | None = None,
) -> CommandResult:
    """Dispute a handoff's breach or rating (the department judged or the
    front line); ``result.detail`` is the dispute id."""
    _require_staff(principal)
    return _run(
        get_tickets_application().dispute(
            ticket_id,
            handoff_id=handoff_id,
            subject=subject,
            reason=reason,
            principal=principal,
            at=clock.now(),
            expected_version=expected_version,
        )
    )


def ticket_dispute_decide(
    *,
    principal: Principal,
    ticket_id: UUID,
    dispute_id: UUID,
    decision: str,
    reason: str,
    expected_version: int | None = None,
) -> CommandResult:
    """Accept or waive a dispute; a lead of the ticket's front line only."""
    _require_staff(principal)
    return _run(
        get_tickets_application().decide_dispute(
            ticket_id,
            dispute_id=dispute_id,
            decision=decision,
            reason=reason,
            principal=principal,
            at=clock.now(),
            expected_version=expected_version,
        )
    )


def ticket_customer_link_revoke(*, principal: Principal, ticket_id: UUID) -> int:
    """Revoke the customer's link; the owner or the front line only."""
    from tickets.customer import customer_link_revoke

    _require_link_keeper(principal, ticket_id)
    return customer_link_revoke(ticket_id=ticket_id)
