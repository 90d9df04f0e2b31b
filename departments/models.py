"""Departments and who works in them.

Departments are reference data with no history worth event-sourcing: they
are edited in the admin. Tickets refer to them by their immutable ``code``,
and events snapshot the name they had at the time, so renaming a department
never rewrites what a customer was told.
"""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

#: Department codes: permanent, used in events, URLs and the API.
CODE_PATTERN = r"^[A-Z][A-Z0-9_]{1,15}$"


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA timezone name.")


class DepartmentQuerySet(models.QuerySet["Department"]):
    def active(self) -> DepartmentQuerySet:
        return self.filter(is_active=True)

    def front_line(self) -> DepartmentQuerySet:
        return self.filter(kind=Department.Kind.FRONT_LINE)


class Department(models.Model):
    class Kind(models.TextChoices):
        FRONT_LINE = "front_line", _("Front line (customer service)")
        BACK_OFFICE = "back_office", _("Back office")

    code = models.CharField(
        max_length=16,
        unique=True,
        validators=[
            RegexValidator(
                CODE_PATTERN,
                "Use 2-16 capital letters, digits or underscores, e.g. FIN.",
            )
        ],
        help_text="Short permanent code used in events and the API, e.g. FIN.",
    )
    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(
        max_length=16, choices=Kind.choices, default=Kind.BACK_OFFICE
    )
    timezone = models.CharField(
        max_length=64, default="UTC", validators=[validate_timezone]
    )
    email = models.EmailField(
        blank=True, help_text="Shared mailbox that also receives SLA alerts."
    )
    is_active = models.BooleanField(
        default=True, help_text="Inactive departments cannot receive handoffs."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_front_line(self) -> bool:
        return self.kind == self.Kind.FRONT_LINE


class Membership(models.Model):
    class Role(models.TextChoices):
        AGENT = "agent", _("Agent")
        LEAD = "lead", _("Lead")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.AGENT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["department__name", "user__username"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "department"], name="unique_membership_per_department"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.department.code} as {self.role}"


#: Scenario codes (as the domain accepts them): a letter or digit, then
#: letters, digits, ``_``, ``.`` or ``-``; stored upper-case.
SCENARIO_CODE_PATTERN = r"^[A-Z0-9][A-Z0-9_.-]{0,63}$"


class ScenarioQuerySet(models.QuerySet["Scenario"]):
    def active(self) -> ScenarioQuerySet:
        return self.filter(is_active=True)


class Scenario(models.Model):
    """A business scenario from the catalogue (``REFUND``, ``REFUND.DOUBLE``):
    reference data that tickets, SLA overrides, scorecards and routing
    refer to by its permanent ``code``. Every save keeps a
    :class:`ScenarioVersion`, so who changed what, when, is never lost."""

    code = models.CharField(
        max_length=64,
        unique=True,
        validators=[RegexValidator(SCENARIO_CODE_PATTERN)],
        help_text="Permanent code used in tickets and the API, e.g. REFUND.",
    )
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(
        default=True, help_text="Inactive scenarios cannot be given to tickets."
    )
    owner = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_scenarios",
        help_text="The department that usually resolves it.",
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        help_text='The broader scenario ("Refund" for "Double charge").',
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScenarioQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("scenario")
        verbose_name_plural = _("scenarios")

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"

    def clean(self) -> None:
        self.code = (self.code or "").strip().upper()
        # The parent chain must end: neither the scenario itself nor any
        # scenario below it can be its parent.
        seen = {self.pk} if self.pk else set()
        parent = self.parent
        while parent is not None:
            if parent.pk in seen or (parent.code == self.code and self.code):
                raise ValidationError(
                    {
                        "parent": _(
                            "A scenario cannot sit below itself or below one "
                            "of its own sub-scenarios."
                        )
                    }
                )
            seen.add(parent.pk)
            parent = parent.parent

    def ancestors(self) -> list[Scenario]:
        """The broader scenarios, the nearest first."""
        found: list[Scenario] = []
        parent = self.parent
        while parent is not None and parent not in found and parent != self:
            found.append(parent)
            parent = parent.parent
        return found

    @property
    def path(self) -> str:
        """Its place in the hierarchy, e.g. "Refund > Double charge"."""
        names = [s.name for s in reversed(self.ancestors())]
        return " > ".join([*names, self.name])


class ScenarioVersion(models.Model):
    """What a scenario said from one save to the next (never changed)."""

    scenario = models.ForeignKey(
        Scenario, on_delete=models.CASCADE, related_name="versions"
    )
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    is_active = models.BooleanField()
    owner_code = models.CharField(max_length=16, blank=True)
    parent_code = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["scenario", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["scenario", "version"], name="unique_scenario_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scenario_id} v{self.version}"
