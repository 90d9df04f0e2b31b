"""Where an SLA clock stands, written once.

A response or resolution clock is in exactly one state at an instant:

* ``on_track``: running, before its warning time;
* ``at_risk``: running, at or past its warning time, not yet due;
* ``breached``: running past its due time, whether or not a sweep has
  recorded the breach yet;
* ``paused``: waiting on the customer;
* ``answered``: stopped, in time or late;
* ``none``: there is no clock.

:func:`clock_state` is the Python predicate and
:func:`clock_state_conditions` its query twin. The work queue, the API
filters, the SLA sweep and the customer's promise all go through them (a
test checks both agree on the same rows). Business time left or used is
measured through the configured SLA port (``settings.BATON_SLA_PORT``), the
same one the aggregate runs its clocks with, so the ``tickets`` app never
reaches calendars directly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import models

from tickets import clock as baton_clock
from tickets.application import configured_sla_port
from tickets.models.clocks import SLAClock

ON_TRACK = "on_track"
AT_RISK = "at_risk"
BREACHED = "breached"
PAUSED = "paused"
ANSWERED = "answered"
NONE = "none"
CLOCK_STATES = (ON_TRACK, AT_RISK, BREACHED, PAUSED, ANSWERED, NONE)

_State = SLAClock.State


def clock_state(
    state: str | None, warn_at: datetime | None, due_at: datetime | None, now: datetime
) -> str:
    """The state (one of :data:`CLOCK_STATES`) of a clock whose stored
    ``state`` and times are given, at ``now``."""
    if state is None:
        return NONE
    if state == _State.PAUSED:
        return PAUSED
    if state in (_State.MET, _State.BREACHED):
        return ANSWERED
    if state == _State.BREACHED_RUNNING:
        return BREACHED
    assert due_at is not None and warn_at is not None
    if due_at <= now:
        return BREACHED
    if warn_at <= now:
        return AT_RISK
    return ON_TRACK


def state_of(row: SLAClock | None, now: datetime) -> str:
    """:func:`clock_state` of an :class:`SLAClock` row (None: no clock)."""
    if row is None:
        return NONE
    return clock_state(row.state, row.warn_at, row.due_at, now)


def clock_state_conditions(
    now: Any,
    *,
    state: str = "state",
    warn_at: str = "warn_at",
    due_at: str = "due_at",
) -> dict[str, models.Q]:
    """:func:`clock_state` as query conditions keyed by state. The field
    names say where the clock's state and times are (an SLAClock's own
    fields, or a queue's annotations)."""
    running = models.Q(**{state: _State.RUNNING})
    return {
        ON_TRACK: running
        & models.Q(**{f"{warn_at}__gt": now})
        & models.Q(**{f"{due_at}__gt": now}),
        AT_RISK: running
        & models.Q(**{f"{warn_at}__lte": now})
        & models.Q(**{f"{due_at}__gt": now}),
        BREACHED: models.Q(**{state: _State.BREACHED_RUNNING})
        | (running & models.Q(**{f"{due_at}__lte": now})),
        PAUSED: models.Q(**{state: _State.PAUSED}),
        ANSWERED: models.Q(**{f"{state}__in": [_State.MET, _State.BREACHED]}),
        NONE: models.Q(**{f"{state}__isnull": True}),
    }


def business_seconds_used(row: SLAClock, now: datetime | None = None) -> float:
    """Business time the clock has used: fixed once stopped; for a running
    or paused clock, measured now on the calendar version it started with."""
    if row.business_seconds_used is not None and row.stopped_at is not None:
        return row.business_seconds_used
    port = configured_sla_port()
    if port is None:
        return 0.0
    end = row.paused_since or now or baton_clock.now()
    used = port.business_seconds(
        department=row.department,
        calendar_version=row.calendar_version,
        start=row.started_at,
        end=end,
    )
    return max(0.0, used - row.paused_seconds)


def business_seconds_left(row: SLAClock, now: datetime | None = None) -> float:
    """Target minus used; negative when overdue."""
    return row.target_seconds - business_seconds_used(row, now)


# ---------------------------------------------------------------------------
# Stalled: a ticket-level state beside the clock states
# ---------------------------------------------------------------------------

#: The queue's chip and filter value for a stalled ticket.
STALLED = "stalled"


def is_stalled(row: Any) -> bool:
    """Whether a ticket summary row is stalled: open (not waiting on the
    customer, not resolved) and its current stint's quiet period passed
    its department's limit (a stall the sweep recorded; public activity,
    waiting, a handoff or a resolution clears it)."""
    return row.status == "open" and row.stalled_at is not None


def stalled_condition(prefix: str = "") -> models.Q:
    """:func:`is_stalled` as a query condition; ``prefix`` reaches the
    ticket summary from another model (e.g. ``"ticket__"``)."""
    return models.Q(**{f"{prefix}status": "open", f"{prefix}stalled_at__isnull": False})
