"""Read-side SLA queries: clocks visible to a user and their live figures."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from sla.models import SLAClock
from sla.terms import PolicySLAPort
from tickets import clock as baton_clock
from tickets.selectors import visible_tickets

_port = PolicySLAPort()


def business_seconds_used(clock: SLAClock, now: datetime | None = None) -> float:
    """Business time the clock has used: fixed once stopped; for a running
    or paused clock, measured now on the calendar version it started with."""
    if clock.business_seconds_used is not None and clock.stopped_at is not None:
        return clock.business_seconds_used
    end = clock.paused_since or now or baton_clock.now()
    used = _port.business_seconds(
        department=clock.department,
        calendar_version=clock.calendar_version,
        start=clock.started_at,
        end=end,
    )
    return max(0.0, used - clock.paused_seconds)


def business_seconds_left(clock: SLAClock, now: datetime | None = None) -> float:
    """Target minus used; negative when overdue."""
    return clock.target_seconds - business_seconds_used(clock, now)


def visible_clocks(user: Any) -> QuerySet[SLAClock]:
    return SLAClock.objects.filter(ticket__in=visible_tickets(user))
