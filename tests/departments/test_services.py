"""Memberships decide a person's Baton groups, and so their admin access."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client

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


@pytest.mark.django_db
def test_the_migrated_groups_hold_every_permission_of_their_role() -> None:
    """The database the migrations built (as on a fresh install) grants each
    Baton group exactly what settings name: a permission whose model moved
    between apps is not lost."""
    for name, permissions in settings.BATON_GROUP_PERMISSIONS.items():
        granted = {
            f"{label}.{codename}"
            for label, codename in Group.objects.get(name=name).permissions.values_list(
                "content_type__app_label", "codename"
            )
        }
        assert granted == set(permissions), name
    assert "tickets.view_slaclock" in settings.BATON_GROUP_PERMISSIONS[AGENTS]


def test_an_agent_reads_the_sla_clocks_in_the_admin(org: Org) -> None:
    client = Client()
    client.force_login(org.agents["FIN"])
    assert client.get("/admin/tickets/slaclock/").status_code == 200


def test_the_old_sla_clock_admin_pages_redirect_to_their_new_place(org: Org) -> None:
    client = Client()
    client.force_login(org.agents["FIN"])
    moved = client.get("/admin/sla/slaclock/?state=running")
    assert (moved.status_code, moved["Location"]) == (
        301,
        "/admin/tickets/slaclock/?state=running",
    )
    assert client.get(moved["Location"]).status_code == 200
