"""Read models of the follow-ups of dissatisfied ratings (projected by
``tickets.projections.followups``; rebuildable like every read model).

A :class:`FollowUp` row is one follow-up as it stands; its
:class:`FollowUpEntry` rows are its history, one per event. Whether a
follow-up is overdue is not stored: it depends on the time of asking
(``tickets.followups``).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tickets.models.read_models import TicketSummary


class FollowUp(models.Model):
    """One follow-up of a rating of 1 or 2."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    class Outcome(models.TextChoices):
        RESOLVED = "resolved", _("Resolved")
        NO_ACTION = "no_action", _("No action needed")
        PRODUCT_FIX = "product_fix", _("Product fix")

    id = models.UUIDField(primary_key=True)
    ticket = models.ForeignKey(
        TicketSummary,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="follow_ups",
    )
    #: The rated handoff (stint); null: the whole ticket was rated.
    handoff_id = models.UUIDField(null=True, blank=True)
    department = models.CharField(max_length=16, db_index=True)
    department_name = models.CharField(max_length=100)
    agent_id = models.CharField(max_length=64, blank=True)
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    opened_at = models.DateTimeField()
    due_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    owner_id = models.CharField(max_length=64, blank=True)
    owner_name = models.CharField(max_length=200, blank=True)
    contacted_at = models.DateTimeField(null=True, blank=True)
    contact_method = models.CharField(max_length=16, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    problem_ref = models.CharField(max_length=200, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()
    position = models.BigIntegerField()

    class Meta:
        verbose_name = _("dissatisfied rating follow-up")
        verbose_name_plural = _("dissatisfied follow-ups")
        indexes = [
            models.Index(fields=["status", "due_at"], name="followup_status_due"),
        ]

    def __str__(self) -> str:
        return f"{self.department_name} {self.score}/5 ({self.get_status_display()})"


class FollowUpEntry(models.Model):
    """One step of a follow-up's history (one per event)."""

    follow_up = models.ForeignKey(
        FollowUp,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="entries",
    )
    position = models.BigIntegerField()
    occurred_at = models.DateTimeField()
    #: opened, assign, note, contact, close or reopen.
    step = models.CharField(max_length=8)
    actor_id = models.CharField(max_length=64)
    actor_name = models.CharField(max_length=200)
    #: What the step set (the owner, the contact method, the outcome...).
    detail = models.CharField(max_length=300, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("follow-up step")
        verbose_name_plural = _("follow-up steps")
        ordering = ["position"]

    def __str__(self) -> str:
        return f"{self.step} @ {self.position}"
