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
        FRONT_LINE = "front_line", "Front line (customer service)"
        BACK_OFFICE = "back_office", "Back office"

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

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_front_line(self) -> bool:
        return self.kind == self.Kind.FRONT_LINE


class Membership(models.Model):
    class Role(models.TextChoices):
        AGENT = "agent", "Agent"
        LEAD = "lead", "Lead"

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
        constraints = [
            models.UniqueConstraint(
                fields=["user", "department"], name="unique_membership_per_department"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.department.code} as {self.role}"
