"""Writes for departments: memberships, and the Django groups that follow
them (so admin permissions always match a person's role)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction

from departments.models import Department, Membership

AGENTS = "Baton agents"
LEADS = "Baton leads"
FRONT_LINE_LEADS = "Baton front-line leads"
BATON_GROUPS = (AGENTS, LEADS, FRONT_LINE_LEADS)

# (app label, codename) per group; also used by the seeding migration.
WORK = [
    ("tickets", "view_queueticket"),
    ("tickets", "work_tickets"),
    ("tickets", "view_ticketsummary"),
    ("tickets", "view_handoff"),
    ("tickets", "view_slaclock"),
    ("sla", "view_scorecard"),
    ("sla", "view_scorecardreport"),
    ("departments", "view_department"),
]
MANAGE = [
    ("departments", "add_department"),
    ("departments", "change_department"),
    ("departments", "view_membership"),
    ("departments", "add_membership"),
    ("departments", "change_membership"),
    ("departments", "delete_membership"),
    ("sla", "view_calendar"),
    ("sla", "view_calendarversion"),
    ("sla", "add_calendarversion"),
    ("sla", "view_slapolicy"),
    ("sla", "view_slapolicyversion"),
    ("sla", "add_slapolicyversion"),
    ("sla", "view_slanotification"),
    ("tickets", "view_webhookdelivery"),
]
GROUP_PERMISSIONS = {AGENTS: WORK, LEADS: WORK, FRONT_LINE_LEADS: WORK + MANAGE}


def ensure_baton_groups() -> None:
    """Create any missing Baton group with its permissions (they are
    seeded by a migration; this repairs a deleted one)."""
    from django.contrib.auth.models import Permission

    existing = set(
        Group.objects.filter(name__in=BATON_GROUPS).values_list("name", flat=True)
    )
    for name in BATON_GROUPS:
        if name in existing:
            continue
        group = Group.objects.create(name=name)
        group.permissions.set(
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in GROUP_PERMISSIONS[name]
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
