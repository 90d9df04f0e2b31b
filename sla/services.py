"""Writes for the SLA app: new calendar and policy versions, the sweep that
records warnings and breaches, and notification delivery."""

from __future__ import annotations

import functools
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
from django.utils import translation
from django.utils.translation import gettext

from departments.models import Department
from sla.models import (
    Calendar,
    CalendarVersion,
    SLANotification,
    SLAPolicy,
    SLAPolicyVersion,
)
from sla.terms import PolicySLAPort, versions_changed
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
    stalls: int = 0
    abandoned: int = 0
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
    and one breach per clock.

    It also records a stall for every open stint quiet (no public
    activity) past its department's ``stall_after`` in business time, and
    closes as abandoned every ticket waiting on the customer past its
    department's ``abandon_after``: once each, by the aggregate's rules."""
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
    _sweep_stalls(at, stamp, limit, result)
    _sweep_abandoned(at, stamp, limit, result)
    if result.positions:
        project_up_to(max(result.positions))
    return result


def _attempt(
    command: Callable[..., CommandResult],
    stamp: datetime | None,
    result: SweepResult,
    what: str,
) -> bool:
    """Run one journey command (a stall, an abandonment) like ``_record``:
    a refusal (another sweep was first, the customer answered, a reply
    came meanwhile) is skipped, a version conflict retried."""
    for _ in range(3):
        try:
            outcome = command(at=stamp or clock.now())
        except ConcurrencyConflict:
            continue
        except TicketError as error:
            logger.debug("Sweep skipped %s: %s", what, error)
            result.skipped += 1
            return False
        result.positions.append(outcome.position)
        return True
    result.skipped += 1
    return False


def _journey_port() -> PolicySLAPort:
    port = get_tickets_application().sla
    return port if isinstance(port, PolicySLAPort) else PolicySLAPort()


def _shortest(port: PolicySLAPort, limit: str) -> dict[str, timedelta]:
    """Per department, the shortest ``limit`` (``stall_after`` or
    ``abandon_after``) any of its policy versions sets: no ticket can pass
    its limit sooner, so older rows are all the candidates."""
    found: dict[str, timedelta] = {}
    for department, versions in port.versions().policies.items():
        values = [v for row in versions if (v := getattr(row, limit)) is not None]
        if values:
            found[department] = min(values)
    return found


def _sweep_stalls(
    at: datetime, stamp: datetime | None, limit: int, result: SweepResult
) -> None:
    """Record a stall for open stints quiet past their department's limit
    (business time since the last public activity, on the calendar and
    policy in force when the quiet period began)."""
    port = _journey_port()
    shortest = _shortest(port, "stall_after")
    if not shortest:
        return
    quiet = Q()
    for department, least in shortest.items():
        # Business time never runs faster than calendar time.
        quiet |= Q(owner=department, last_public_at__lte=at - least)
    candidates = (
        TicketSummary.objects.filter(quiet, status="open", stalled_at__isnull=True)
        .exclude(current_stint_id=None)
        .order_by("last_public_at")
        .values_list("ticket_id", "owner", "current_stint_id", "last_public_at")
    )[:limit]
    app = get_tickets_application()
    for ticket_id, owner, stint_id, quiet_since in candidates:
        if stint_id is None or quiet_since is None:
            continue
        terms = port.stall_at(owner, quiet_since)
        if terms is None or terms.stalled_at > at:
            continue
        stall = functools.partial(
            app.record_stall,
            ticket_id,
            stint_id=stint_id,
            quiet_since=quiet_since,
            stalled_at=terms.stalled_at,
            stall_after_seconds=terms.stall_after_seconds,
        )
        if _attempt(stall, stamp, result, f"stall of {ticket_id}"):
            result.stalls += 1


def _sweep_abandoned(
    at: datetime, stamp: datetime | None, limit: int, result: SweepResult
) -> None:
    """Close as abandoned the tickets waiting on the customer longer (in
    calendar time) than their department's ``abandon_after``."""
    port = _journey_port()
    shortest = _shortest(port, "abandon_after")
    if not shortest:
        return
    waited = Q()
    for department, least in shortest.items():
        waited |= Q(owner=department, waiting_since__lte=at - least)
    candidates = (
        TicketSummary.objects.filter(waited, status="waiting")
        .order_by("waiting_since")
        .values_list("ticket_id", "owner", "waiting_since")
    )[:limit]
    app = get_tickets_application()
    for ticket_id, owner, waiting_since in candidates:
        if waiting_since is None:
            continue
        allowed = port.abandon_after(owner, waiting_since)
        if allowed is None or waiting_since + allowed > at:
            continue
        abandon = functools.partial(app.abandon, ticket_id)
        if _attempt(abandon, stamp, result, f"abandonment of {ticket_id}"):
            result.abandoned += 1


# ---------------------------------------------------------------------------
# Notifications
# ---------------------------------------------------------------------------


def _recipients(department: str) -> dict[str, list[str]]:
    """The department's mailbox and its members who keep SLA alerts on
    (``NotificationSettings.sla_alert``), by the language they read (each
    member's "My settings" choice; the mailbox: ``LANGUAGE_CODE``)."""
    from tickets.mail.notifications import department_members_wanting
    from tickets.mail.render import staff_languages

    members = department_members_wanting(department, "sla_alert")
    spoken = staff_languages(r.user_id for r in members)
    by_language: dict[str, set[str]] = {}
    for member in members:
        language = (
            spoken.get(member.user_id, settings.LANGUAGE_CODE)
            if member.user_id is not None
            else settings.LANGUAGE_CODE
        )
        by_language.setdefault(language, set()).add(member.address)
    shared = (
        Department.objects.filter(code=department)
        .values_list("email", flat=True)
        .first()
    )
    if shared:
        by_language.setdefault(settings.LANGUAGE_CODE, set()).add(shared)
    return {language: sorted(emails) for language, emails in by_language.items()}


def _alert_text(
    row: SLANotification, subject_line: str, language: str
) -> tuple[str, str]:
    """The alert's subject and text in ``language``: times in the
    department's timezone (named) and UTC, and the link to the ticket page."""
    from tickets.mail.render import local_time, one_line, staff_ticket_url

    timezone_name = (
        Department.objects.filter(code=row.department)
        .values_list("timezone", flat=True)
        .first()
    ) or "UTC"
    with translation.override(language):
        if row.kind == SLANotification.Kind.BREACH:
            subject = gettext(
                "[Baton] %(department)s: ticket breached its SLA: %(ticket)s"
            )
        elif row.kind == SLANotification.Kind.STALLED:
            subject = gettext(
                "[Baton] %(department)s: ticket stalled, no public activity: %(ticket)s"
            )
        else:
            subject = gettext("[Baton] %(department)s: ticket is at risk: %(ticket)s")
        subject = subject % {"department": row.department, "ticket": subject_line}
        lines = [
            gettext("Ticket: %(ticket)s") % {"ticket": subject_line},
            gettext("Ticket id: %(id)s") % {"id": row.ticket_id},
            gettext("Department: %(department)s") % {"department": row.department},
            (
                gettext("Stalled at: %(local)s, %(utc)s UTC")
                if row.kind == SLANotification.Kind.STALLED
                else gettext("Due: %(local)s, %(utc)s UTC")
            )
            % {
                "local": local_time(row.due_at, timezone_name),
                "utc": f"{row.due_at:%Y-%m-%d %H:%M}",
            },
            gettext("Recorded: %(local)s, %(utc)s UTC")
            % {
                "local": local_time(row.occurred_at, timezone_name),
                "utc": f"{row.occurred_at:%Y-%m-%d %H:%M}",
            },
            "",
            gettext("Open the ticket: %(url)s")
            % {"url": staff_ticket_url(row.ticket_id)},
        ]
    return one_line(subject), "\n".join(lines) + "\n"


def notification_send(*, position: int) -> bool:
    """Email the department about one warning or breach, at most once per
    successful send. Returns False when it was already sent or cannot be
    sent (no recipients: recorded on the row). A mail failure is recorded
    on the row and raised; the sweep re-sends unsent rows.

    The row is claimed, the mail sent and the outcome saved in separate
    short steps: no database transaction is held across the SMTP call. Of
    two senders (the task enqueued by the projection and the sweep's
    safety net, on two workers) only the one that claims the row sends; a
    claim older than the lease (longer than a send can take with the SMTP
    timeout, as for notification emails) is a sender that died mid-send.
    """
    from tickets.mail.notifications import lease, mail_connection

    now = clock.now()
    claimed = (
        SLANotification.objects.filter(position=position, sent_at__isnull=True)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - lease()))
        .update(claimed_at=now)
    )
    if not claimed:
        return False
    row = SLANotification.objects.get(position=position)
    ticket = TicketSummary.objects.filter(pk=row.ticket_id).first()
    subject_line = ticket.subject if ticket else str(row.ticket_id)
    groups = _recipients(row.department)
    recipients = sorted(a for addresses in groups.values() for a in addresses)
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
        # One email per language read (usually one); a failure part-way
        # sends the languages already done again on the retry.
        for language, addresses in sorted(groups.items()):
            subject, text = _alert_text(row, subject_line, language)
            send_mail(
                subject=subject,
                message=text,
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=addresses,
                connection=mail_connection(),
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
