"""Read-side queries about departments and memberships."""

from __future__ import annotations

from typing import Any

from departments.models import Department, Membership

#: Where ``remember_memberships`` keeps them on a request's user object.
_REMEMBERED = "_baton_memberships"


def memberships_for_user(user: Any) -> list[Membership]:
    """The user's memberships, front-line ones first, then by code: the first
    one is the department the user acts for by default."""
    if not getattr(user, "is_authenticated", False):
        return []
    remembered = getattr(user, _REMEMBERED, None)
    if remembered is not None:
        return list(remembered)
    return _load_memberships(user)


def remember_memberships(user: Any) -> None:
    """Look ``user``'s memberships up once for the rest of a request (an API
    request's user object lives only as long as the request, which never
    changes memberships): every principal and visibility check of the
    request then reads them from the object."""
    if getattr(user, "is_authenticated", False):
        setattr(user, _REMEMBERED, tuple(_load_memberships(user)))


def _load_memberships(user: Any) -> list[Membership]:
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
