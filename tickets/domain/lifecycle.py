"""A ticket's life: opened by the front line, answered, noted, replied to
by the customer, resolved, reopened and closed, and its priority and
scenario changed on the way."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from tickets.domain.actors import Actor, DepartmentRef
from tickets.domain.clocks import SLAPort
from tickets.domain.errors import (
    DepartmentInactive,
    InvalidInput,
    NoChange,
    NotPermitted,
    TicketNotResolved,
)
from tickets.domain.state import (
    TicketEvent,
    TicketState,
    upcast_attachments,
    upcast_language,
    upcast_timezone,
)
from tickets.domain.validation import (
    _attachments,
    _choice,
    _instant,
    _language,
    _reason,
    _scenario,
    _text,
    _timezone,
)
from tickets.domain.vocabulary import (
    MAX_EXTERNAL_REF,
    MAX_REASON,
    MAX_SHORT,
    MAX_SUBJECT,
    MAX_TEXT,
    ActorKind,
    Channel,
    ClockKind,
    Priority,
    RootCause,
    Status,
    StintOutcome,
    event_topic,
)
from tickets.domain.waiting import Waiting


class Lifecycle(Waiting):
    """Ticket commands from opening to closing."""

    # -- open -------------------------------------------------------------------

    class Created(Aggregate.Created, TicketEvent):
        """Library base "created" event; Baton creates tickets with Opened."""

        TOPIC = event_topic("Created")

    class Opened(Aggregate.Created, TicketEvent):
        """A customer's problem was recorded; the front line owns it."""

        TOPIC = event_topic("Opened")
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
        attachments: list[dict[str, Any]]
        language: str

        class_version = 4
        upcast_v1_v2 = upcast_timezone("department_timezone")
        upcast_v2_v3 = staticmethod(upcast_attachments)
        upcast_v3_v4 = staticmethod(upcast_language)

        def apply(self, ticket: TicketState) -> None:
            ticket.subject = self.subject
            ticket.description = self.description
            ticket.customer_ref = self.customer_ref
            ticket.customer_name = self.customer_name
            ticket.customer_contact = self.customer_contact
            ticket.customer_timezone = self.customer_timezone
            ticket.language = self.language
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
        attachments: list[dict[str, Any]] | None = None,
        language: str = "",
    ) -> Self:
        """Open a ticket owned by ``front_line``, which must be an active
        front-line department, and start the front line's response clock
        and the ticket-level resolution clock. ``language`` is the
        customer's (a language tag such as ``zh-hans``; ``""`` is the
        site's default): their page and emails use it. Raises
        :class:`InvalidInput`, :class:`DepartmentInactive` or
        :class:`NotPermitted`."""
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
        ticket = cls._create(
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
            attachments=_attachments(attachments),
            language=_language(language),
        )
        assert ticket.current_stint_id is not None
        ticket._start_stint_clocks(sla, ticket.current_stint_id, actor, at)
        ticket._start_clock(
            sla, ClockKind.RESOLUTION, ticket.id, None, front_line.code, actor, at
        )
        return ticket

    # -- conversation -----------------------------------------------------------

    class Responded(TicketEvent):
        """The owning department replied publicly to the customer."""

        TOPIC = event_topic("Responded")
        stint_id: UUID
        body: str
        attachments: list[dict[str, Any]]

        class_version = 2
        upcast_v1_v2 = staticmethod(upcast_attachments)

        def apply(self, ticket: TicketState) -> None:
            stint = ticket.stints[self.stint_id]
            if stint.first_response_at is None:
                stint.first_response_at = self.timestamp
                stint.outcome = stint.outcome or StintOutcome.RESPONDED

    def respond(
        self,
        *,
        body: str,
        actor: Actor,
        at: datetime,
        sla: SLAPort | None = None,
        attachments: list[dict[str, Any]] | None = None,
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
            attachments=_attachments(attachments),
        )
        self._stop_clocks(sla, [stint_id], StintOutcome.RESPONDED, actor, at)

    class NoteAdded(TicketEvent):
        """An internal note; never shown to customers."""

        TOPIC = event_topic("NoteAdded")
        body: str
        attachments: list[dict[str, Any]]

        class_version = 2
        upcast_v1_v2 = staticmethod(upcast_attachments)

    def add_note(
        self,
        *,
        body: str,
        actor: Actor,
        at: datetime,
        attachments: list[dict[str, Any]] | None = None,
    ) -> None:
        """Add an internal note (never shown to customers); staff of a
        department that has handled the ticket only."""
        self._require_open_for_work()
        if actor.kind == ActorKind.CUSTOMER:
            raise NotPermitted("Customers cannot add internal notes.")
        self._require_involved(actor, "add a note")
        self._trigger(
            self.NoteAdded,
            actor,
            at,
            body=_text(body, "body", MAX_TEXT),
            attachments=_attachments(attachments),
        )

    class CustomerReplied(TicketEvent):
        """The customer wrote to the ticket."""

        TOPIC = event_topic("CustomerReplied")
        body: str
        attachments: list[dict[str, Any]]

        class_version = 2
        upcast_v1_v2 = staticmethod(upcast_attachments)

    def record_customer_reply(
        self,
        *,
        body: str,
        actor: Actor,
        at: datetime,
        sla: SLAPort | None = None,
        attachments: list[dict[str, Any]] | None = None,
    ) -> None:
        """Record the customer's message; it ends any waiting on them and
        resumes the paused clocks."""
        self._require_open_for_work()
        self._trigger(
            self.CustomerReplied,
            actor,
            at,
            body=_text(body, "body", MAX_TEXT),
            attachments=_attachments(attachments),
        )
        if self.status == Status.WAITING:
            self._end_waiting(sla, actor, at, cause="customer_replied")

    # -- resolve, reopen, close -------------------------------------------------

    class Resolved(TicketEvent):
        """The owning department solved the customer's problem."""

        TOPIC = event_topic("Resolved")
        stint_id: UUID
        resolution: str
        root_cause: str
        product_area: str
        root_cause_detail: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Resolutions stored before root causes could be detailed."""
            state.setdefault("product_area", "")
            state.setdefault("root_cause_detail", "")

        #: The root causes that may name a product area and a detail (what
        #: Product or the process owner needs to act on).
        DETAILED_CAUSES = (RootCause.PRODUCT_DEFECT.value, RootCause.PROCESS.value)
        MAX_PRODUCT_AREA = 100

        def apply(self, ticket: TicketState) -> None:
            ticket._end_stint(self.timestamp, StintOutcome.RESOLVED)
            ticket.status = Status.RESOLVED
            ticket.resolved_at = self.timestamp
            ticket.resolved_by = self.actor.department

    def resolve(
        self,
        *,
        resolution: str,
        root_cause: str,
        actor: Actor,
        at: datetime,
        sla: SLAPort | None = None,
        product_area: str = "",
        root_cause_detail: str = "",
    ) -> None:
        """Mark the problem solved; owner only. Stops the stint's clocks and
        the ticket-level resolution clock. There is no default root cause.
        A product area and a free-text detail may be given only with the
        root causes ``product_defect`` and ``process`` (InvalidInput
        ``root_cause_detail_not_allowed`` otherwise)."""
        self._require_open_for_work()
        self._require_owner(actor, "resolve")
        stint_id = self.current_stint_id
        assert stint_id is not None
        cause = _choice(root_cause, RootCause, "root_cause")
        area = " ".join(
            _text(
                product_area,
                "product_area",
                self.Resolved.MAX_PRODUCT_AREA,
                required=False,
            ).split()
        )
        detail = _text(
            root_cause_detail, "root_cause_detail", MAX_REASON, required=False
        )
        if cause not in self.Resolved.DETAILED_CAUSES:
            for name, value in (("product_area", area), ("root_cause_detail", detail)):
                if value:
                    raise InvalidInput(
                        f"{name} can be given only with the root causes "
                        f"{' or '.join(self.Resolved.DETAILED_CAUSES)}.",
                        field=name,
                        code="root_cause_detail_not_allowed",
                    )
        self._trigger(
            self.Resolved,
            actor,
            at,
            stint_id=stint_id,
            resolution=_text(resolution, "resolution", MAX_TEXT),
            root_cause=cause,
            product_area=area,
            root_cause_detail=detail,
        )
        self._stop_stint_clocks(sla, stint_id, StintOutcome.RESOLVED, actor, at)
        self._stop_clocks(sla, [self.id], StintOutcome.RESOLVED, actor, at)

    class Reopened(TicketEvent):
        """The problem came back; the last owner gets a fresh stint."""

        TOPIC = event_topic("Reopened")
        reason: str
        stint_id: UUID
        department: str
        department_name: str
        department_timezone: str

        class_version = 2
        upcast_v1_v2 = upcast_timezone("department_timezone")

        def apply(self, ticket: TicketState) -> None:
            ticket.status = Status.OPEN
            ticket.resolved_at = None
            ticket._start_stint(
                self.stint_id,
                self.department,
                self.department_name,
                self.timestamp,
                timezone=self.department_timezone,
            )

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

    class Closed(TicketEvent):
        """The ticket is final; nothing more can happen to it. ``reason``:
        empty when closed after its resolution, ``abandoned`` when the
        customer never answered (``journeys.abandon``: that ends the stint
        ``stint_id``, with outcome ``abandoned``; None after a resolution)."""

        TOPIC = event_topic("Closed")
        reason: str
        stint_id: UUID | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.setdefault("reason", "")
            state.setdefault("stint_id", None)

        def apply(self, ticket: TicketState) -> None:
            if self.reason == StintOutcome.ABANDONED:
                ticket._end_stint(self.timestamp, StintOutcome.ABANDONED)
            ticket.status = Status.CLOSED

    def close(self, *, actor: Actor, at: datetime) -> None:
        """Close a resolved ticket for good; the owner or the front line."""
        self._require_not_closed()
        if self.status != Status.RESOLVED:
            raise TicketNotResolved("Only a resolved ticket can be closed.")
        self._require_owner_or_front_line(actor, "close")
        self._trigger(self.Closed, actor, at, reason="", stint_id=None)

    # -- priority and scenario --------------------------------------------------

    class PriorityChanged(TicketEvent):
        TOPIC = event_topic("PriorityChanged")
        priority: str
        previous: str

        def apply(self, ticket: TicketState) -> None:
            ticket.priority = self.priority

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

    class ScenarioChanged(TicketEvent):
        TOPIC = event_topic("ScenarioChanged")
        scenario: str
        previous: str

        def apply(self, ticket: TicketState) -> None:
            ticket.scenario = self.scenario

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
