"""Memberships decide a person's Baton groups, and so their admin access."""

from __future__ import annotations

from django.contrib.auth.models import Group

from departments.models import Membership
from departments.services import (
    AGENTS,
    FRONT_LINE_LEADS,
    LEADS,
    membership_create,
    user_groups_sync,
)
from tests.helpers import Org, make_user


def names(user: object) -> set[str]:
    return set(user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]


def test_groups_follow_memberships(org: Org) -> None:
    assert names(org.agents["FIN"]) == {AGENTS}
    assert names(org.leads["FIN"]) == {LEADS}
    assert names(org.leads["CS"]) == {LEADS, FRONT_LINE_LEADS}
    assert org.leads["CS"].has_perm("departments.change_department")
    assert not org.leads["FIN"].has_perm("departments.change_department")
    person = make_user("mover", is_staff=False)
    membership_create(user=person, department=org.departments["LOG"], role="agent")
    person.refresh_from_db()
    assert names(person) == {AGENTS} and person.is_staff
    Membership.objects.filter(user=person).delete()
    assert user_groups_sync(person) == set() and names(person) == set()


def test_a_deleted_group_is_recreated_with_its_permissions(org: Org) -> None:
    Group.objects.filter(name=AGENTS).delete()
    user_groups_sync(org.agents["LOG"])
    agent = type(org.agents["LOG"]).objects.get(pk=org.agents["LOG"].pk)
    assert names(agent) == {AGENTS}
    assert agent.has_perm("tickets.view_queueticket") and agent.has_perm(
        "tickets.work_tickets"
    )
