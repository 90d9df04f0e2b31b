"""Stalled and abandoned journeys: a stint that sits with no public activity
past its department's limit, and a ticket whose customer never answered.

* ``record_stall``/``StintStalled``: recorded by the SLA sweep when an open
  stint (not waiting on the customer) has had no public activity (its
  start, a reply to the customer, a message from the customer) for longer
  than its department's ``stall_after`` in business time. At most one per
  stint per quiet period: a stall names the instant its quiet period began
  (``quiet_since``), and another is accepted for the stint only for a later
  one (after new public activity).
* ``abandon``: the sweep closes a ticket that waited on the customer past
  its department's ``abandon_after``: the clocks still running or paused
  stop (outcome ``abandoned``), and ``Closed`` is recorded with
  ``reason="abandoned"``, which ends the stint.

The limits themselves are the department's policy (``sla``): the sweep
computes when a quiet period passes its limit and states it in the command
(``stalled_at``); the aggregate checks what it can know by itself.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from tickets.domain.actors import Actor
from tickets.domain.clocks import SLAPort
from tickets.domain.errors import (
    ClockNotDue,
    NotPermitted,
    NotWaiting,
    SLAAlreadyRecorded,
    UnknownHandoff,
)
from tickets.domain.lifecycle import Lifecycle
from tickets.domain.state import TicketEvent, TicketState
from tickets.domain.validation import _instant
from tickets.domain.vocabulary import ActorKind, Status, StintOutcome, event_topic

#: ``Closed.reason`` of a ticket closed because the customer never answered.
ABANDONED = StintOutcome.ABANDONED.value


def stalls_of(ticket: TicketState) -> dict[UUID, datetime]:
    """Per stint, the start of the quiet period its last stall was
    recorded for (state rebuilt from ``StintStalled``)."""
    found: dict[UUID, datetime] | None = ticket.__dict__.get("stalled_quiet_since")
    if found is None:
        found = {}
        ticket.__dict__["stalled_quiet_since"] = found
    return found


class Journeys(Lifecycle):
    """Ticket commands for stalled stints and abandoned tickets."""

    # -- stalled --------------------------------------------------------------

    class StintStalled(TicketEvent):
        """An open stint went without public activity past its department's
        limit (business time). ``quiet_since``: the last public activity
        (or the stint's start); ``stalled_at``: when the limit passed, the
        true stall time however late the sweep found it."""

        TOPIC = event_topic("StintStalled")
        stint_id: UUID
        department: str
        quiet_since: datetime
        stalled_at: datetime
        stall_after_seconds: float

        def apply(self, ticket: TicketState) -> None:
            stalls_of(ticket)[self.stint_id] = self.quiet_since

    def record_stall(
        self,
        *,
        stint_id: UUID,
        quiet_since: datetime,
        stalled_at: datetime,
        stall_after_seconds: float,
        actor: Actor,
        at: datetime,
    ) -> None:
        """Record that the current stint has been quiet since
        ``quiet_since`` and passed its limit at ``stalled_at``. Once per
        stint per quiet period (:class:`SLAAlreadyRecorded`); refused with
        :class:`ClockNotDue` when the stint is not the current one, the
        ticket waits on the customer, or the times do not add up, and with
        :class:`UnknownHandoff` for a stint the ticket never had."""
        self._require_open_for_work()
        if actor.kind != ActorKind.SYSTEM:
            raise NotPermitted("Only the SLA monitor records stalls.")
        stint = self.stints.get(stint_id)
        if stint is None:
            raise UnknownHandoff(f"The ticket has no stint {stint_id}.")
        quiet_since, stalled_at, now = (
            _instant(quiet_since),
            _instant(stalled_at),
            _instant(at),
        )
        previous = stalls_of(self).get(stint_id)
        if previous is not None and quiet_since <= previous:
            raise SLAAlreadyRecorded(
                "This stint's stall is already recorded for this quiet period."
            )
        if stint_id != self.current_stint_id or self.status == Status.WAITING:
            raise ClockNotDue(
                "Only the current stint of a ticket not waiting on the "
                "customer can stall."
            )
        started = max(stint.started_at, stint.first_response_at or stint.started_at)
        if not started <= quiet_since < stalled_at <= now:
            raise ClockNotDue(
                "The stint has not been quiet past its limit yet.", field="stalled_at"
            )
        self._trigger(
            self.StintStalled,
            actor,
            at,
            stint_id=stint_id,
            department=stint.department,
            quiet_since=quiet_since,
            stalled_at=stalled_at,
            stall_after_seconds=float(stall_after_seconds),
        )

    def stalled_since(self, stint_id: UUID) -> datetime | None:
        """The start of the quiet period the stint's last stall was
        recorded for, if any."""
        return stalls_of(self).get(stint_id)

    # -- abandoned ------------------------------------------------------------

    def abandon(
        self, *, actor: Actor, at: datetime, sla: SLAPort | None = None
    ) -> None:
        """Close a ticket the customer never answered: the system only, for
        a ticket waiting on the customer (:class:`NotWaiting` otherwise).
        Stops the stint's clocks and the ticket's resolution clock (paused
        ones resume for the stop, so waiting never counts), then records
        ``Closed`` with reason ``abandoned``, which ends the stint."""
        self._require_open_for_work()
        if actor.kind != ActorKind.SYSTEM:
            raise NotPermitted("Only the SLA monitor closes abandoned tickets.")
        if self.status != Status.WAITING:
            raise NotWaiting("Only a ticket waiting on the customer is abandoned.")
        stint_id = self.current_stint_id
        assert stint_id is not None
        outcome = StintOutcome.ABANDONED
        self._stop_stint_clocks(sla, stint_id, outcome, actor, at)
        self._stop_clocks(sla, [self.id], outcome, actor, at)
        self._trigger(self.Closed, actor, at, reason=ABANDONED, stint_id=stint_id)
