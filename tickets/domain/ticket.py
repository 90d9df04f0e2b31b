"""The Ticket aggregate, composed from one mixin per area of rules.

Each mixin nests every event beside the command that triggers it:

* ``Lifecycle`` (lifecycle.py): Created, Opened, Responded, NoteAdded,
  CustomerReplied, Resolved, Reopened, Closed, PriorityChanged,
  ScenarioChanged;
* ``Waiting`` (waiting.py): WaitingOnCustomer, WaitingEnded;
* ``Handoffs`` (handoffs.py): HandedOff, AgentAssigned;
* ``Ratings`` (ratings.py): HandoffRated, ExperienceRated;
* ``FollowUps`` (followups.py, extends Ratings): FollowUpOpened (by a
  rating of 1 or 2), FollowUpAssigned, FollowUpNoteAdded,
  FollowUpCustomerContacted, FollowUpClosed, FollowUpReopened;
* ``Disputes`` (disputes.py): DisputeOpened, DisputeDecided;
* ``Journeys`` (journeys.py): StintStalled (and ``abandon``, which
  records Lifecycle's Closed with reason ``abandoned``);
* ``ClockKeeping`` (clock_events.py): ClockStarted, ClockPaused,
  ClockResumed, ClockStopped, SLAWarningIssued, SLABreached;
* ``TicketState`` (state.py): the state, the guards and ``Ticket.Event``.

Only ``Ticket`` is an eventsourcing aggregate; the mixins are plain classes
at run time. When ``Ticket`` is defined, ``TicketState.__init_subclass__``
copies every mixin's event class into ``Ticket``'s own namespace before the
eventsourcing metaclass processes it, so the metaclass finds each event
already a subclass of ``Ticket.Event``, keeps it as it is (``Ticket.HandedOff
is Handoffs.HandedOff``: one class per event for ``isinstance`` checks and
projections) and registers its pinned ``TOPIC``
(``baton.tickets:Ticket.<Name>``). ``tests/tickets/test_domain.py`` pins
every topic; ``tests/domain/test_composition.py`` checks the composition.
"""

from __future__ import annotations

from eventsourcing.domain import Aggregate

from tickets.domain.clock_events import ClockKeeping
from tickets.domain.disputes import Disputes
from tickets.domain.followups import FollowUps
from tickets.domain.handoffs import Handoffs
from tickets.domain.journeys import Journeys
from tickets.domain.lifecycle import Lifecycle
from tickets.domain.ratings import Ratings
from tickets.domain.state import TicketState
from tickets.domain.vocabulary import TOPIC_PREFIX
from tickets.domain.waiting import Waiting


class Ticket(
    Journeys,
    Lifecycle,
    Handoffs,
    Waiting,
    FollowUps,
    Ratings,
    Disputes,
    ClockKeeping,
    TicketState,
    Aggregate,
):
    """A customer's problem and its journey across departments."""

    TOPIC = f"{TOPIC_PREFIX}Ticket"

    def __init__(self) -> None:
        """State is set by :class:`Ticket.Opened`; see :meth:`open`."""
