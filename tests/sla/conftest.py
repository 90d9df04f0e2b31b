"""Shared SLA fixtures: departments with calendars and policies, and a
frozen clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
import time_machine

from sla import services as sla_services
from tests.helpers import Org
from tickets.models import SLAClock, TicketSummary

H = timedelta(hours=1)


def z(text: str) -> datetime:
    """A UTC instant from '2026-03-02 02:00'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def sla_org(org: Org) -> Org:
    with time_machine.travel(z("2026-01-01 00:00"), tick=False):
        week_sh = {
            "monday": "09:00-18:00",
            "tuesday": "09:00-18:00",
            "wednesday": "09:00-18:00",
            "thursday": "09:00-18:00",
            "friday": "09:00-18:00",
        }
        lunch = dict.fromkeys(week_sh, "09:00-12:00, 13:00-18:00")
        sla_services.calendar_version_create(
            department=org.departments["CS"], timezone="Asia/Shanghai", **week_sh
        )
        sla_services.calendar_version_create(
            department=org.departments["FIN"], timezone="Asia/Shanghai", **lunch
        )
        sla_services.calendar_version_create(
            department=org.departments["LOG"],
            timezone="America/New_York",
            **dict.fromkeys(week_sh, "09:00-17:00"),
        )
        sla_services.calendar_version_create(
            department=org.departments["RISK"], timezone="Asia/Shanghai", **week_sh
        )
        sla_services.policy_version_create(
            department=org.departments["CS"],
            response_normal=H,
            resolution_normal=16 * H,
            warn_percent=75,
        )
        sla_services.policy_version_create(
            department=org.departments["FIN"], response_normal=4 * H, warn_percent=75
        )
        sla_services.policy_version_create(
            department=org.departments["LOG"], response_normal=8 * H
        )
        sla_services.policy_version_create(
            department=org.departments["RISK"], response_normal=2 * H
        )
    return org


@pytest.fixture
def at() -> Iterator[Any]:
    """Freeze the clock: ``at("2026-03-02 02:00")``."""
    travellers: list[Any] = []

    def freeze(text: str) -> None:
        if travellers:
            travellers.pop().stop()
        traveller = time_machine.travel(z(text), tick=False)
        traveller.start()
        travellers.append(traveller)

    yield freeze
    for traveller in travellers:
        traveller.stop()


def clock(clock_id: UUID) -> SLAClock:
    return SLAClock.objects.get(pk=clock_id)


def fin_stint(ticket_id: UUID) -> UUID:
    """The ticket's current stint (its owner's response clock id)."""
    stint = TicketSummary.objects.get(pk=ticket_id).current_stint_id
    assert stint is not None
    return stint
