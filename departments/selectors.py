"""Read-side queries about departments and memberships."""

from __future__ import annotations

from typing import Any

from departments.models import Department, Membership


def memberships_for_user(user: Any) -> list[Membership]:
    """The user's memberships, front-line ones first, then by code: the first
    one is the department the user acts for by default."""
    if not getattr(user, "is_authenticated", False):
        return []
    return sorted(
        Membership.objects.filter(user=user, department__is_active=True)
        .select_related("department")
        .order_by("department__code"),
        key=lambda m: (not m.department.is_front_line, m.department.code),
    )


def default_front_line() -> Department | None:
    """The front-line department that owns tickets opened by callers who
    are not members of one (integrations): the only active one, if unique."""
    candidates = list(Department.objects.active().front_line()[:2])
    return candidates[0] if len(candidates) == 1 else None
