"""Waiting on the customer: it pauses the clocks that pause on waiting,
and a customer reply, a handoff or the owner ends it (clocks resume, their
due times moved by the business time spent waiting)."""

from __future__ import annotations

from datetime import datetime

from tickets.domain.actors import Actor
from tickets.domain.clock_events import ClockKeeping
from tickets.domain.clocks import SLAPort
from tickets.domain.errors import AlreadyWaiting, NotWaiting
from tickets.domain.state import TicketEvent, TicketState, upcast_default
from tickets.domain.validation import _text
from tickets.domain.vocabulary import MAX_REASON, Status, event_topic


class Waiting(ClockKeeping):
    """Ticket commands for waiting on the customer."""

    class WaitingOnCustomer(TicketEvent):
        """The owning department needs the customer before it can go on."""

        TOPIC = event_topic("WaitingOnCustomer")
        #: Why, for staff (internal).
        reason: str
        #: What the customer is asked for (shown to them and emailed).
        request: str

        class_version = 2
        upcast_v1_v2 = upcast_default("request", "")

        def apply(self, ticket: TicketState) -> None:
            ticket.status = Status.WAITING

    def wait_on_customer(
        self, *, reason: str = "", request: str = "", actor: Actor, at: datetime
    ) -> None:
        """Pause for the customer; owner only. ``request`` says what the
        customer is asked for (they see it); ``reason`` is for staff.
        Raises :class:`AlreadyWaiting` when already waiting. A clock
        already late when it pauses is breached first."""
        self._require_open_for_work()
        self._require_owner(actor, "wait on the customer")
        if self.status == Status.WAITING:
            raise AlreadyWaiting("The ticket is already waiting on the customer.")
        self._trigger(
            self.WaitingOnCustomer,
            actor,
            at,
            reason=_text(reason, "reason", MAX_REASON, required=False),
            request=_text(request, "request", MAX_REASON, required=False),
        )
        self._pause_clocks(actor, at)

    class WaitingEnded(TicketEvent):
        """Waiting on the customer is over (reply, handoff or by hand)."""

        TOPIC = event_topic("WaitingEnded")
        cause: str

        def apply(self, ticket: TicketState) -> None:
            ticket.status = Status.OPEN

    def end_waiting(
        self, *, actor: Actor, at: datetime, sla: SLAPort | None = None
    ) -> None:
        """Stop waiting on the customer; owner only. Resumes paused clocks.
        Raises :class:`NotWaiting` when the ticket is not waiting."""
        self._require_open_for_work()
        self._require_owner(actor, "end waiting")
        if self.status != Status.WAITING:
            raise NotWaiting("The ticket is not waiting on the customer.")
        self._end_waiting(sla, actor, at, cause="ended_by_staff")

    def _end_waiting(
        self, sla: SLAPort | None, actor: Actor, at: datetime, *, cause: str
    ) -> None:
        """End waiting (the ticket is waiting) and resume the paused clocks."""
        self._trigger(self.WaitingEnded, actor, at, cause=cause)
        self._resume_clocks(sla, actor, at, cause="waiting_ended")
