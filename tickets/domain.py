"""The Ticket aggregate: every action on a ticket is an event.

This module imports only the standard library and ``eventsourcing`` (an
import-linter contract enforces it), so the rules here can be tested with no
database and reused by any interface.

Rules (each violation raises a :class:`TicketError` subclass with a stable
``code``):

* only the owning department may respond, hand off, resolve, wait on the
  customer, end waiting or assign an agent;
* a handoff must name an active department other than the current owner,
  and give a reason;
* a resolved ticket accepts nothing but a reopen; a closed ticket accepts
  nothing at all;
* reopening needs a reason; text fields have maximum lengths.

Every event carries the acting principal (:class:`Actor`) and a timezone-
aware UTC ``timestamp`` supplied by the caller's clock, never read here.

Events carry explicit, stable topics (``baton.tickets:Ticket.<Name>``) so
that moving or renaming classes never orphans stored events.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar, Protocol
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, Transcoding

TOPIC_PREFIX = "baton.tickets:"


# ---------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------


class Status(StrEnum):
    OPEN = "open"
    WAITING = "waiting"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Channel(StrEnum):
    PHONE = "phone"
    WEB = "web"
    APP = "app"
    CHAT = "chat"
    EMAIL = "email"
    SOCIAL = "social"
    OTHER = "other"


class RootCause(StrEnum):
    PRODUCT_DEFECT = "product_defect"
    PROCESS = "process"
    POLICY = "policy"
    CUSTOMER_ERROR = "customer_error"
    OTHER = "other"


class ActorKind(StrEnum):
    USER = "user"
    INTEGRATION = "integration"
    CUSTOMER = "customer"
    SYSTEM = "system"


class StintOutcome(StrEnum):
    """How a department's response obligation for one stint ended."""

    RESPONDED = "responded"
    HANDED_ON = "handed_on"
    RESOLVED = "resolved"


class ClockKind(StrEnum):
    RESPONSE = "response"
    RESOLUTION = "resolution"


class DisputeSubject(StrEnum):
    """What a department's scorecard may be disputed over."""

    BREACH = "breach"
    RATING = "rating"


class DisputeDecision(StrEnum):
    ACCEPTED = "accepted"  # the breach or rating stands
    WAIVED = "waived"  # it no longer counts in adjusted figures


MAX_SUBJECT = 200
MAX_TEXT = 10_000
MAX_REASON = 1_000
MAX_SHORT = 200
MAX_EXTERNAL_REF = 128
MAX_COMMENT = 2_000
# C0 controls other than tab, newline and carriage return, and DEL: a NUL
# cannot even be stored in a PostgreSQL text column.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SCENARIO_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class Actor:
    """Who did something, and for which department.

    ``name`` is the full display name (internal views); ``short_name`` is
    what customers may see (a first name or a role), never a surname.
    """

    kind: str
    id: str
    name: str = ""
    short_name: str = ""
    department: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ActorKind.__members__.values():
            raise ValueError(f"unknown actor kind {self.kind!r}")
        if not self.id:
            raise ValueError("an actor needs an id")

    @classmethod
    def system(cls, name: str = "Baton") -> Actor:
        return cls(kind=ActorKind.SYSTEM, id="system", name=name, short_name=name)


@dataclass(frozen=True)
class Principal:
    """Someone who issues commands, with every department they belong to.

    The application turns a principal into the :class:`Actor` stored in an
    event once it knows the ticket: staff act for the owning department when
    they belong to it, else for the front line, else for their first one.
    """

    kind: str
    id: str
    name: str = ""
    short_name: str = ""
    departments: tuple[str, ...] = ()
    #: The departments this principal leads (a subset of ``departments``).
    leads: tuple[str, ...] = ()

    def actor_for(self, owner: str | None, front_line: str | None = None) -> Actor:
        department: str | None = None
        for preferred in (owner, front_line):
            if preferred is not None and preferred in self.departments:
                department = preferred
                break
        else:
            department = self.departments[0] if self.departments else None
        return Actor(
            kind=self.kind,
            id=self.id,
            name=self.name,
            short_name=self.short_name,
            department=department,
        )


@dataclass(frozen=True)
class DepartmentRef:
    """What the aggregate needs to know about a department it is handed."""

    code: str
    name: str
    active: bool = True
    front_line: bool = False
    #: IANA name; fixed in the events that start the department's stints,
    #: so scorecard periods (days, weeks, months in the department's own
    #: time) never move when the department's settings change later.
    timezone: str = "UTC"


@dataclass(frozen=True)
class AgentRef:
    """A user who may be assigned, with the departments they belong to."""

    id: str
    name: str
    departments: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ClockTerms:
    """What a department promised when one of its clocks starts. Fixed in
    the ClockStarted event, so replaying history never consults today's
    policy or calendar."""

    target_seconds: float
    due_at: datetime
    warn_at: datetime
    policy_version: int
    calendar_version: int
    pauses_on_waiting: bool = True


class SLAPort(Protocol):
    """Business-time services the aggregate needs to run clocks.

    ``terms`` returns None when the department has no target for that kind
    of clock. Business time is measured on the department's calendar at
    the given (immutable) calendar version.
    """

    def terms(
        self,
        *,
        kind: str,
        department: str,
        priority: str,
        scenario: str,
        start: datetime,
    ) -> ClockTerms | None: ...

    def business_seconds(
        self, *, department: str, calendar_version: int, start: datetime, end: datetime
    ) -> float: ...

    def shift(
        self,
        *,
        department: str,
        calendar_version: int,
        instant: datetime,
        seconds: float,
    ) -> datetime: ...


class ActorAsDict(Transcoding):
    """Stores :class:`Actor` values as plain JSON objects."""

    type = Actor
    name = "actor"

    def encode(self, obj: Actor) -> dict[str, Any]:
        return {
            "kind": obj.kind,
            "id": obj.id,
            "name": obj.name,
            "short_name": obj.short_name,
            "department": obj.department,
        }

    def decode(self, data: dict[str, Any]) -> Actor:
        return Actor(**data)


def register_transcodings(transcoder: JSONTranscoder) -> None:
    transcoder.register(ActorAsDict())


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


class TicketError(Exception):
    """Base class of every rejected ticket command; ``code`` is stable."""

    code: ClassVar[str] = "ticket_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(TicketError):
    """Raised when a command argument is missing, too long or malformed."""

    code = "invalid_input"

    def __init__(self, message: str, *, field: str, code: str) -> None:
        super().__init__(message, field=field)
        self.code = code  # type: ignore[misc]


class NotOwner(TicketError):
    """Raised when a department that does not own the ticket acts on it."""

    code = "not_owner"


class NotPermitted(TicketError):
    """Raised when the actor's kind or department may not issue a command."""

    code = "not_permitted"


class HandoffToCurrentOwner(TicketError):
    """Raised when a ticket is handed to the department that owns it."""

    code = "handoff_to_current_owner"


class DepartmentInactive(TicketError):
    """Raised when a ticket is handed to an inactive department."""

    code = "department_inactive"


class ReasonRequired(TicketError):
    """Raised when a handoff or reopen gives no reason."""

    code = "reason_required"


class TicketResolved(TicketError):
    """Raised when anything but a reopen is tried on a resolved ticket."""

    code = "ticket_resolved"


class TicketClosed(TicketError):
    """Raised when anything at all is tried on a closed ticket."""

    code = "ticket_closed"


class TicketNotResolved(TicketError):
    """Raised when a ticket that is not resolved is reopened or closed."""

    code = "ticket_not_resolved"


class AlreadyWaiting(TicketError):
    """Raised when waiting starts on a ticket already waiting."""

    code = "already_waiting"


class NotWaiting(TicketError):
    """Raised when waiting ends on a ticket that is not waiting."""

    code = "not_waiting"


class AssigneeNotMember(TicketError):
    """Raised when the assignee is not a member of the owning department."""

    code = "assignee_not_member"


class NoChange(TicketError):
    """Raised when a change command would leave the ticket as it is."""

    code = "no_change"


class UnknownHandoff(TicketError):
    """Raised when a rating names a handoff that is not one of this
    ticket's stints."""

    code = "unknown_handoff"


class HandoffNotFinished(TicketError):
    """Raised when a handoff is rated before its department's part ended."""

    code = "handoff_not_finished"


class AlreadyRated(TicketError):
    """Raised when a handoff (or the ticket) is rated a second time."""

    code = "already_rated"


class InvalidScore(TicketError):
    """Raised when a rating is not a whole number from 1 to 5."""

    code = "invalid_score"


class NothingToDispute(TicketError):
    """Raised when a dispute names a breach or rating that was never
    recorded for that handoff."""

    code = "nothing_to_dispute"


class AlreadyDisputed(TicketError):
    """Raised when the breach or rating is already disputed (each may be
    disputed once; the decision is final)."""

    code = "already_disputed"


class UnknownDispute(TicketError):
    """Raised when a decision names a dispute this ticket does not have."""

    code = "unknown_dispute"


class DisputeAlreadyDecided(TicketError):
    """Raised when a dispute that was already accepted or waived is
    decided again."""

    code = "dispute_already_decided"


class ClockNotFound(TicketError):
    """Raised when a ticket has no clock with the given id."""

    code = "clock_not_found"


class SLAAlreadyRecorded(TicketError):
    """Raised when a clock's warning or breach was already recorded."""

    code = "sla_already_recorded"


class ClockNotDue(TicketError):
    """Raised when a warning or breach is recorded for a clock that is not
    running or has not reached the threshold yet."""

    code = "clock_not_due"


class TicketNotFound(TicketError):
    """Raised when no ticket has the given id."""

    code = "ticket_not_found"


class ConcurrencyConflict(TicketError):
    """Raised when another command changed the ticket after it was loaded;
    nothing from the losing command was stored."""

    code = "version_conflict"


# ---------------------------------------------------------------------------
# Validation helpers (pure)
# ---------------------------------------------------------------------------


def _text(
    value: Any, field_name: str, max_length: int, *, required: bool = True
) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(
            f"{field_name} must be text.", field=field_name, code="invalid_type"
        )
    value = str(value).strip()
    if CONTROL_CHARACTERS.search(value):
        raise InvalidInput(
            f"{field_name} contains control characters (such as NUL) that text "
            "cannot hold.",
            field=field_name,
            code="invalid_characters",
        )
    if required and not value:
        raise InvalidInput(
            f"{field_name} is required.", field=field_name, code="field_required"
        )
    if len(value) > max_length:
        raise InvalidInput(
            f"{field_name} must be at most {max_length} characters (got {len(value)}).",
            field=field_name,
            code="field_too_long",
        )
    return str(value)


def _reason(value: Any, field_name: str = "reason") -> str:
    text = _text(value, field_name, MAX_REASON, required=False)
    if not text:
        raise ReasonRequired(f"A {field_name} is required.", field=field_name)
    return text


def _choice(value: Any, enum: type[StrEnum], field_name: str) -> str:
    allowed = [m.value for m in enum]
    if value not in allowed:
        raise InvalidInput(
            f"{field_name} must be one of {', '.join(allowed)}.",
            field=field_name,
            code="invalid_choice",
        )
    return str(value)


def _scenario(value: Any) -> str:
    text = _text(value, "scenario", 64, required=False)
    if text and not SCENARIO_RE.match(text):
        raise InvalidInput(
            "scenario must be a code of letters, digits, '.', '_' or '-'.",
            field="scenario",
            code="invalid_scenario",
        )
    return text.upper()


def _timezone(value: Any) -> str:
    text = _text(value, "customer_timezone", 64, required=False) or "UTC"
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"customer_timezone {text!r} is not an IANA timezone name.",
            field="customer_timezone",
            code="invalid_timezone",
        ) from None
    return text


def _score(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise InvalidScore("A score is a whole number from 1 to 5.", field="score")
    return value


def _instant(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() != timedelta(0):
        raise ValueError("event times must be timezone-aware UTC datetimes")
    return at


# ---------------------------------------------------------------------------
# Aggregate
# ---------------------------------------------------------------------------


@dataclass
class Clock:
    """A running or finished SLA clock (state rebuilt from events)."""

    id: UUID
    kind: str
    department: str
    stint_id: UUID | None
    started_at: datetime
    target_seconds: float
    due_at: datetime
    warn_at: datetime
    policy_version: int
    calendar_version: int
    pauses_on_waiting: bool
    paused_at: datetime | None = None
    paused_seconds: float = 0.0
    stopped_at: datetime | None = None
    outcome: str | None = None
    warned: bool = False
    breached: bool = False

    @property
    def is_running(self) -> bool:
        return self.stopped_at is None and self.paused_at is None


def stint_resolution_clock_id(stint_id: UUID) -> UUID:
    """The id of a stint's resolution clock (its response clock has the
    stint's own id; the ticket-level resolution clock has the ticket's)."""
    return uuid5(NAMESPACE_URL, f"baton:stint-resolution:{stint_id}")


@dataclass
class Stint:
    """One department's period of ownership (state rebuilt from events)."""

    id: UUID
    department: str
    department_name: str
    started_at: datetime
    from_department: str | None = None
    timezone: str = "UTC"
    first_response_at: datetime | None = None
    outcome: str | None = None
    ended_at: datetime | None = None
    agent_id: str | None = None
    rated: bool = False

    @property
    def is_finished(self) -> bool:
        return self.ended_at is not None


def dispute_id_for(handoff_id: UUID, subject: str) -> UUID:
    """A breach or a rating is disputed at most once, so the dispute's id
    is derived from what it disputes."""
    return uuid5(NAMESPACE_URL, f"baton:dispute:{handoff_id}:{subject}")


@dataclass
class Dispute:
    id: UUID
    subject: str
    handoff_id: UUID
    department: str
    decision: str | None = None


def _upcast_timezone(field_name: str) -> Any:
    """Upcaster for events stored before departments' timezones were fixed
    in them: those stints are counted in UTC."""

    def upcast(state: dict[str, Any]) -> None:
        state.setdefault(field_name, "UTC")

    return staticmethod(upcast)


def _require_port(sla: SLAPort | None) -> SLAPort:
    if sla is None:
        raise RuntimeError("This ticket has SLA clocks: an SLA port is required.")
    return sla


def _topic(name: str) -> str:
    return f"{TOPIC_PREFIX}Ticket.{name}"


class Ticket(Aggregate):
    """A customer's problem and its journey across departments."""

    TOPIC = f"{TOPIC_PREFIX}Ticket"

    # -- events -------------------------------------------------------------

    class Event(Aggregate.Event):
        actor: Actor

    class Created(Aggregate.Created):
        """Library base "created" event; Baton creates tickets with Opened."""

        TOPIC = _topic("Created")

    class Opened(Aggregate.Created):
        """A customer's problem was recorded; the front line owns it."""

        TOPIC = _topic("Opened")
        actor: Actor
        stint_id: UUID
        subject: str
        description: str
        customer_ref: str
        customer_name: str
        customer_contact: str
        customer_timezone: str
        channel: str
        external_ref: str
        scenario: str
        priority: str
        department: str
        department_name: str
        department_timezone: str

        class_version = 2
        upcast_v1_v2 = _upcast_timezone("department_timezone")

        def apply(self, ticket: Ticket) -> None:
            ticket.subject = self.subject
            ticket.description = self.description
            ticket.customer_ref = self.customer_ref
            ticket.customer_name = self.customer_name
            ticket.customer_contact = self.customer_contact
            ticket.customer_timezone = self.customer_timezone
            ticket.channel = self.channel
            ticket.external_ref = self.external_ref
            ticket.scenario = self.scenario
            ticket.priority = self.priority
            ticket.front_line = self.department
            ticket.owner = self.department
            ticket.owner_name = self.department_name
            ticket.status = Status.OPEN
            ticket.assignee_id = None
            ticket.stints = {}
            ticket.clocks = {}
            ticket.experience_rated = False
            ticket.current_stint_id = None
            ticket.resolved_at = None
            ticket.disputes = {}
            ticket._start_stint(
                self.stint_id,
                self.department,
                self.department_name,
                self.timestamp,
                timezone=self.department_timezone,
            )

    class HandedOff(Event):
        """The receiving department now owns the ticket (and its clock)."""

        TOPIC = _topic("HandedOff")
        handoff_id: UUID
        from_stint_id: UUID
        from_department: str
        to_department: str
        to_department_name: str
        to_department_timezone: str
        reason: str

        class_version = 2
        upcast_v1_v2 = _upcast_timezone("to_department_timezone")

        def apply(self, ticket: Ticket) -> None:
            ticket._end_stint(self.timestamp, StintOutcome.HANDED_ON)
            ticket.owner = self.to_department
            ticket.owner_name = self.to_department_name
            ticket.assignee_id = None
            ticket._start_stint(
                self.handoff_id,
                self.to_department,
                self.to_department_name,
                self.timestamp,
                from_department=self.from_department,
                timezone=self.to_department_timezone,
            )

    class Responded(Event):
        """The owning department replied publicly to the customer."""

        TOPIC = _topic("Responded")
        stint_id: UUID
        body: str

        def apply(self, ticket: Ticket) -> None:
            stint = ticket.stints[self.stint_id]
            if stint.first_response_at is None:
                stint.first_response_at = self.timestamp
                stint.outcome = stint.outcome or StintOutcome.RESPONDED

    class NoteAdded(Event):
        """An internal note; never shown to customers."""

        TOPIC = _topic("NoteAdded")
        body: str

    class CustomerReplied(Event):
        """The customer wrote to the ticket."""

        TOPIC = _topic("CustomerReplied")
        body: str

    class WaitingOnCustomer(Event):
        """The owning department needs the customer before it can go on."""

        TOPIC = _topic("WaitingOnCustomer")
        reason: str

        def apply(self, ticket: Ticket) -> None:
            ticket.status = Status.WAITING

    class WaitingEnded(Event):
        """Waiting on the customer is over (reply, handoff or by hand)."""

        TOPIC = _topic("WaitingEnded")
        cause: str

        def apply(self, ticket: Ticket) -> None:
            ticket.status = Status.OPEN

    class Resolved(Event):
        """The owning department solved the customer's problem."""

        TOPIC = _topic("Resolved")
        stint_id: UUID
        resolution: str
        root_cause: str

        def apply(self, ticket: Ticket) -> None:
            ticket._end_stint(self.timestamp, StintOutcome.RESOLVED)
            ticket.status = Status.RESOLVED
            ticket.resolved_at = self.timestamp
            ticket.resolved_by = self.actor.department

    class Reopened(Event):
        """The problem came back; the last owner gets a fresh stint."""

        TOPIC = _topic("Reopened")
        reason: str
        stint_id: UUID
        department: str
        department_name: str
        department_timezone: str

        class_version = 2
        upcast_v1_v2 = _upcast_timezone("department_timezone")

        def apply(self, ticket: Ticket) -> None:
            ticket.status = Status.OPEN
            ticket.resolved_at = None
            ticket._start_stint(
                self.stint_id,
                self.department,
                self.department_name,
                self.timestamp,
                timezone=self.department_timezone,
            )

    class Closed(Event):
        """The ticket is final; nothing more can happen to it."""

        TOPIC = _topic("Closed")

        def apply(self, ticket: Ticket) -> None:
            ticket.status = Status.CLOSED

    class PriorityChanged(Event):
        TOPIC = _topic("PriorityChanged")
        priority: str
        previous: str

        def apply(self, ticket: Ticket) -> None:
            ticket.priority = self.priority

    class ScenarioChanged(Event):
        TOPIC = _topic("ScenarioChanged")
        scenario: str
        previous: str

        def apply(self, ticket: Ticket) -> None:
            ticket.scenario = self.scenario

    class AgentAssigned(Event):
        """A member of the owning department now works the ticket."""

        TOPIC = _topic("AgentAssigned")
        stint_id: UUID
        agent_id: str
        agent_name: str
        department: str

        def apply(self, ticket: Ticket) -> None:
            ticket.assignee_id = self.agent_id
            ticket.stints[self.stint_id].agent_id = self.agent_id

    class HandoffRated(Event):
        """The customer rated one department's part of the journey. The
        department and agent are those of the stint, fixed when it ran."""

        TOPIC = _topic("HandoffRated")
        handoff_id: UUID
        department: str
        department_name: str
        agent_id: str
        score: int
        comment: str

        def apply(self, ticket: Ticket) -> None:
            ticket.stints[self.handoff_id].rated = True

    class ExperienceRated(Event):
        """The customer rated the ticket as a whole, after resolution."""

        TOPIC = _topic("ExperienceRated")
        score: int
        comment: str

        def apply(self, ticket: Ticket) -> None:
            ticket.experience_rated = True

    class ClockStarted(Event):
        """A department's clock started, with its due time fixed here."""

        TOPIC = _topic("ClockStarted")
        clock_id: UUID
        kind: str
        stint_id: UUID | None
        department: str
        target_seconds: float
        due_at: datetime
        warn_at: datetime
        policy_version: int
        calendar_version: int
        pauses_on_waiting: bool

        def apply(self, ticket: Ticket) -> None:
            ticket.clocks[self.clock_id] = Clock(
                id=self.clock_id,
                kind=self.kind,
                department=self.department,
                stint_id=self.stint_id,
                started_at=self.timestamp,
                target_seconds=self.target_seconds,
                due_at=self.due_at,
                warn_at=self.warn_at,
                policy_version=self.policy_version,
                calendar_version=self.calendar_version,
                pauses_on_waiting=self.pauses_on_waiting,
            )

    class ClockPaused(Event):
        """Waiting on the customer paused the clock."""

        TOPIC = _topic("ClockPaused")
        clock_id: UUID

        def apply(self, ticket: Ticket) -> None:
            ticket.clocks[self.clock_id].paused_at = self.timestamp

    class ClockResumed(Event):
        """The clock runs again; its due time moved by the business time it
        was paused (or, after a reopen, stopped)."""

        TOPIC = _topic("ClockResumed")
        clock_id: UUID
        paused_seconds: float
        due_at: datetime
        warn_at: datetime
        cause: str

        def apply(self, ticket: Ticket) -> None:
            clock = ticket.clocks[self.clock_id]
            clock.paused_at = None
            clock.stopped_at = None
            clock.outcome = None
            clock.paused_seconds += self.paused_seconds
            clock.due_at = self.due_at
            clock.warn_at = self.warn_at

    class ClockStopped(Event):
        """The clock stopped; the verdict compares event time and due time."""

        TOPIC = _topic("ClockStopped")
        clock_id: UUID
        outcome: str
        business_seconds_used: float
        breached: bool

        def apply(self, ticket: Ticket) -> None:
            clock = ticket.clocks[self.clock_id]
            clock.stopped_at = self.timestamp
            clock.outcome = self.outcome

    class SLAWarningIssued(Event):
        """A running clock passed its warning threshold."""

        TOPIC = _topic("SLAWarningIssued")
        clock_id: UUID
        kind: str
        department: str
        warn_at: datetime
        due_at: datetime

        def apply(self, ticket: Ticket) -> None:
            ticket.clocks[self.clock_id].warned = True

    class SLABreached(Event):
        """A clock passed its due time; ``due_at`` is the true breach time
        even when the breach is found later."""

        TOPIC = _topic("SLABreached")
        clock_id: UUID
        kind: str
        department: str
        due_at: datetime

        def apply(self, ticket: Ticket) -> None:
            ticket.clocks[self.clock_id].breached = True

    class DisputeOpened(Event):
        """A breach or rating on a department's handoff is contested. The
        recorded breach or rating itself never changes."""

        TOPIC = _topic("DisputeOpened")
        dispute_id: UUID
        subject: str
        handoff_id: UUID
        department: str
        reason: str

        def apply(self, ticket: Ticket) -> None:
            ticket.disputes[self.dispute_id] = Dispute(
                id=self.dispute_id,
                subject=self.subject,
                handoff_id=self.handoff_id,
                department=self.department,
            )

    class DisputeDecided(Event):
        """A front-line lead accepted the disputed breach or rating (it
        stands) or waived it (adjusted scorecard figures leave it out)."""

        TOPIC = _topic("DisputeDecided")
        dispute_id: UUID
        subject: str
        handoff_id: UUID
        department: str
        decision: str
        reason: str

        def apply(self, ticket: Ticket) -> None:
            ticket.disputes[self.dispute_id].decision = self.decision

    # -- state --------------------------------------------------------------

    subject: str
    description: str
    customer_ref: str
    customer_name: str
    customer_contact: str
    customer_timezone: str
    channel: str
    external_ref: str
    scenario: str
    priority: str
    front_line: str
    owner: str
    owner_name: str
    status: Status
    assignee_id: str | None
    stints: dict[UUID, Stint]
    current_stint_id: UUID | None
    resolved_at: datetime | None
    resolved_by: str | None
    clocks: dict[UUID, Clock]
    experience_rated: bool
    disputes: dict[UUID, Dispute]

    def __init__(self) -> None:
        """State is set by :class:`Ticket.Opened`; see :meth:`open`."""

    def _start_stint(
        self,
        stint_id: UUID,
        department: str,
        department_name: str,
        at: datetime,
        *,
        from_department: str | None = None,
        timezone: str = "UTC",
    ) -> None:
        self.stints[stint_id] = Stint(
            id=stint_id,
            department=department,
            department_name=department_name,
            started_at=at,
            from_department=from_department,
            timezone=timezone,
        )
        self.current_stint_id = stint_id

    def _end_stint(self, at: datetime, outcome: StintOutcome) -> None:
        stint = self.current_stint
        if stint is None:
            return
        stint.ended_at = at
        stint.outcome = stint.outcome or outcome
        self.current_stint_id = None

    @property
    def current_stint(self) -> Stint | None:
        if self.current_stint_id is None:
            return None
        return self.stints[self.current_stint_id]

    # -- commands -----------------------------------------------------------

    @classmethod
    def open(
        cls,
        *,
        subject: str,
        description: str,
        customer_ref: str,
        customer_name: str = "",
        customer_contact: str = "",
        customer_timezone: str = "UTC",
        channel: str,
        external_ref: str = "",
        scenario: str = "",
        priority: str = Priority.NORMAL,
        front_line: DepartmentRef,
        actor: Actor,
        at: datetime,
        ticket_id: UUID | None = None,
        sla: SLAPort | None = None,
    ) -> Ticket:
        """Open a ticket owned by ``front_line``, which must be an active
        front-line department, and start the front line's response clock
        and the ticket-level resolution clock. Raises :class:`InvalidInput`,
        :class:`DepartmentInactive` or :class:`NotPermitted`."""
        if not front_line.front_line:
            raise NotPermitted(
                f"{front_line.name} is not a front-line department; tickets "
                "open with the front line.",
                field="department",
            )
        if not front_line.active:
            raise DepartmentInactive(
                f"{front_line.name} is not active.", field="department"
            )
        ticket: Ticket = cls._create(
            cls.Opened,
            id=ticket_id or uuid4(),
            timestamp=_instant(at),
            actor=actor,
            stint_id=uuid4(),
            subject=_text(subject, "subject", MAX_SUBJECT),
            description=_text(description, "description", MAX_TEXT, required=False),
            customer_ref=_text(customer_ref, "customer_ref", MAX_SHORT),
            customer_name=_text(
                customer_name, "customer_name", MAX_SHORT, required=False
            ),
            customer_contact=_text(
                customer_contact, "customer_contact", MAX_SHORT, required=False
            ),
            customer_timezone=_timezone(customer_timezone),
            channel=_choice(channel, Channel, "channel"),
            external_ref=_text(
                external_ref, "external_ref", MAX_EXTERNAL_REF, required=False
            ),
            scenario=_scenario(scenario),
            priority=_choice(priority, Priority, "priority"),
            department=front_line.code,
            department_name=front_line.name,
            department_timezone=front_line.timezone,
        )
        assert ticket.current_stint_id is not None
        ticket._start_stint_clocks(sla, ticket.current_stint_id, actor, at)
        ticket._start_clock(
            sla, ClockKind.RESOLUTION, ticket.id, None, front_line.code, actor, at
        )
        return ticket

    def hand_off(
        self,
        *,
        to: DepartmentRef,
        reason: str,
        actor: Actor,
        at: datetime,
        sla: SLAPort | None = None,
    ) -> UUID:
        """Hand the ticket to another department, which now owns it.

        Only the owner may hand off; the target must be active and not the
        owner; a reason is required. Ends any waiting on the customer.
        Returns the new handoff (stint) id."""
        self._require_open_for_work()
        self._require_owner(actor, "hand off")
        if to.code == self.owner:
            raise HandoffToCurrentOwner(
                f"{to.name} already owns this ticket.", field="to_department"
            )
        if not to.active:
            raise DepartmentInactive(
                f"{to.name} is not active and cannot receive tickets.",
                field="to_department",
            )
        clean_reason = _reason(reason)
        if self.status == Status.WAITING:
            self._trigger(self.WaitingEnded, actor, at, cause="handed_off")
            self._resume_clocks(sla, actor, at, cause="waiting_ended")
        handoff_id = uuid4()
        from_stint_id = self.current_stint_id
        assert from_stint_id is not None
        self._trigger(
            self.HandedOff,
            actor,
            at,
            handoff_id=handoff_id,
            from_stint_id=self.current_stint_id,
            from_department=self.owner,
            to_department=to.code,
            to_department_name=to.name,
            to_department_timezone=to.timezone,
            reason=clean_reason,
        )
        self._stop_stint_clocks(sla, from_stint_id, StintOutcome.HANDED_ON, actor, at)
        self._start_stint_clocks(sla, handoff_id, actor, at)
        return handoff_id

    def respond(
        self, *, body: str, actor: Actor, at: datetime, sla: SLAPort | None = None
    ) -> None:
        """Reply publicly to the customer; owner only. The stint's first
        response stops its response clock."""
        self._require_open_for_work()
        self._require_owner(actor, "respond")
        stint_id = self.current_stint_id
        assert stint_id is not None
        self._trigger(
            self.Responded,
            actor,
            at,
            stint_id=stint_id,
            body=_text(body, "body", MAX_TEXT),
        )
        self._stop_clocks(sla, [stint_id], StintOutcome.RESPONDED, actor, at)

    def add_note(self, *, body: str, actor: Actor, at: datetime) -> None:
        """Add an internal note (never shown to customers); staff only."""
        self._require_open_for_work()
        if actor.kind == ActorKind.CUSTOMER:
            raise NotPermitted("Customers cannot add internal notes.")
        self._require_involved(actor, "add a note")
        self._trigger(self.NoteAdded, actor, at, body=_text(body, "body", MAX_TEXT))

    def record_customer_reply(
        self, *, body: str, actor: Actor, at: datetime, sla: SLAPort | None = None
    ) -> None:
        """Record the customer's message; it ends any waiting on them and
        resumes the paused clocks."""
        self._require_open_for_work()
        self._trigger(
            self.CustomerReplied, actor, at, body=_text(body, "body", MAX_TEXT)
        )
        if self.status == Status.WAITING:
            self._trigger(self.WaitingEnded, actor, at, cause="customer_replied")
            self._resume_clocks(sla, actor, at, cause="waiting_ended")

    def wait_on_customer(self, *, reason: str = "", actor: Actor, at: datetime) -> None:
        """Pause for the customer; owner only."""
        self._require_open_for_work()
        self._require_owner(actor, "wait on the customer")
        if self.status == Status.WAITING:
            raise AlreadyWaiting("The ticket is already waiting on the customer.")
        self._trigger(
            self.WaitingOnCustomer,
            actor,
            at,
            reason=_text(reason, "reason", MAX_REASON, required=False),
        )
        for clock in list(self.clocks.values()):
            if clock.is_running and clock.pauses_on_waiting:
                if at > clock.due_at and not clock.breached:
                    # Already late: the breach happened before the pause,
                    # whether or not a sweep noticed it in time.
                    self._breach(clock, actor, at)
                self._trigger(self.ClockPaused, actor, at, clock_id=clock.id)

    def end_waiting(
        self, *, actor: Actor, at: datetime, sla: SLAPort | None = None
    ) -> None:
        """Stop waiting on the customer; owner only. Resumes paused clocks."""
        self._require_open_for_work()
        self._require_owner(actor, "end waiting")
        if self.status != Status.WAITING:
            raise NotWaiting("The ticket is not waiting on the customer.")
        self._trigger(self.WaitingEnded, actor, at, cause="ended_by_staff")
        self._resume_clocks(sla, actor, at, cause="waiting_ended")

    def resolve(
        self,
        *,
        resolution: str,
        root_cause: str,
        actor: Actor,
        at: datetime,
        sla: SLAPort | None = None,
    ) -> None:
        """Mark the problem solved; owner only. Stops the stint's clocks and
        the ticket-level resolution clock."""
        self._require_open_for_work()
        self._require_owner(actor, "resolve")
        stint_id = self.current_stint_id
        assert stint_id is not None
        self._trigger(
            self.Resolved,
            actor,
            at,
            stint_id=stint_id,
            resolution=_text(resolution, "resolution", MAX_TEXT),
            root_cause=_choice(root_cause, RootCause, "root_cause"),
        )
        self._stop_stint_clocks(sla, stint_id, StintOutcome.RESOLVED, actor, at)
        self._stop_clocks(sla, [self.id], StintOutcome.RESOLVED, actor, at)

    def reopen(
        self,
        *,
        reason: str,
        actor: Actor,
        at: datetime,
        sla: SLAPort | None = None,
        timezone: str | None = None,
    ) -> None:
        """Reopen a resolved ticket; the department that resolved it gets a
        fresh stint (and response clock), and the ticket-level resolution
        clock resumes, its due time moved by the time it was stopped.
        Needs a reason. ``timezone`` is the department's timezone now (by
        default, that of its previous stint)."""
        self._require_not_closed()
        if self.status != Status.RESOLVED:
            raise TicketNotResolved("Only a resolved ticket can be reopened.")
        if actor.kind != ActorKind.CUSTOMER:
            self._require_involved(actor, "reopen")
        self._trigger(
            self.Reopened,
            actor,
            at,
            reason=_reason(reason),
            stint_id=uuid4(),
            department=self.owner,
            department_name=self.owner_name,
            department_timezone=timezone or list(self.stints.values())[-1].timezone,
        )
        ticket_clock = self.clocks.get(self.id)
        if ticket_clock is not None and ticket_clock.stopped_at is not None:
            self._resume_clock(sla, ticket_clock, actor, at, cause="reopened")
        assert self.current_stint_id is not None
        self._start_stint_clocks(sla, self.current_stint_id, actor, at)

    def close(self, *, actor: Actor, at: datetime) -> None:
        """Close a resolved ticket for good; the owner or the front line."""
        self._require_not_closed()
        if self.status != Status.RESOLVED:
            raise TicketNotResolved("Only a resolved ticket can be closed.")
        self._require_owner_or_front_line(actor, "close")
        self._trigger(self.Closed, actor, at)

    def change_priority(self, *, priority: str, actor: Actor, at: datetime) -> None:
        """Change the priority; the owner or the front line."""
        self._require_open_for_work()
        self._require_owner_or_front_line(actor, "change the priority")
        value = _choice(priority, Priority, "priority")
        if value == self.priority:
            raise NoChange(f"The priority is already {value}.", field="priority")
        self._trigger(
            self.PriorityChanged, actor, at, priority=value, previous=self.priority
        )

    def change_scenario(self, *, scenario: str, actor: Actor, at: datetime) -> None:
        """Change the business scenario; the owner or the front line."""
        self._require_open_for_work()
        self._require_owner_or_front_line(actor, "change the scenario")
        value = _scenario(scenario)
        if value == self.scenario:
            raise NoChange(f"The scenario is already {value!r}.", field="scenario")
        self._trigger(
            self.ScenarioChanged, actor, at, scenario=value, previous=self.scenario
        )

    def assign(self, *, agent: AgentRef, actor: Actor, at: datetime) -> None:
        """Assign a member of the owning department; owner only."""
        self._require_open_for_work()
        self._require_owner(actor, "assign")
        if self.owner not in agent.departments:
            raise AssigneeNotMember(
                f"{agent.name} is not a member of {self.owner_name}.",
                field="agent",
            )
        if agent.id == self.assignee_id:
            raise NoChange(f"{agent.name} is already assigned.", field="agent")
        assert self.current_stint_id is not None
        self._trigger(
            self.AgentAssigned,
            actor,
            at,
            stint_id=self.current_stint_id,
            agent_id=agent.id,
            agent_name=_text(agent.name, "agent_name", MAX_SHORT),
            department=self.owner,
        )

    def rate_handoff(
        self,
        *,
        handoff_id: UUID,
        score: Any,
        comment: str = "",
        actor: Actor,
        at: datetime,
    ) -> None:
        """Rate a finished stint (the department handed the ticket on or
        resolved it), once. Attributed to that stint's department and the
        agent who handled it."""
        self._require_not_closed()
        self._require_customer_voice(actor)
        stint = self.stints.get(handoff_id)
        if stint is None:
            raise UnknownHandoff(
                "That handoff is not part of this ticket.", field="handoff_id"
            )
        if not stint.is_finished:
            raise HandoffNotFinished(
                f"{stint.department_name} is still working on this; rate it "
                "once it has handed the ticket on or resolved it.",
                field="handoff_id",
            )
        if stint.rated:
            raise AlreadyRated("This handoff is already rated.", field="handoff_id")
        self._trigger(
            self.HandoffRated,
            actor,
            at,
            handoff_id=handoff_id,
            department=stint.department,
            department_name=stint.department_name,
            agent_id=stint.agent_id or "",
            score=_score(score),
            comment=_text(comment, "comment", MAX_COMMENT, required=False),
        )

    def rate_experience(
        self, *, score: Any, comment: str = "", actor: Actor, at: datetime
    ) -> None:
        """Rate the whole ticket once, after it is resolved."""
        self._require_not_closed()
        self._require_customer_voice(actor)
        if self.status != Status.RESOLVED:
            raise TicketNotResolved("The ticket can be rated once it is resolved.")
        if self.experience_rated:
            raise AlreadyRated("The ticket is already rated.")
        self._trigger(
            self.ExperienceRated,
            actor,
            at,
            score=_score(score),
            comment=_text(comment, "comment", MAX_COMMENT, required=False),
        )

    def dispute(
        self,
        *,
        handoff_id: UUID,
        subject: str,
        reason: str,
        actor: Actor,
        at: datetime,
    ) -> UUID:
        """Dispute the breach of a handoff's response promise, or the
        customer's rating of it, with a reason. The department judged or
        the front line may dispute (staff only), also on a closed ticket:
        the dispute changes scorecards, not the ticket. Each breach or
        rating is disputed at most once. Returns the dispute id."""
        if actor.kind not in (ActorKind.USER, ActorKind.INTEGRATION):
            raise NotPermitted("Only staff can dispute a breach or a rating.")
        value = _choice(subject, DisputeSubject, "subject")
        stint = self.stints.get(handoff_id)
        if stint is None:
            raise UnknownHandoff(
                "That handoff is not part of this ticket.", field="handoff_id"
            )
        if actor.department not in (stint.department, self.front_line):
            raise NotPermitted(
                f"Only {stint.department_name} or the front line may dispute "
                "this handoff's figures."
            )
        if value == DisputeSubject.BREACH:
            clock = self.clocks.get(handoff_id)
            if clock is None or not clock.breached:
                raise NothingToDispute(
                    "This handoff's response promise was not breached.",
                    field="handoff_id",
                )
        elif not stint.rated:
            raise NothingToDispute(
                "This handoff has not been rated.", field="handoff_id"
            )
        dispute_id = dispute_id_for(handoff_id, value)
        if dispute_id in self.disputes:
            raise AlreadyDisputed(
                f"This {value} is already disputed.", field="handoff_id"
            )
        self._trigger(
            self.DisputeOpened,
            actor,
            at,
            dispute_id=dispute_id,
            subject=value,
            handoff_id=handoff_id,
            department=stint.department,
            reason=_reason(reason),
        )
        return dispute_id

    def decide_dispute(
        self,
        *,
        dispute_id: UUID,
        decision: str,
        reason: str,
        actor: Actor,
        at: datetime,
        is_lead: bool,
    ) -> None:
        """Accept (the breach or rating stands) or waive (adjusted figures
        leave it out) an open dispute, with a reason. Only a lead of the
        ticket's front-line department (``is_lead``: the actor leads the
        department it acts for) may decide; the decision is final."""
        if (
            actor.kind != ActorKind.USER
            or actor.department != self.front_line
            or not is_lead
        ):
            raise NotPermitted("Only a front-line lead may decide a dispute.")
        dispute = self.disputes.get(dispute_id)
        if dispute is None:
            raise UnknownDispute("This ticket has no such dispute.", field="dispute_id")
        if dispute.decision is not None:
            raise DisputeAlreadyDecided(
                f"This dispute was already {dispute.decision}.", field="dispute_id"
            )
        self._trigger(
            self.DisputeDecided,
            actor,
            at,
            dispute_id=dispute_id,
            subject=dispute.subject,
            handoff_id=dispute.handoff_id,
            department=dispute.department,
            decision=_choice(decision, DisputeDecision, "decision"),
            reason=_reason(reason),
        )

    def record_sla_warning(self, *, clock_id: UUID, actor: Actor, at: datetime) -> None:
        """Record that a running clock passed its warning threshold; at most
        once per clock, never after its breach."""
        clock = self._clock(clock_id)
        if clock.warned or clock.breached:
            raise SLAAlreadyRecorded("A warning or breach is already recorded.")
        if not clock.is_running or at < clock.warn_at:
            raise ClockNotDue("The clock is not running past its warning time.")
        self._trigger(
            self.SLAWarningIssued,
            actor,
            at,
            clock_id=clock_id,
            kind=clock.kind,
            department=clock.department,
            warn_at=clock.warn_at,
            due_at=clock.due_at,
        )

    def record_sla_breach(self, *, clock_id: UUID, actor: Actor, at: datetime) -> None:
        """Record that a running clock passed its due time; at most once per
        clock. The event keeps the true due time however late it is found."""
        clock = self._clock(clock_id)
        if clock.breached:
            raise SLAAlreadyRecorded("The breach is already recorded.")
        if not clock.is_running or at < clock.due_at:
            raise ClockNotDue("The clock is not running past its due time.")
        self._breach(clock, actor, at)

    # -- clocks -------------------------------------------------------------

    def _breach(self, clock: Clock, actor: Actor, at: datetime) -> None:
        self._trigger(
            self.SLABreached,
            actor,
            at,
            clock_id=clock.id,
            kind=clock.kind,
            department=clock.department,
            due_at=clock.due_at,
        )

    def _clock(self, clock_id: UUID) -> Clock:
        try:
            return self.clocks[clock_id]
        except KeyError:
            raise ClockNotFound(f"The ticket has no clock {clock_id}.") from None

    def _start_clock(
        self,
        sla: SLAPort | None,
        kind: str,
        clock_id: UUID,
        stint_id: UUID | None,
        department: str,
        actor: Actor,
        at: datetime,
    ) -> None:
        if sla is None:
            return
        terms = sla.terms(
            kind=kind,
            department=department,
            priority=self.priority,
            scenario=self.scenario,
            start=at,
        )
        if terms is None:
            return
        self._trigger(
            self.ClockStarted,
            actor,
            at,
            clock_id=clock_id,
            kind=kind,
            stint_id=stint_id,
            department=department,
            target_seconds=terms.target_seconds,
            due_at=_instant(terms.due_at),
            warn_at=_instant(terms.warn_at),
            policy_version=terms.policy_version,
            calendar_version=terms.calendar_version,
            pauses_on_waiting=terms.pauses_on_waiting,
        )

    def _start_stint_clocks(
        self, sla: SLAPort | None, stint_id: UUID, actor: Actor, at: datetime
    ) -> None:
        """A stint's response clock; for back-office departments also a
        resolution (ownership) clock. The front line's resolution target is
        the ticket-level clock instead."""
        department = self.stints[stint_id].department
        self._start_clock(
            sla, ClockKind.RESPONSE, stint_id, stint_id, department, actor, at
        )
        if department != self.front_line:
            self._start_clock(
                sla,
                ClockKind.RESOLUTION,
                stint_resolution_clock_id(stint_id),
                stint_id,
                department,
                actor,
                at,
            )

    def _stop_stint_clocks(
        self,
        sla: SLAPort | None,
        stint_id: UUID,
        outcome: str,
        actor: Actor,
        at: datetime,
    ) -> None:
        ids = [stint_id, stint_resolution_clock_id(stint_id)]
        self._stop_clocks(sla, ids, outcome, actor, at)

    def _stop_clocks(
        self,
        sla: SLAPort | None,
        clock_ids: list[UUID],
        outcome: str,
        actor: Actor,
        at: datetime,
    ) -> None:
        for clock_id in clock_ids:
            clock = self.clocks.get(clock_id)
            if clock is None or clock.stopped_at is not None:
                continue
            port = _require_port(sla)
            if clock.paused_at is not None:
                self._resume_clock(port, clock, actor, at, cause="stopping")
            used = port.business_seconds(
                department=clock.department,
                calendar_version=clock.calendar_version,
                start=clock.started_at,
                end=at,
            )
            breached = clock.breached or at > clock.due_at
            if breached and not clock.breached:
                self._breach(clock, actor, at)
            self._trigger(
                self.ClockStopped,
                actor,
                at,
                clock_id=clock_id,
                outcome=outcome,
                business_seconds_used=max(0.0, used - clock.paused_seconds),
                breached=breached,
            )

    def _resume_clocks(
        self, sla: SLAPort | None, actor: Actor, at: datetime, *, cause: str
    ) -> None:
        for clock in list(self.clocks.values()):
            if clock.paused_at is not None and clock.stopped_at is None:
                self._resume_clock(sla, clock, actor, at, cause=cause)

    def _resume_clock(
        self,
        sla: SLAPort | None,
        clock: Clock,
        actor: Actor,
        at: datetime,
        *,
        cause: str,
    ) -> None:
        port = _require_port(sla)
        since = clock.paused_at or clock.stopped_at
        assert since is not None
        paused = port.business_seconds(
            department=clock.department,
            calendar_version=clock.calendar_version,
            start=since,
            end=at,
        )
        self._trigger(
            self.ClockResumed,
            actor,
            at,
            clock_id=clock.id,
            paused_seconds=paused,
            due_at=self._shift(port, clock, clock.due_at, paused),
            warn_at=self._shift(port, clock, clock.warn_at, paused),
            cause=cause,
        )

    @staticmethod
    def _shift(
        port: SLAPort, clock: Clock, instant: datetime, seconds: float
    ) -> datetime:
        if seconds <= 0:
            return instant
        return port.shift(
            department=clock.department,
            calendar_version=clock.calendar_version,
            instant=instant,
            seconds=seconds,
        )

    # -- guards -------------------------------------------------------------

    def _trigger(
        self, event_class: type[Ticket.Event], actor: Actor, at: datetime, **kw: Any
    ) -> None:
        self.trigger_event(event_class, timestamp=_instant(at), actor=actor, **kw)

    def _require_not_closed(self) -> None:
        if self.status == Status.CLOSED:
            raise TicketClosed("The ticket is closed; nothing more can be done.")

    def _require_open_for_work(self) -> None:
        self._require_not_closed()
        if self.status == Status.RESOLVED:
            raise TicketResolved(
                "The ticket is resolved; reopen it before doing anything else."
            )

    def _require_owner(self, actor: Actor, action: str) -> None:
        if actor.department != self.owner:
            raise NotOwner(
                f"Only {self.owner_name}, which owns this ticket, may {action}."
            )

    @property
    def departments_involved(self) -> set[str]:
        """The front line and every department that has owned the ticket."""
        return {self.front_line} | {s.department for s in self.stints.values()}

    def _require_involved(self, actor: Actor, action: str) -> None:
        if actor.kind == ActorKind.SYSTEM:
            return
        if actor.department not in self.departments_involved:
            raise NotPermitted(
                f"Only departments that have handled this ticket may {action}."
            )

    def _require_customer_voice(self, actor: Actor) -> None:
        """Ratings are the customer's: given by the customer, or relayed by
        the front line's channel, never by a department judging itself."""
        if actor.kind == ActorKind.CUSTOMER or actor.department == self.front_line:
            return
        raise NotPermitted(
            "Ratings come from the customer (or the front line relaying them)."
        )

    def _require_owner_or_front_line(self, actor: Actor, action: str) -> None:
        if actor.department not in (self.owner, self.front_line):
            raise NotOwner(f"Only {self.owner_name} or the front line may {action}.")
