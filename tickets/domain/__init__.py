"""The ticket domain: the Ticket aggregate, its events and rules, pure.

Every module here imports only the standard library and ``eventsourcing``
(an import-linter contract enforces it), so the rules can be tested with
no database and reused by any interface. Import from ``tickets.domain``;
the modules are where things are written, not an API.

Where to find a rule and its event (each command sits beside its event):

===================  =========================================================
``vocabulary.py``    statuses, priorities, channels, root causes, kinds;
                     text limits; the pinned topic prefix
``actors.py``        Actor (stored in every event), Principal, DepartmentRef,
                     AgentRef; how actors are stored (transcoding)
``errors.py``        TicketError and one subclass per rule, each with a
                     stable ``code``; ``ERROR_CODES``: code -> exception
``validation.py``    text, reason, choice, scenario, timezone, score and UTC
                     instant checks every command runs first
``clocks.py``        SLA clock arithmetic, pure (due, pause/resume shift,
                     business seconds used, late/breached verdicts), shared
                     with the what-if replay; ClockTerms; the SLAPort protocol
``state.py``         what a ticket remembers (Stint, Dispute), Ticket.Event
                     (TicketEvent), the guards (not closed, open for work,
                     owner, involved, owner or front line)
``lifecycle.py``     open/Opened, respond/Responded, add_note/NoteAdded,
                     record_customer_reply/CustomerReplied, resolve/Resolved,
                     reopen/Reopened, close/Closed,
                     change_priority/PriorityChanged,
                     change_scenario/ScenarioChanged
``waiting.py``       wait_on_customer/WaitingOnCustomer,
                     end_waiting/WaitingEnded
``handoffs.py``      hand_off/HandedOff, assign/AgentAssigned
``ratings.py``       rate_handoff/HandoffRated, rate_experience/ExperienceRated
``disputes.py``      dispute/DisputeOpened, decide_dispute/DisputeDecided
``followups.py``     a rating of 1 or 2 opens FollowUpOpened (rate_* extended);
                     assign_follow_up/FollowUpAssigned,
                     note_follow_up/FollowUpNoteAdded,
                     record_follow_up_contact/FollowUpCustomerContacted,
                     close_follow_up/FollowUpClosed,
                     reopen_follow_up/FollowUpReopened
``clock_events.py``  ClockStarted, ClockPaused, ClockResumed, ClockStopped
                     (started, paused, resumed and stopped by the commands
                     above), record_sla_warning/SLAWarningIssued,
                     record_sla_breach/SLABreached
``journeys.py``      record_stall/StintStalled (an open stint quiet past
                     its department's limit), abandon (closes a ticket
                     waiting on the customer past its limit: Closed with
                     reason ``abandoned``)
``ticket.py``        ``Ticket``: the mixins above composed into one aggregate;
                     each mixin's event is ``Ticket.<Name>`` (same class)
===================  =========================================================

Rules (each violation raises a :class:`TicketError` subclass with a stable
``code``; the module that enforces it in brackets):

* only the owning department may respond, hand off, resolve, wait on the
  customer, end waiting or assign an agent [lifecycle, handoffs, waiting];
* a handoff must name an active department other than the current owner,
  and give a reason [handoffs];
* a resolved ticket accepts nothing but a reopen, a close, ratings,
  disputes and follow-up steps; a closed ticket accepts nothing but
  disputes and follow-up steps (they change scorecards and follow-ups, not
  the ticket) [state: the guards];
* reopening needs a reason; text fields have maximum lengths
  [lifecycle, validation];
* tickets open with an active front-line department [lifecycle];
* only the owner or the front line may close or change priority or
  scenario, and a change must change something [lifecycle];
* a rating is the customer's (or relayed by the front line), a whole number
  from 1 to 5, once per finished handoff and once for a resolved ticket
  [ratings];
* a rating of 1 or 2 opens exactly one follow-up, in the same command;
  only the service team (a front-line lead, in person) works it: an owner
  from the front line, notes, the customer contact, a close with an
  outcome (once), a reopen with a reason [followups];
* a breach or a rating is disputed once, by staff of the judged department
  or the front line, with a reason; only a front-line lead decides, once
  [disputes];
* internal notes are staff's, from departments that handled the ticket
  [lifecycle];
* a clock's warning and breach are recorded once each, for a running clock
  from its warning or due time on, never a warning after the breach; a
  clock strictly past its due time when it pauses or stops is breached
  [clock_events, clocks];
* a stint's stall is recorded by the system once per quiet period, for the
  current stint of a ticket not waiting on the customer; only the system
  closes a ticket as abandoned, and only while it waits on the customer
  [journeys].

Every event carries the acting principal (:class:`Actor`) and a timezone-
aware UTC ``timestamp`` supplied by the caller's clock, never read here.
Events carry explicit, stable topics (``baton.tickets:Ticket.<Name>``) so
that moving or renaming classes never orphans stored events.
"""

from __future__ import annotations

from tickets.domain.actors import (
    Actor,
    ActorAsDict,
    AgentRef,
    DepartmentRef,
    Principal,
    register_transcodings,
)
from tickets.domain.clock_events import stint_resolution_clock_id
from tickets.domain.clocks import BusinessTime, Clock, ClockTerms, SLAPort
from tickets.domain.disputes import dispute_id_for
from tickets.domain.errors import (
    ERROR_CODES,
    AlreadyDisputed,
    AlreadyRated,
    AlreadyWaiting,
    AssigneeNotMember,
    ClockNotDue,
    ClockNotFound,
    ConcurrencyConflict,
    DepartmentInactive,
    DisputeAlreadyDecided,
    HandoffNotFinished,
    HandoffToCurrentOwner,
    InvalidInput,
    InvalidScore,
    NoChange,
    NothingToDispute,
    NotOwner,
    NotPermitted,
    NotWaiting,
    ReasonRequired,
    SLAAlreadyRecorded,
    TicketClosed,
    TicketError,
    TicketNotFound,
    TicketNotResolved,
    TicketResolved,
    UnknownDispute,
    UnknownHandoff,
)
from tickets.domain.followups import (
    DEFAULT_DUE_HOURS,
    DISSATISFIED_AT_MOST,
    ContactMethod,
    FollowUp,
    FollowUpOutcome,
    FollowUpStatus,
    follow_up_id_for,
)
from tickets.domain.journeys import ABANDONED
from tickets.domain.state import Dispute, Stint, TicketEvent
from tickets.domain.ticket import Ticket
from tickets.domain.vocabulary import (
    ATTACHMENT_KEYS,
    CONTROL_CHARACTERS,
    MAX_ATTACHMENTS,
    MAX_COMMENT,
    MAX_EXTERNAL_REF,
    MAX_REASON,
    MAX_SHORT,
    MAX_SUBJECT,
    MAX_TEXT,
    SCENARIO_RE,
    TOPIC_PREFIX,
    ActorKind,
    Channel,
    ClockKind,
    DisputeDecision,
    DisputeSubject,
    Priority,
    RootCause,
    Status,
    StintOutcome,
)

__all__ = [
    "ABANDONED",
    "ATTACHMENT_KEYS",
    "CONTROL_CHARACTERS",
    "DEFAULT_DUE_HOURS",
    "DISSATISFIED_AT_MOST",
    "ERROR_CODES",
    "MAX_ATTACHMENTS",
    "MAX_COMMENT",
    "MAX_EXTERNAL_REF",
    "MAX_REASON",
    "MAX_SHORT",
    "MAX_SUBJECT",
    "MAX_TEXT",
    "SCENARIO_RE",
    "TOPIC_PREFIX",
    "Actor",
    "ActorAsDict",
    "ActorKind",
    "AgentRef",
    "AlreadyDisputed",
    "AlreadyRated",
    "AlreadyWaiting",
    "AssigneeNotMember",
    "BusinessTime",
    "Channel",
    "Clock",
    "ClockKind",
    "ClockNotDue",
    "ClockNotFound",
    "ClockTerms",
    "ConcurrencyConflict",
    "ContactMethod",
    "DepartmentInactive",
    "DepartmentRef",
    "Dispute",
    "DisputeAlreadyDecided",
    "DisputeDecision",
    "DisputeSubject",
    "FollowUp",
    "FollowUpOutcome",
    "FollowUpStatus",
    "HandoffNotFinished",
    "HandoffToCurrentOwner",
    "InvalidInput",
    "InvalidScore",
    "NoChange",
    "NotOwner",
    "NotPermitted",
    "NotWaiting",
    "NothingToDispute",
    "Principal",
    "Priority",
    "ReasonRequired",
    "RootCause",
    "SLAAlreadyRecorded",
    "SLAPort",
    "Status",
    "Stint",
    "StintOutcome",
    "Ticket",
    "TicketClosed",
    "TicketError",
    "TicketEvent",
    "TicketNotFound",
    "TicketNotResolved",
    "TicketResolved",
    "UnknownDispute",
    "UnknownHandoff",
    "dispute_id_for",
    "follow_up_id_for",
    "register_transcodings",
    "stint_resolution_clock_id",
]
