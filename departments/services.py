"""Writes for departments: memberships, and the Django groups that follow
them (so admin permissions always match a person's role)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group
from django.db import transaction

from departments.models import Department, Membership, Scenario, ScenarioVersion

AGENTS = "Baton agents"
LEADS = "Baton leads"
FRONT_LINE_LEADS = "Baton front-line leads"
BATON_GROUPS = (AGENTS, LEADS, FRONT_LINE_LEADS)


def group_permissions() -> dict[str, list[tuple[str, str]]]:
    """Each Baton group's permissions as (app label, codename) pairs, from
    ``settings.BATON_GROUP_PERMISSIONS``: the apps above ``departments``
    name their own permissions there, so this app never names them."""
    return {
        name: [
            (label, codename)
            for label, _, codename in (p.partition(".") for p in permissions)
        ]
        for name, permissions in settings.BATON_GROUP_PERMISSIONS.items()
    }


def _granted(permission_model: Any, group: str, *, strict: bool) -> list[Any]:
    """The permission rows (of ``permission_model``: Django's, or a
    migration's historical one) that ``group``'s role names. ``strict``:
    every one must exist (``DoesNotExist`` otherwise); else a permission
    whose model does not exist yet is left out."""
    found = []
    for label, codename in group_permissions()[group]:
        rows = permission_model.objects.filter(
            content_type__app_label=label, codename=codename
        )
        if strict:
            found.append(rows.get())
        else:
            found.extend(rows)
    return found


def seed_baton_groups(apps: Any, *, replace: bool) -> None:
    """Create the Baton groups and grant their permissions, with the
    registry ``apps`` (a migration's historical apps, or Django's).
    ``replace``: the groups get exactly these permissions; otherwise the
    missing ones are added and anything granted by hand is kept.
    Permissions of models that do not exist yet are skipped: the last
    migration of the stack (``sla.0009``) seeds again once all exist."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name in group_permissions():
        group, _ = group_model.objects.get_or_create(name=name)
        found = _granted(permission_model, name, strict=False)
        if replace:
            group.permissions.set(found)
        else:
            group.permissions.add(*found)


def ensure_baton_groups() -> None:
    """Create any missing Baton group with its permissions (they are
    seeded by migrations; this repairs a deleted one)."""
    from django.contrib.auth.models import Permission

    existing = set(
        Group.objects.filter(name__in=BATON_GROUPS).values_list("name", flat=True)
    )
    for name in BATON_GROUPS:
        if name not in existing:
            Group.objects.create(name=name).permissions.set(
                _granted(Permission, name, strict=True)
            )


def groups_for(memberships: list[Membership]) -> set[str]:
    names = set()
    for membership in memberships:
        if not membership.department.is_active:
            continue
        names.add(LEADS if membership.role == Membership.Role.LEAD else AGENTS)
        if (
            membership.role == Membership.Role.LEAD
            and membership.department.is_front_line
        ):
            names.add(FRONT_LINE_LEADS)
    return names


@transaction.atomic
def user_groups_sync(user: Any) -> set[str]:
    """Put ``user`` in exactly the Baton groups their memberships call for
    (other groups are left alone); staff access follows membership."""
    memberships = list(
        Membership.objects.filter(user=user).select_related("department")
    )
    wanted = groups_for(memberships)
    if wanted:
        ensure_baton_groups()
    for group in Group.objects.filter(name__in=BATON_GROUPS):
        if group.name in wanted:
            user.groups.add(group)
        else:
            user.groups.remove(group)
    if wanted and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return wanted


def membership_create(*, user: Any, department: Department, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        user=user, department=department, defaults={"role": role}
    )
    user_groups_sync(user)
    return membership


@transaction.atomic
def scenario_save(scenario: Scenario, *, user: Any = None) -> Scenario:
    """Save a catalogue scenario (new or edited) and keep what it now says
    as its next :class:`ScenarioVersion`, with who saved it. The code is
    upper-cased; ``ValidationError`` (nothing saved) when the scenario is
    invalid, e.g. its parent chain would loop. A save that changes nothing
    adds no version."""
    scenario.code = (scenario.code or "").strip().upper()
    scenario.full_clean()
    if scenario.pk is not None:
        # One saver at a time numbers the versions.
        Scenario.objects.select_for_update().filter(pk=scenario.pk).first()
    scenario.save()
    snapshot = {
        "name": scenario.name,
        "description": scenario.description,
        "is_active": scenario.is_active,
        "owner_code": scenario.owner.code if scenario.owner else "",
        "parent_code": scenario.parent.code if scenario.parent else "",
    }
    last = scenario.versions.order_by("-version").first()
    if last is not None and all(
        getattr(last, name) == value for name, value in snapshot.items()
    ):
        return scenario
    ScenarioVersion.objects.create(
        scenario=scenario,
        version=(last.version + 1) if last else 1,
        created_by=user if getattr(user, "pk", None) else None,
        **snapshot,
    )
    return scenario


def scenario_create(
    code: str,
    name: str,
    *,
    owner: Department | None = None,
    parent: Scenario | None = None,
    description: str = "",
    is_active: bool = True,
    user: Any = None,
) -> Scenario:
    """Add a scenario to the catalogue (its first version)."""
    return scenario_save(
        Scenario(
            code=code,
            name=name,
            owner=owner,
            parent=parent,
            description=description,
            is_active=is_active,
        ),
        user=user,
    )
