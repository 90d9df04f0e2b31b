"""Read-side queries about departments and memberships."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from departments.models import Department, Membership, Scenario

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


# -- the scenario catalogue ---------------------------------------------------


def active_scenario_code(code: str) -> str | None:
    """The catalogue's code for ``code`` (any case, spaces around) if it
    names an active scenario; None otherwise."""
    wanted = str(code or "").strip().upper()
    if not wanted:
        return None
    return (
        Scenario.objects.active()
        .filter(code=wanted)
        .values_list("code", flat=True)
        .first()
    )


def unknown_scenario_codes(codes: Iterable[str]) -> list[str]:
    """Those of ``codes`` (compared upper-case) that are not in the
    catalogue at all (inactive scenarios are known), sorted."""
    wanted = {str(c).strip().upper(): str(c) for c in codes}
    known = set(Scenario.objects.filter(code__in=wanted).values_list("code", flat=True))
    return sorted(original for code, original in wanted.items() if code not in known)


def scenario_tree(*, active_only: bool = True) -> list[tuple[Scenario, int]]:
    """The catalogue as a tree, each scenario with its depth (0 at the
    top), children after their parent, siblings by code. A child whose
    parent is left out (inactive) is listed at the top."""
    queryset = Scenario.objects.select_related("owner", "parent")
    scenarios = list(queryset.active() if active_only else queryset.all())
    present = {s.pk for s in scenarios}
    children: dict[int | None, list[Scenario]] = {}
    for scenario in scenarios:
        parent = scenario.parent_id if scenario.parent_id in present else None
        children.setdefault(parent, []).append(scenario)
    ordered: list[tuple[Scenario, int]] = []
    placed: set[int] = set()

    def walk(parent: int | None, depth: int) -> None:
        for scenario in sorted(children.get(parent, []), key=lambda s: s.code):
            if scenario.pk not in placed:
                placed.add(scenario.pk)
                ordered.append((scenario, depth))
                walk(scenario.pk, depth + 1)

    walk(None, 0)
    return ordered


def scenario_choices(*, blank: str = "") -> list[tuple[str, str]]:
    """Active scenarios for a select, indented below their parent; with a
    first "(none)" choice labelled ``blank`` when given."""
    choices = [("", blank)] if blank else []
    for scenario, depth in scenario_tree():
        indent = "\u2003" * depth + ("\u21b3 " if depth else "")
        choices.append((scenario.code, f"{indent}{scenario.name} ({scenario.code})"))
    return choices
