"""What a ticket remembers, and the guards every command shares.

:class:`TicketState` is the base of the command mixins (``lifecycle``,
``waiting``, ``handoffs``, ``ratings``, ``disputes``, ``clock_events``):
the state the events rebuild (:class:`Stint`, :class:`Dispute`,
``clocks.Clock``), the stint bookkeeping, the ownership guards, and
``TicketState.Event`` (alias :data:`TicketEvent`), which is ``Ticket.Event``:
the base of every event, each carrying the acting :class:`Actor` and a
timezone-aware UTC ``timestamp`` supplied by the caller's clock, never read
here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from tickets.domain.actors import Actor
from tickets.domain.clocks import Clock
from tickets.domain.errors import NotOwner, NotPermitted, TicketClosed, TicketResolved
from tickets.domain.validation import _instant
from tickets.domain.vocabulary import ActorKind, Status, StintOutcome

if TYPE_CHECKING:
    # The mixins are plain classes at run time (only ``Ticket`` is an
    # aggregate, so the metaclass processes one class); for the type
    # checker they are aggregates, so ``self.id``, ``trigger_event`` and
    # ``_create`` type-check inside them.
    _AggregateForTyping = Aggregate
else:
    _AggregateForTyping = object


def upcast_default(field_name: str, value: Any) -> Any:
    """Upcaster for events stored before ``field_name`` existed: they
    read it as ``value``."""

    def upcast(state: dict[str, Any]) -> None:
        state.setdefault(field_name, value)

    return staticmethod(upcast)


def upcast_attachments(state: dict[str, Any]) -> None:
    """Upcaster for entries stored before files could be attached."""
    state.setdefault("attachments", [])


def upcast_language(state: dict[str, Any]) -> None:
    """Upcaster for tickets opened before they had a language: ``""``, the
    site's default."""
    state.setdefault("language", "")


def upcast_timezone(field_name: str) -> Any:
    """Upcaster for events stored before departments' timezones were fixed
    in them: those stints are counted in UTC."""

    def upcast(state: dict[str, Any]) -> None:
        state.setdefault(field_name, "UTC")

    return staticmethod(upcast)


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


@dataclass
class Dispute:
    id: UUID
    subject: str
    handoff_id: UUID
    department: str
    decision: str | None = None


def _collect_events(aggregate: type) -> None:
    found: dict[str, type] = {}
    for base in aggregate.__mro__[1:]:
        if not issubclass(base, TicketState) or issubclass(base, Aggregate):
            continue
        for name, value in vars(base).items():
            if not (isinstance(value, type) and issubclass(value, Aggregate.Event)):
                continue
            if found.setdefault(name, value) is not value:
                raise TypeError(
                    f"Two ticket events are called {name}: "
                    f"{found[name].__qualname__} and {value.__qualname__}."
                )
    for name, event in found.items():
        if name in vars(aggregate):
            raise TypeError(f"{aggregate.__name__}.{name} would hide an event.")
        setattr(aggregate, name, event)


class TicketState(_AggregateForTyping):
    """The ticket's state (set by ``Ticket.Opened``, evolved by every other
    event) and the helpers the command mixins share."""

    subject: str
    description: str
    customer_ref: str
    customer_name: str
    customer_contact: str
    customer_timezone: str
    language: str
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

    class Event(Aggregate.Event):
        """``Ticket.Event``: the base of every ticket event (never stored
        itself)."""

        actor: Actor

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # The mixins nest each event beside its command. The aggregate
        # class that composes them (``Ticket``) gets every one of those
        # classes in its own namespace before the eventsourcing metaclass
        # processes it: the metaclass registers the pinned topics of the
        # events it finds there, and would otherwise define new event
        # classes for the events of the bases. So ``Ticket.HandedOff`` is
        # ``Handoffs.HandedOff``, one class per event.
        if issubclass(cls, Aggregate):
            _collect_events(cls)
        super().__init_subclass__(**kwargs)

    # -- stints -------------------------------------------------------------

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

    @property
    def departments_involved(self) -> set[str]:
        """The front line and every department that has owned the ticket."""
        return {self.front_line} | {s.department for s in self.stints.values()}

    # -- events -------------------------------------------------------------

    def _trigger(
        self, event_class: type[TicketEvent], actor: Actor, at: datetime, **kw: Any
    ) -> None:
        self.trigger_event(event_class, timestamp=_instant(at), actor=actor, **kw)

    # -- guards -------------------------------------------------------------

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

    def _require_involved(self, actor: Actor, action: str) -> None:
        if actor.kind == ActorKind.SYSTEM:
            return
        if actor.department not in self.departments_involved:
            raise NotPermitted(
                f"Only departments that have handled this ticket may {action}."
            )

    def _require_owner_or_front_line(self, actor: Actor, action: str) -> None:
        if actor.department not in (self.owner, self.front_line):
            raise NotOwner(f"Only {self.owner_name} or the front line may {action}.")


#: ``Ticket.Event``, the base the mixins' events subclass.
TicketEvent = TicketState.Event
