"""Writes for the SLA app: new calendar and policy versions, the sweep that
records warnings and breaches, and notification delivery."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Max, Q

from departments.models import Department, Membership
from sla.models import (
    Calendar,
    CalendarVersion,
    SLANotification,
    SLAPolicy,
    SLAPolicyVersion,
)
from sla.terms import versions_changed
from tickets import clock
from tickets.application import CommandResult, get_tickets_application
from tickets.domain import (
    ClockNotDue,
    ConcurrencyConflict,
    SLAAlreadyRecorded,
    TicketError,
)
from tickets.models import SLAClock, TicketSummary
from tickets.services import project_up_to
from tickets.sla_clocks import AT_RISK, BREACHED, clock_state_conditions

logger = logging.getLogger(__name__)

#: How long a sender's claim on an SLA notification it is emailing holds.
NOTIFICATION_LEASE = timedelta(minutes=5)


# ---------------------------------------------------------------------------
# Versions
# ---------------------------------------------------------------------------


def _next_version(
    parent_model: type[Any],
    version_model: type[Any],
    parent_field: str,
    *,
    department: Department,
    effective_from: datetime | None,
    created_by: Any,
    fields: dict[str, Any],
) -> Any:
    """Append the next numbered, validated version under the department's
    parent row (created on first use). The parent row is locked so two
    editors cannot take the same number."""
    parent, _ = parent_model.objects.get_or_create(department=department)
    parent_model.objects.select_for_update().get(pk=parent.pk)
    last = parent.versions.aggregate(v=Max("version"))["v"] or 0
    version = version_model(
        **{parent_field: parent},
        version=last + 1,
        effective_from=effective_from or clock.now(),
        created_by=created_by,
        **fields,
    )
    version.full_clean()
    version.save()
    # Now for this transaction's own clocks, and again once committed for
    # every other process's.
    versions_changed()
    transaction.on_commit(versions_changed)
    return version


@transaction.atomic
def calendar_version_create(
    *,
    department: Department,
    effective_from: datetime | None = None,
    created_by: Any = None,
    **fields: Any,
) -> CalendarVersion:
    """Add the next calendar version for ``department`` (its timezone by
    default). Running and past clocks keep the version they started with."""
    version: CalendarVersion = _next_version(
        Calendar,
        CalendarVersion,
        "calendar",
        department=department,
        effective_from=effective_from,
        created_by=created_by,
        fields={"timezone": department.timezone, **fields},
    )
    return version


@transaction.atomic
def policy_version_create(
    *,
    department: Department,
    effective_from: datetime | None = None,
    created_by: Any = None,
    **fields: Any,
) -> SLAPolicyVersion:
    """Add the next policy version for ``department``. Running and past
    clocks keep the targets they started with."""
    version: SLAPolicyVersion = _next_version(
        SLAPolicy,
        SLAPolicyVersion,
        "policy",
        department=department,
        effective_from=effective_from,
        created_by=created_by,
        fields=fields,
    )
    return version


# ---------------------------------------------------------------------------
# Sweep
# ---------------------------------------------------------------------------


@dataclass
class SweepResult:
    warnings: int = 0
    breaches: int = 0
    skipped: int = 0
    positions: list[int] = field(default_factory=list)


def _record(
    command: Callable[..., CommandResult],
    ticket_id: UUID,
    clock_id: UUID,
    at: datetime | None,
    result: SweepResult,
) -> bool:
    """Run one sweep command; a duplicate (another sweep was first, or the
    clock stopped meanwhile) is skipped, a version conflict is retried on
    fresh state. Idempotent."""
    for _ in range(3):
        try:
            outcome = command(ticket_id, clock_id=clock_id, at=at or clock.now())
        except (SLAAlreadyRecorded, ClockNotDue):
            result.skipped += 1
            return False
        except ConcurrencyConflict:
            continue
        except TicketError as error:
            # An orphan or damaged read-model row must not block the sweep.
            logger.warning(
                "Sweep skipped clock %s of %s: %s", clock_id, ticket_id, error
            )
            result.skipped += 1
            return False
        result.positions.append(outcome.position)
        return True
    result.skipped += 1
    return False


def sla_sweep(*, now: datetime | None = None, limit: int = 1000) -> SweepResult:
    """Record a breach for every clock breached but not yet recorded, and a
    warning for every clock at risk not yet warned (the states of
    ``tickets.sla_clocks``; one indexed range query each). Safe to run
    concurrently and to retry: the aggregate accepts at most one warning
    and one breach per clock."""
    at = now or clock.now()
    # Each command is stamped when it runs (unless ``now`` is given), so a
    # long sweep never writes an event older than the ticket's last one.
    stamp = now
    app = get_tickets_application()
    result = SweepResult()
    states = clock_state_conditions(at)
    due = list(
        SLAClock.objects.filter(states[BREACHED], breach_recorded=False)
        .order_by("due_at")
        .values_list("ticket_id", "id")[:limit]
    )
    for ticket_id, clock_id in due:
        if _record(app.record_sla_breach, ticket_id, clock_id, stamp, result):
            result.breaches += 1
    breached = {clock_id for _, clock_id in due}
    warn = (
        # Already due is a breach, not a warning: at risk excludes it.
        SLAClock.objects.filter(states[AT_RISK], warning_recorded=False)
        .order_by("warn_at")
        .values_list("ticket_id", "id")[:limit]
    )
    for ticket_id, clock_id in warn:
        if clock_id in breached:
            continue
        if _record(app.record_sla_warning, ticket_id, clock_id, stamp, result):
            result.warnings += 1
    if result.positions:
        project_up_to(max(result.positions))
    return result


# ---------------------------------------------------------------------------
# Notifications
# ---------------------------------------------------------------------------


def _recipients(department: str) -> list[str]:
    emails = set(
        Membership.objects.filter(department__code=department, user__is_active=True)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    shared = (
        Department.objects.filter(code=department)
        .values_list("email", flat=True)
        .first()
    )
    if shared:
        emails.add(shared)
    return sorted(emails)


def notification_send(*, position: int) -> bool:
    """Email the department about one warning or breach, at most once per
    successful send. Returns False when it was already sent or cannot be
    sent (no recipients: recorded on the row). A mail failure is recorded
    on the row and raised; the sweep re-sends unsent rows.

    The row is claimed, the mail sent and the outcome saved in separate
    short steps: no database transaction is held across the SMTP call. Of
    two senders (the task enqueued by the projection and the sweep's
    safety net, on two workers) only the one that claims the row sends; a
    claim older than NOTIFICATION_LEASE is a sender that died mid-send.
    """
    now = clock.now()
    claimed = (
        SLANotification.objects.filter(position=position, sent_at__isnull=True)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - NOTIFICATION_LEASE))
        .update(claimed_at=now)
    )
    if not claimed:
        return False
    row = SLANotification.objects.get(position=position)
    ticket = TicketSummary.objects.filter(pk=row.ticket_id).first()
    subject_line = ticket.subject if ticket else str(row.ticket_id)
    what = (
        "breached its SLA" if row.kind == SLANotification.Kind.BREACH else "is at risk"
    )
    recipients = _recipients(row.department)
    attempts = row.attempts + 1
    if not recipients:
        SLANotification.objects.filter(pk=row.pk).update(
            attempts=attempts,
            claimed_at=None,
            sent_at=clock.now(),
            last_error="Not sent: the department has no email address and no "
            "member has one.",
        )
        return False
    try:
        send_mail(
            subject=f"[Baton] {row.department}: ticket {what}: {subject_line}"[:200],
            message=(
                f"Ticket: {subject_line}\n"
                f"Ticket id: {row.ticket_id}\n"
                f"Department: {row.department}\n"
                f"Due: {row.due_at:%Y-%m-%d %H:%M} UTC\n"
                f"Recorded: {row.occurred_at:%Y-%m-%d %H:%M} UTC\n"
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=recipients,
        )
    except Exception as error:
        SLANotification.objects.filter(pk=row.pk).update(
            attempts=attempts,
            claimed_at=None,
            last_error=f"{type(error).__name__}: {error}"[:2000],
        )
        raise
    return bool(
        SLANotification.objects.filter(pk=row.pk, sent_at__isnull=True).update(
            attempts=attempts,
            claimed_at=None,
            recipients=", ".join(recipients),
            sent_at=clock.now(),
            last_error="",
        )
    )


def notifications_send_pending(*, limit: int = 200) -> int:
    """Send outbox rows still unsent (safety net for lost enqueues)."""
    sent = 0
    for position in (
        SLANotification.objects.filter(sent_at__isnull=True)
        .order_by("position")
        .values_list("position", flat=True)[:limit]
    ):
        try:
            sent += notification_send(position=position)
        except Exception:
            logger.exception("Sending SLA notification %s failed", position)
    return sent
