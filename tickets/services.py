"""The only way interfaces (API, admin, tasks, commands) change tickets.

Each command on a ticket is an entry of the command table
(``tickets.commands``); ``ticket_command`` runs any of them: it checks who
may, resolves references (departments, agents), runs the entry through
``TicketsApplication.run_command`` with the current time, then catches the
core read models up to the write so the caller sees its own change at once.
``ticket_<command>`` is the same with the name filled in.
Rule violations surface as ``tickets.domain.TicketError`` subclasses with a
stable ``code``; a concurrent change surfaces as ``ConcurrencyConflict``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, Protocol
from uuid import UUID

from django.conf import settings

from departments.models import Department, Membership
from departments.selectors import default_front_line, memberships_for_user
from tickets import attachments, clock
from tickets.application import (
    CommandResult,
    get_tickets_application,
    replaying_a_lost_answer,
)
from tickets.commands import COMMANDS, Who

# Re-exported: how department codes and agent ids are resolved.
from tickets.commands.references import agent_ref as agent_ref
from tickets.commands.references import department_ref as department_ref
from tickets.commands.references import scenario_code as scenario_code
from tickets.domain import (
    ActorKind,
    DepartmentRef,
    InvalidInput,
    NotPermitted,
    Principal,
)
from tickets.languages import ticket_language
from tickets.projection_runner import catch_up, project_to, projection_group

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
    """The principal for a ticket's customer (its reference and name)."""
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


_answer_early: ContextVar[bool] = ContextVar("baton_answer_early", default=False)


@contextlib.contextmanager
def answering_early() -> Iterator[None]:
    """Commands in the block do not wait past the inline projection's
    budget: an interface that can answer "stored, not shown yet" (the JSON
    API's 202 with ``Location``) uses it. Elsewhere (the admin, the
    customer's page and API, tasks) a command then waits its turn for the
    projections' lock, so what it shows next always has the write."""
    token = _answer_early.set(True)
    try:
        yield
    finally:
        _answer_early.reset(token)


def project_inline(result: CommandResult) -> None:
    """Catch the inline read models up to ``result`` so the caller reads
    its own write (see ``project_up_to``)."""
    project_up_to(result.position)


def project_up_to(position: int) -> None:
    """Make sure the inline projection groups have processed log
    ``position``: project it here unless someone (the projector, another
    request) is already projecting, then wait for them, at most
    ``BATON_INLINE_PROJECTION_TIMEOUT`` seconds. Past that, leave it to the
    projector inside ``answering_early`` (the caller compares versions),
    else queue for the lock and project it. The projector process is the
    guarantee; this is the convenience, so a failure here is logged rather
    than failing a command that is already stored (tests set
    BATON_INLINE_PROJECTION_ERRORS=raise)."""
    app = get_tickets_application()
    deadline = time.monotonic() + settings.BATON_INLINE_PROJECTION_TIMEOUT
    try:
        for group in settings.BATON_INLINE_PROJECTION_GROUPS:
            projections = projection_group(group)
            timeout = max(deadline - time.monotonic(), 0.0)
            reached = project_to(app, projections, position, timeout=timeout)
            if not reached and not _answer_early.get():
                catch_up(app, projections, up_to=position)
    except Exception:
        if getattr(settings, "BATON_INLINE_PROJECTION_ERRORS", "log") == "raise":
            raise
        logger.exception("Inline projection catch-up failed at %s", position)


def _claim(
    ids: list[UUID] | None,
    principal: Principal,
    ticket_id: UUID | None,
    run: Callable[[list[dict[str, Any]]], CommandResult],
) -> CommandResult:
    """Run a command (``run``, given its files' event records) with the
    caller's pending uploads ``ids``, reserved for it meanwhile: kept for
    its event once stored, released if it is refused or was a replay (its
    event, stored before, has its own files)."""
    reservation = attachments.claim(
        ids or (),
        uploader=attachments.uploader_key(principal, ticket_id),
        ticket_id=ticket_id,
    )
    try:
        result = run(reservation.records)
    except BaseException:
        reservation.release()
        raise
    if result.replayed:
        reservation.release()
    else:
        reservation.keep(result.ticket_id)
    return result


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
    attachments: list[UUID] | None = None,
    language: str = "",
) -> CommandResult:
    """Open a ticket owned by the front line (the principal's own, the one
    named by ``department``, or the only one there is), and issue the
    customer's link: ``result.detail["customer_token"]`` (shown once;
    None when this is a replay of an open whose link was already issued).
    ``language`` is the customer's (``tickets.languages``)."""
    _require_staff(principal)
    language = ticket_language(language)
    front_line = _front_line_for(principal, department)
    result = _run(
        _claim(
            attachments,
            principal,
            None,
            lambda files: get_tickets_application().open_ticket(
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
                scenario=scenario_code(scenario),
                priority=priority,
                attachments=files,
                language=language,
            ),
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


class CommandService(Protocol):
    """A command's service: ``ticket_command`` with its name filled in."""

    def __call__(
        self,
        *,
        principal: Principal,
        ticket_id: UUID,
        expected_version: int | None = None,
        **inputs: Any,
    ) -> CommandResult: ...


def ticket_command(
    name: str,
    *,
    principal: Principal,
    ticket_id: UUID,
    expected_version: int | None = None,
    **inputs: Any,
) -> CommandResult:
    """Run the command table's ``name`` on a ticket: check who may, resolve
    the inputs (department codes, agent ids), run it at the current time,
    and catch the inline read models up. ``inputs`` are the command's input
    fields (``tickets.commands``), already validated by the interface."""
    command = COMMANDS[name]
    if command.who == Who.STAFF:
        _require_staff(principal)

    def run(files: list[dict[str, Any]]) -> CommandResult:
        if "attachments" in inputs:
            inputs["attachments"] = files
        return get_tickets_application().run_command(
            ticket_id,
            command.call,
            principal=principal,
            at=clock.now(),
            expected_version=expected_version,
            **command.resolved(inputs),
        )

    return _run(_claim(inputs.get("attachments"), principal, ticket_id, run))


def command_service(name: str) -> CommandService:
    """The service of the command table's ``name``."""
    command = COMMANDS[name]  # a misspelt name fails at import

    def service(
        *,
        principal: Principal,
        ticket_id: UUID,
        expected_version: int | None = None,
        **inputs: Any,
    ) -> CommandResult:
        return ticket_command(
            name,
            principal=principal,
            ticket_id=ticket_id,
            expected_version=expected_version,
            **inputs,
        )

    service.__doc__ = command.summary
    return service


ticket_hand_off = command_service("hand_off")
ticket_respond = command_service("respond")
ticket_add_note = command_service("add_note")
ticket_record_customer_reply = command_service("customer_reply")
ticket_wait_on_customer = command_service("wait")
ticket_end_waiting = command_service("end_waiting")
ticket_resolve = command_service("resolve")
ticket_reopen = command_service("reopen")
ticket_close = command_service("close")
ticket_change_priority = command_service("change_priority")
ticket_change_scenario = command_service("change_scenario")
ticket_assign = command_service("assign")
#: Give a ``handoff_id`` to rate that handoff; without one, the ticket.
ticket_rate_handoff = ticket_rate_experience = command_service("rate")
#: ``result.detail`` is the new dispute's id.
ticket_dispute = command_service("dispute")
ticket_dispute_decide = command_service("decide_dispute")
#: The service team's steps on a low rating's follow-up.
ticket_follow_up_assign = command_service("follow_up_assign")
ticket_follow_up_note = command_service("follow_up_note")
ticket_follow_up_contact = command_service("follow_up_contact")
ticket_follow_up_close = command_service("follow_up_close")
ticket_follow_up_reopen = command_service("follow_up_reopen")


def ticket_customer_link_revoke(*, principal: Principal, ticket_id: UUID) -> int:
    """Revoke the customer's link; the owner or the front line only."""
    from tickets.customer import customer_link_revoke

    _require_link_keeper(principal, ticket_id)
    return customer_link_revoke(ticket_id=ticket_id)
