"""The SLA clock read model: one row per response or resolution clock,
maintained by ``tickets.projections.SLAClockProjection`` from the ticket's
clock events only. Where a clock stands at an instant (on track, at risk,
breached...) is decided in one place, :mod:`tickets.sla_clocks`."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tickets.models.read_models import Handoff, TicketSummary


class SLAClock(models.Model):
    """One row per clock: a stint's response (or ownership) clock, or the
    ticket-level resolution clock (no handoff). Maintained by
    ``SLAClockProjection`` from the ticket events only."""

    class Kind(models.TextChoices):
        RESPONSE = "response", "Response"
        RESOLUTION = "resolution", "Resolution"

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        MET = "met", "Met"
        BREACHED = "breached", "Breached"
        BREACHED_RUNNING = "breached_running", "Breached, still running"

    id = models.UUIDField(primary_key=True)
    ticket = models.ForeignKey(
        TicketSummary,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="clocks",
    )
    handoff = models.ForeignKey(
        Handoff,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="clocks",
    )
    department = models.CharField(_("department"), max_length=16)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    state = models.CharField(_("state"), max_length=16, choices=State.choices)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    warn_at = models.DateTimeField()
    target_seconds = models.FloatField()
    paused_seconds = models.FloatField(default=0)
    paused_since = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, blank=True)
    business_seconds_used = models.FloatField(null=True, blank=True)
    warning_recorded = models.BooleanField(default=False)
    warning_position = models.BigIntegerField(null=True, blank=True)
    breach_recorded = models.BooleanField(default=False)
    breach_position = models.BigIntegerField(null=True, blank=True)
    policy_version = models.PositiveIntegerField()
    calendar_version = models.PositiveIntegerField()
    pauses_on_waiting = models.BooleanField(default=True)
    started_position = models.BigIntegerField()
    stopped_position = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        verbose_name = "SLA clock"
        indexes = [
            models.Index(fields=["state", "due_at"], name="slaclock_state_due"),
            models.Index(
                fields=["state", "warning_recorded", "warn_at"],
                name="slaclock_state_warn",
            ),
            models.Index(fields=["department", "state"], name="slaclock_dept_state"),
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.kind} clock due {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def is_running(self) -> bool:
        return self.state in (self.State.RUNNING, self.State.BREACHED_RUNNING)
