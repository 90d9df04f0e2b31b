"""Read models of the ticket event log, and projection tracking.

Only projections write these tables; every row can be rebuilt from the
event log (``manage.py rebuild_projections``). Foreign keys to tickets are
declared without database constraints so rebuilds can bulk-insert in any
order.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProjectionTracking(models.Model):
    """How far one projection has processed one upstream event log.

    The row is updated in the same transaction as the projection's rows,
    and locked (SELECT ... FOR UPDATE) while a batch is processed, which
    makes processing exactly-once and serialises the projector process with
    inline catch-up in web requests.
    """

    projection = models.CharField(max_length=100)
    application = models.CharField(max_length=100)
    position = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("projection position")
        verbose_name_plural = _("projection positions")
        constraints = [
            models.UniqueConstraint(
                fields=["projection", "application"],
                name="unique_tracking_per_projection_and_application",
            )
        ]

    def __str__(self) -> str:
        return f"{self.projection}@{self.application}: {self.position}"


class TicketSummary(models.Model):
    """One row per ticket: its current state, for queues and lists."""

    ticket_id = models.UUIDField(primary_key=True)
    subject = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    customer_ref = models.CharField(max_length=200, db_index=True)
    customer_name = models.CharField(max_length=200, blank=True)
    customer_contact = models.CharField(max_length=200, blank=True)
    customer_timezone = models.CharField(max_length=64, default="UTC")
    #: The customer's language (a code of settings.LANGUAGES), chosen when
    #: the ticket was opened; blank: the settings' default.
    language = models.CharField(max_length=16, blank=True, default="")
    channel = models.CharField(_("channel"), max_length=16)
    external_ref = models.CharField(max_length=128, blank=True, db_index=True)
    scenario = models.CharField(max_length=64, blank=True, db_index=True)
    priority = models.CharField(_("priority"), max_length=8)
    status = models.CharField(_("status"), max_length=10)
    front_line = models.CharField(max_length=16)
    owner = models.CharField(_("owning department"), max_length=16)
    owner_name = models.CharField(max_length=100)
    owner_since = models.DateTimeField()
    current_stint_id = models.UUIDField(null=True, blank=True)
    assignee_id = models.CharField(max_length=64, blank=True)
    assignee_name = models.CharField(max_length=200, blank=True)
    handoff_count = models.PositiveIntegerField(default=0)
    reopen_count = models.PositiveIntegerField(default=0)
    opened_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    experience_score = models.PositiveSmallIntegerField(null=True, blank=True)
    experience_comment = models.TextField(blank=True)
    last_public_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The current stint's last public activity: its start, a "
        "reply to or from the customer (what a stall counts from).",
    )
    stalled_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the current stint's quiet period passed its "
        "department's limit (a recorded stall); cleared by public activity.",
    )
    waiting_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the ticket started waiting on the customer (what "
        "abandonment counts from).",
    )
    version = models.PositiveIntegerField()
    position = models.BigIntegerField(help_text="Log position of the last event.")

    class Meta:
        ordering = ["-updated_at"]
        verbose_name_plural = "ticket summaries"
        indexes = [
            models.Index(fields=["owner", "status"], name="ticket_owner_status"),
            models.Index(fields=["status", "updated_at"], name="ticket_status_updated"),
            models.Index(fields=["updated_at"], name="ticket_updated"),
            models.Index(
                fields=["status", "last_public_at"], name="ticket_status_quiet"
            ),
            models.Index(
                fields=["status", "waiting_since"], name="ticket_status_waiting"
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class Handoff(models.Model):
    """One row per department stint: from opening or a handoff (or a
    reopen) until the department hands the ticket on or resolves it."""

    class Kind(models.TextChoices):
        OPENED = "opened", "Opened"
        HANDOFF = "handoff", "Handoff"
        REOPEN = "reopen", "Reopen"

    class Outcome(models.TextChoices):
        RESPONDED = "responded", "Responded"
        HANDED_ON = "handed_on", "Handed on"
        RESOLVED = "resolved", "Resolved"
        ABANDONED = "abandoned", "Abandoned by the customer"

    id = models.UUIDField(primary_key=True)
    ticket = models.ForeignKey(
        TicketSummary,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="handoffs",
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    from_department = models.CharField(max_length=16, blank=True)
    department = models.CharField(_("department"), max_length=16, db_index=True)
    department_name = models.CharField(max_length=100)
    reason = models.TextField(
        blank=True, help_text="Internal: never shown to customers."
    )
    started_at = models.DateTimeField()
    started_position = models.BigIntegerField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=Outcome.choices, blank=True
    )
    outcome_at = models.DateTimeField(null=True, blank=True)
    outcome_position = models.BigIntegerField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_position = models.BigIntegerField(null=True, blank=True)
    agent_id = models.CharField(max_length=64, blank=True)
    agent_name = models.CharField(max_length=200, blank=True)
    rating_score = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_comment = models.TextField(blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    rating_position = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["ticket_id", "started_position"]
        indexes = [
            models.Index(
                fields=["department", "started_at"], name="handoff_dept_started"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department} from {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_finished(self) -> bool:
        return self.ended_at is not None


class TimelineEntry(models.Model):
    """One row per ticket event, in plain language.

    ``audience`` says who may see it: customer entries are written so they
    can be shown to the customer as they are (department names and first
    names, no internal reasons); ``internal_detail`` is for staff only.
    """

    class Audience(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        INTERNAL = "internal", "Internal"

    ticket = models.ForeignKey(
        TicketSummary,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="timeline",
    )
    position = models.BigIntegerField(unique=True)
    version = models.PositiveIntegerField()
    occurred_at = models.DateTimeField()
    event_type = models.CharField(max_length=40)
    audience = models.CharField(max_length=8, choices=Audience.choices)
    actor_kind = models.CharField(max_length=12)
    actor_id = models.CharField(max_length=64)
    actor_name = models.CharField(max_length=200, blank=True)
    actor_short_name = models.CharField(max_length=100, blank=True)
    actor_department = models.CharField(max_length=16, blank=True)
    department = models.CharField(max_length=16, blank=True)
    stint_id = models.UUIDField(null=True, blank=True)
    text = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    internal_detail = models.TextField(blank=True)

    class Meta:
        ordering = ["ticket_id", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "version"], name="unique_timeline_version"
            )
        ]

    def __str__(self) -> str:
        return self.text


class QueueTicket(TicketSummary):
    """A department's work queue in the admin (same rows, other view)."""

    class Meta:
        proxy = True
        verbose_name = _("ticket in a queue")
        verbose_name_plural = _("work queue")
        permissions = [
            ("work_tickets", "Can work tickets: reply, hand off, resolve...")
        ]
