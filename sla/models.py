"""SLA configuration (versioned calendars and policies), the notification
outbox and the scorecard read models. (The clock read model belongs to the
ticket log: ``tickets.models.SLAClock``.)

Calendar and policy versions are immutable: an edit is a new version with an
effective date. Clocks record the versions they started under, so a change
never alters a running or finished clock, and replaying history gives the
same verdicts whatever the configuration is today.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from departments.models import Department, validate_timezone
from departments.selectors import unknown_scenario_codes
from sla.calendar import CalendarSpec, WorkingInterval, parse_hours
from tickets.models import TicketSummary

WEEKDAYS = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
]
PRIORITIES = ["low", "normal", "high", "urgent"]
KINDS = ["response", "resolution"]


class ImmutableVersion(models.Model):
    """A version row may be created, never changed."""

    version = models.PositiveIntegerField(editable=False)
    effective_from = models.DateTimeField(
        help_text="Clocks that start at or after this instant use this version."
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if (
            self.pk is not None
            and type(self)._default_manager.filter(pk=self.pk).exists()
        ):
            raise ValidationError(
                "Versions are immutable; create a new version instead."
            )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValidationError(
            "Versions are part of the audit trail and are never deleted."
        )


# ---------------------------------------------------------------------------
# Calendars
# ---------------------------------------------------------------------------


class Calendar(models.Model):
    """A department's business calendar; its rules live in versions."""

    department = models.OneToOneField(
        Department, on_delete=models.PROTECT, related_name="calendar"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = gettext_lazy("business calendar")
        verbose_name_plural = gettext_lazy("business calendars")

    def __str__(self) -> str:
        return f"Calendar of {self.department.name}"


def _parse_dates(text: str) -> frozenset[date]:
    dates = set()
    for raw in text.replace(",", "\n").splitlines():
        item = raw.strip()
        if not item:
            continue
        try:
            dates.add(date.fromisoformat(item))
        except ValueError:
            raise ValidationError(f"{item!r} is not a date like 2026-12-24.") from None
    return frozenset(dates)


def _parse_extra_days(text: str) -> dict[date, list[WorkingInterval]]:
    days: dict[date, list[WorkingInterval]] = {}
    for raw in text.splitlines():
        item = raw.strip()
        if not item:
            continue
        day, _, hours = item.partition(" ")
        try:
            days[date.fromisoformat(day)] = parse_hours(hours.strip())
        except ValueError as error:
            raise ValidationError(
                f"{item!r}: use one line per day like "
                f"'2026-02-14 09:00-18:00' ({error})."
            ) from None
    return days


class CalendarVersion(ImmutableVersion):
    """Working hours, holidays and closures from ``effective_from`` on."""

    calendar = models.ForeignKey(
        Calendar, on_delete=models.PROTECT, related_name="versions"
    )
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    monday = models.CharField(max_length=100, blank=True, default="09:00-18:00")
    tuesday = models.CharField(max_length=100, blank=True, default="09:00-18:00")
    wednesday = models.CharField(max_length=100, blank=True, default="09:00-18:00")
    thursday = models.CharField(max_length=100, blank=True, default="09:00-18:00")
    friday = models.CharField(max_length=100, blank=True, default="09:00-18:00")
    saturday = models.CharField(max_length=100, blank=True)
    sunday = models.CharField(max_length=100, blank=True)
    holiday_country = models.CharField(
        max_length=8,
        blank=True,
        help_text="ISO country for public holidays, e.g. CN or US.",
    )
    holiday_subdivision = models.CharField(max_length=16, blank=True)
    closures = models.TextField(
        blank=True, help_text="Extra closed days, one per line: 2026-12-24."
    )
    extra_working_days = models.TextField(
        blank=True,
        help_text="Working days that override the week, one per line: "
        "'2026-02-14 09:00-18:00'.",
    )

    class Meta:
        ordering = ["calendar", "-version"]
        verbose_name = gettext_lazy("calendar version")
        verbose_name_plural = gettext_lazy("calendar versions")
        constraints = [
            models.UniqueConstraint(
                fields=["calendar", "version"], name="unique_calendar_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.calendar.department.code} calendar v{self.version}"

    def clean(self) -> None:
        for day in WEEKDAYS:
            try:
                parse_hours(getattr(self, day))
            except ValueError as error:
                raise ValidationError({day: str(error)}) from None
        _parse_dates(self.closures)
        _parse_extra_days(self.extra_working_days)
        if not any(parse_hours(getattr(self, day)) for day in WEEKDAYS):
            raise ValidationError(
                "A calendar needs working hours on at least one weekday; "
                "otherwise no clock could ever fall due."
            )
        if self.holiday_country:
            import holidays

            try:
                holidays.country_holidays(
                    self.holiday_country, subdiv=self.holiday_subdivision or None
                )
            except (NotImplementedError, KeyError, ValueError) as error:
                raise ValidationError({"holiday_country": str(error)}) from None

    def spec(self) -> CalendarSpec:
        return CalendarSpec(
            timezone=self.timezone,
            weekly={
                index: tuple(parse_hours(getattr(self, day)))
                for index, day in enumerate(WEEKDAYS)
            },
            holiday_country=self.holiday_country,
            holiday_subdivision=self.holiday_subdivision,
            closures=_parse_dates(self.closures),
            extra_working_days={
                d: tuple(v)
                for d, v in _parse_extra_days(self.extra_working_days).items()
            },
        )


# ---------------------------------------------------------------------------
# Policies
# ---------------------------------------------------------------------------


def _duration_field(label: str) -> Any:
    return models.DurationField(
        null=True,
        blank=True,
        help_text=f"Business time for {label} (empty: no target). E.g. 4:00:00.",
    )


class SLAPolicy(models.Model):
    """A department's SLA policy; its targets live in versions."""

    department = models.OneToOneField(
        Department, on_delete=models.PROTECT, related_name="sla_policy"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = gettext_lazy("SLA policy")
        verbose_name_plural = gettext_lazy("SLA policies")

    def __str__(self) -> str:
        return f"SLA policy of {self.department.name}"


def _catalogue_overrides(overrides: dict[str, Any]) -> dict[str, Any]:
    """Scenario overrides keyed by catalogue codes (upper-cased): a key
    that is not in the scenario catalogue is refused, naming it."""
    unknown = unknown_scenario_codes(overrides)
    if unknown:
        raise ValidationError(
            {
                "scenario_overrides": gettext_lazy(
                    "Not in the scenario catalogue: %(codes)s. Add the "
                    "scenario there first, or correct the code."
                )
                % {"codes": ", ".join(unknown)}
            }
        )
    canonical = {str(key).strip().upper(): value for key, value in overrides.items()}
    if len(canonical) != len(overrides):
        raise ValidationError(
            {
                "scenario_overrides": gettext_lazy(
                    "A scenario is named twice (codes ignore case)."
                )
            }
        )
    return canonical


class SLAPolicyVersion(ImmutableVersion):
    """Targets by priority (with per-scenario overrides), the warning
    threshold, and whether waiting on the customer pauses the clocks.

    For the front line, the resolution targets are the customer-facing
    target for the whole ticket; for other departments they bound how long
    the department may keep a ticket.
    """

    policy = models.ForeignKey(
        SLAPolicy, on_delete=models.PROTECT, related_name="versions"
    )
    response_low = _duration_field("a first response to a low-priority ticket")
    response_normal = _duration_field("a first response to a normal ticket")
    response_high = _duration_field("a first response to a high-priority ticket")
    response_urgent = _duration_field("a first response to an urgent ticket")
    resolution_low = _duration_field("resolving a low-priority ticket")
    resolution_normal = _duration_field("resolving a normal ticket")
    resolution_high = _duration_field("resolving a high-priority ticket")
    resolution_urgent = _duration_field("resolving an urgent ticket")
    scenario_overrides = models.JSONField(
        default=dict,
        blank=True,
        help_text="Per scenario code, minutes by kind and priority: "
        '{"REFUND": {"response": {"normal": 120}}}.',
    )
    warn_percent = models.PositiveSmallIntegerField(
        default=75, validators=[MinValueValidator(1), MaxValueValidator(99)]
    )
    pause_on_waiting = models.BooleanField(
        default=True, help_text="Waiting on the customer pauses the clocks."
    )
    stall_after = models.DurationField(
        null=True,
        blank=True,
        help_text="Business time an open stint may go without public activity "
        "(a reply to or from the customer) before it counts as stalled "
        "(empty: never). E.g. 2 days, 0:00:00.",
    )
    abandon_after = models.DurationField(
        null=True,
        blank=True,
        help_text="Calendar time a ticket may wait on the customer before it is "
        "closed as abandoned (empty: never). E.g. 14 days, 0:00:00.",
    )

    class Meta:
        ordering = ["policy", "-version"]
        verbose_name = gettext_lazy("SLA policy version")
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "version"], name="unique_policy_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.policy.department.code} policy v{self.version}"

    def clean(self) -> None:
        overrides = self.scenario_overrides or {}
        if not isinstance(overrides, dict):
            raise ValidationError({"scenario_overrides": "Must be an object."})
        overrides = self.scenario_overrides = _catalogue_overrides(overrides)
        for scenario, kinds in overrides.items():
            if not isinstance(kinds, dict):
                raise ValidationError(
                    {"scenario_overrides": f"{scenario}: must be an object."}
                )
            for kind, targets in kinds.items():
                if kind not in KINDS or not isinstance(targets, dict):
                    raise ValidationError(
                        {
                            "scenario_overrides": f"{scenario}: kinds are "
                            "response/resolution."
                        }
                    )
                for priority, minutes in targets.items():
                    if (
                        priority not in PRIORITIES
                        or not isinstance(minutes, int)
                        or minutes <= 0
                    ):
                        raise ValidationError(
                            {
                                "scenario_overrides": f"{scenario}.{kind}: "
                                "priorities map "
                                "to a positive number of minutes."
                            }
                        )

    def target(self, kind: str, priority: str, scenario: str) -> timedelta | None:
        """The business-time target, the scenario override winning."""
        override = (self.scenario_overrides or {}).get(scenario.upper(), {})
        minutes = override.get(kind, {}).get(priority)
        if minutes:
            return timedelta(minutes=int(minutes))
        value: timedelta | None = getattr(self, f"{kind}_{priority}", None)
        return value if value and value > timedelta(0) else None


class SLANotification(models.Model):
    """Outbox of warning and breach emails: written by a tracked
    projection (exactly one row per event), sent by a django-q2 task."""

    class Kind(models.TextChoices):
        WARNING = "warning", "Warning"
        BREACH = "breach", "Breach"
        STALLED = "stalled", "Stalled"

    position = models.BigIntegerField(
        unique=True, help_text="Log position of the event."
    )
    ticket = models.ForeignKey(
        TicketSummary,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    clock_id = models.UUIDField()
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    department = models.CharField(_("department"), max_length=16)
    due_at = models.DateTimeField()
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set while one worker is emailing it (a claim other senders "
        "respect for 5 minutes).",
    )
    recipients = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-position"]
        indexes = [models.Index(fields=["sent_at", "position"], name="slanotif_unsent")]
        verbose_name = gettext_lazy("SLA notification")
        verbose_name_plural = gettext_lazy("SLA notifications")

    def __str__(self) -> str:
        return f"{self.kind} for {self.department} at {self.position}"


# ---------------------------------------------------------------------------
# Scorecards (read models of ScorecardProjection)
# ---------------------------------------------------------------------------


class ScorecardTicket(models.Model):
    """Per-ticket state the scorecard projection needs to judge handoffs:
    the scenario now, the stint in progress, the stint that resolved it,
    and how many times each pair of departments passed it to each other."""

    ticket_id = models.UUIDField(primary_key=True)
    scenario = models.CharField(max_length=64, blank=True)
    current_stint_id = models.UUIDField(null=True, blank=True)
    resolved_stint_id = models.UUIDField(null=True, blank=True)
    transfers = models.JSONField(
        default=dict, help_text='Transfers per department pair, e.g. {"CS|FIN": 2}.'
    )

    class Meta:
        verbose_name = gettext_lazy("scorecard ticket state")

    def __str__(self) -> str:
        return str(self.ticket_id)


class ScorecardHandoff(models.Model):
    """One row per stint (a department's part of a ticket), with every
    fact a scorecard counts about it and the log position of the event
    that decided each fact. A stint belongs to the day, ISO week and month
    in which the department received it, in the department's timezone."""

    id = models.UUIDField(primary_key=True, help_text="The stint (handoff) id.")
    ticket_id = models.UUIDField(db_index=True)
    department = models.CharField(max_length=16)
    kind = models.CharField(max_length=8)
    from_department = models.CharField(max_length=16, blank=True)
    scenario = models.CharField(max_length=64, blank=True)
    timezone = models.CharField(max_length=64)
    day = models.DateField()
    week = models.DateField(help_text="Monday of the ISO week.")
    month = models.DateField(help_text="First day of the month.")
    received_at = models.DateTimeField()
    received_position = models.BigIntegerField()
    response_clock = models.BooleanField(default=False)
    responded_at = models.DateTimeField(null=True, blank=True)
    responded_position = models.BigIntegerField(null=True, blank=True)
    response_seconds = models.FloatField(
        null=True, blank=True, help_text="Business time to first response."
    )
    response_seconds_position = models.BigIntegerField(null=True, blank=True)
    verdict = models.CharField(max_length=8, blank=True)  # met / breached
    verdict_position = models.BigIntegerField(null=True, blank=True)
    ended_how = models.CharField(max_length=10, blank=True)  # handed_on / resolved
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_position = models.BigIntegerField(null=True, blank=True)
    handed_to = models.CharField(max_length=16, blank=True)
    root_cause = models.CharField(max_length=16, blank=True)
    bounced_position = models.BigIntegerField(null=True, blank=True)
    ping_pong_position = models.BigIntegerField(null=True, blank=True)
    reopened_position = models.BigIntegerField(null=True, blank=True)
    stalled_position = models.BigIntegerField(null=True, blank=True)
    abandoned_position = models.BigIntegerField(null=True, blank=True)
    suggested_department = models.CharField(
        max_length=16,
        blank=True,
        help_text="The department routing suggested when this stint was handed "
        "over (empty: no suggestion).",
    )
    product_area = models.CharField(max_length=100, blank=True)
    root_cause_detail = models.TextField(blank=True)
    rating_score = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_comment = models.TextField(blank=True)
    rating_position = models.BigIntegerField(null=True, blank=True)
    breach_dispute = models.CharField(max_length=8, blank=True)  # open/accepted/waived
    breach_dispute_reason = models.TextField(blank=True)
    breach_decision_reason = models.TextField(blank=True)
    breach_dispute_position = models.BigIntegerField(null=True, blank=True)
    rating_dispute = models.CharField(max_length=8, blank=True)
    rating_dispute_reason = models.TextField(blank=True)
    rating_decision_reason = models.TextField(blank=True)
    rating_dispute_position = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["received_position"]
        verbose_name = gettext_lazy("scorecard handoff")
        indexes = [
            models.Index(fields=["department", "day"], name="schandoff_dept_day"),
            models.Index(fields=["department", "week"], name="schandoff_dept_week"),
            models.Index(fields=["department", "month"], name="schandoff_dept_month"),
        ]

    def __str__(self) -> str:
        return f"{self.department} stint {self.id}"


class Scorecard(models.Model):
    """A department's figures for one period (day, ISO week or month in its
    timezone), for one scenario or for all of them (``scenario="*"``).
    Recomputed from :class:`ScorecardHandoff` rows whenever one of them
    changes; ``manage.py audit_scorecards`` proves they match the log."""

    class Period(models.TextChoices):
        DAY = "day", gettext_lazy("Day")
        WEEK = "week", gettext_lazy("ISO week")
        MONTH = "month", gettext_lazy("Month")

    ALL_SCENARIOS = "*"

    key = models.CharField(max_length=120, primary_key=True)
    department = models.CharField(max_length=16)
    period = models.CharField(max_length=5, choices=Period.choices)
    start = models.DateField()
    scenario = models.CharField(max_length=64)
    figures = models.JSONField()

    class Meta:
        ordering = ["department", "period", "-start", "scenario"]
        verbose_name = gettext_lazy("scorecard")
        verbose_name_plural = gettext_lazy("scorecards")
        indexes = [
            models.Index(
                fields=["department", "period", "start"], name="scorecard_lookup"
            ),
            models.Index(fields=["period", "start"], name="scorecard_period"),
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.period} {self.start} {self.scenario}"


class ScorecardReport(models.Model):
    """A periodic accountability report as it was generated and sent: the
    service-team summary (``department`` blank) or one department's, kept
    as standalone HTML, plain text and CSV. Written once by
    ``sla.report_services.reports_generate``; never regenerated."""

    period = models.CharField(
        _("period"), max_length=5, choices=Scorecard.Period.choices
    )
    start = models.DateField(help_text="First day of the period.")
    department = models.CharField(
        _("department"),
        max_length=16,
        blank=True,
        help_text="Blank: the service-team summary.",
    )
    title = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    position = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="The scorecard projection's log position the figures are as of.",
    )
    html = models.TextField()
    text = models.TextField(blank=True, help_text="The email's plain-text part.")
    csv = models.TextField()
    recipients = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set while one worker is emailing it (a claim other runs "
        "respect for 15 minutes).",
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-start", "period", "department"]
        verbose_name = gettext_lazy("scorecard report")
        constraints = [
            models.UniqueConstraint(
                fields=["period", "start", "department"],
                name="unique_scorecard_report",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_summary(self) -> bool:
        return self.department == ""


class ProblemLink(models.Model):
    """A problem (a root cause in a scenario, optionally a product area)
    linked to the external issue that fixes it, and when that fix shipped
    (so the Problems view can show volumes before and after)."""

    scenario = models.CharField(max_length=64)
    root_cause = models.CharField(_("root cause"), max_length=16)
    product_area = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=200, blank=True)
    url = models.URLField(max_length=500, help_text="The issue in Product's tracker.")
    shipped_on = models.DateField(
        _("shipped on"),
        null=True,
        blank=True,
        help_text="When the fix reached customers.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["scenario", "root_cause", "product_area"]
        verbose_name = gettext_lazy("problem tracker link")
        verbose_name_plural = gettext_lazy("problem tracker links")
        constraints = [
            models.UniqueConstraint(
                fields=["scenario", "root_cause", "product_area"],
                name="one_link_per_problem",
            )
        ]

    def __str__(self) -> str:
        area = f"/{self.product_area}" if self.product_area else ""
        return f"{self.scenario} {self.root_cause}{area} -> {self.url}"
