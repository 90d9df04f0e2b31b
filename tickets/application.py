"""TicketsApplication: load the aggregate, call one command, save.

Only this module writes ticket events. Every command (``run_command``
with a ``tickets.commands`` table entry's aggregate call, ``open_ticket``,
the sweep's ``record_sla_warning``/``record_sla_breach``):

* loads the ticket (``TicketNotFound`` if there is none): the copy this
  process kept after its last command on it (``TicketCache``) brought up
  to date with the events stored since, by any process, or else replayed
  from the store,
* optionally checks the caller's ``expected_version`` (``VersionMismatch``),
* calls one aggregate command (which raises a ``TicketError`` on any rule),
* saves the new events atomically. If another command saved in between,
  the event store's unique (originator_id, version) key rejects the write
  and ``ConcurrencyConflict`` is raised: nothing of the losing command is
  stored (and the ticket it changed is not kept).
"""

from __future__ import annotations

import contextlib
import functools
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
)
from eventsourcing.persistence import (
    JSONTranscoder,
    RecordConflictError,
    Recording,
    UUIDAsHex,
)

from tickets import domain
from tickets.domain import (
    ConcurrencyConflict,
    DepartmentRef,
    Principal,
    SLAPort,
    Ticket,
    TicketError,
    TicketNotFound,
)
from tickets.event_format import event_name
from tickets.event_rows import uuid_from_hex
from tickets.eventstore import CommandKey, IntegrityRecorder, Receipt

APPLICATION_NAME = "tickets"


class VersionMismatch(TicketError):
    """Raised when the caller's expected version (e.g. an HTTP If-Match)
    is not the ticket's current version."""

    code = "version_mismatch"


class CommandKeyReused(TicketError):
    """Raised when a command key (an idempotency key) that already stored a
    command comes back with a different request."""

    code = "idempotency_key_reused"


@dataclass(frozen=True)
class CommandResult:
    """What a command stored: the ticket's new version and the log position
    of its last event (used to catch projections up to the write).
    ``replayed``: the command had already been stored under the same
    command key, and this is what it stored then (nothing ran again)."""

    ticket_id: UUID
    version: int
    position: int
    event_types: tuple[str, ...]
    detail: Any = None
    replayed: bool = False


class CommandScope:
    """The command key of the current request (used by at most one save),
    and whether the command was answered from its receipt."""

    def __init__(self, key: CommandKey | None) -> None:
        self.key = key
        self.replayed = False
        self.answer_lost = key is not None and key.answer_lost


_command_key: ContextVar[CommandScope | None] = ContextVar(
    "baton_command_key", default=None
)


@contextlib.contextmanager
def command_key(key: CommandKey | None) -> Iterator[CommandScope]:
    """Run the enclosed command at most once for ``key``.

    The first ticket command saved inside the block stores a receipt for
    the key in the same transaction as its events. Any later command under
    the same key id is not run: it returns the stored result (or raises
    ``CommandKeyReused`` if the request fingerprint differs). One key
    covers one command: later saves in the block run without it."""
    scope = CommandScope(key)
    token = _command_key.set(scope)
    try:
        yield scope
    finally:
        _command_key.reset(token)


def replaying_a_lost_answer() -> bool:
    """Whether the command now running was answered from its receipt for a
    caller that never got the first answer (what was shown once, such as a
    new ticket's customer link, must then be issued again)."""
    scope = _command_key.get()
    return scope is not None and scope.replayed and scope.answer_lost


def _current_key() -> CommandKey | None:
    scope = _command_key.get()
    return scope.key if scope is not None else None


def _detail_text(detail: Any) -> str | None:
    if detail is None:
        return None
    if isinstance(detail, UUID):
        return "uuid:" + str(detail)
    raise TypeError(f"Cannot keep a command detail of type {type(detail)}.")


def _detail_value(text: str | None) -> Any:
    if text is None:
        return None
    kind, _, value = text.partition(":")
    if kind == "uuid":
        return UUID(value)
    raise ValueError(f"Unknown command detail {text!r}.")


class UUIDFromHex(UUIDAsHex):
    """The library's UUID transcoding, decoding with ``uuid_from_hex``."""

    def decode(self, data: str) -> UUID:
        return uuid_from_hex(data)


class InternedActors(domain.ActorAsDict):
    """Stores actors as the domain does; decodes each distinct stored actor
    once per process and shares the (frozen) instance: a log has few
    actors and many events, and decoding is most of a rebuild's reading."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._known: dict[tuple[tuple[str, Any], ...], domain.Actor] = {}

    def decode(self, data: dict[str, Any]) -> domain.Actor:
        key = tuple(data.items())
        try:
            return self._known[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable value: not one of ours
            return super().decode(data)
        actor = super().decode(data)
        if len(self._known) >= self._size:
            self._known.clear()
        self._known[key] = actor
        return actor


class TicketsApplication(Application[UUID]):
    """The tickets event store and its commands."""

    name = APPLICATION_NAME
    env = {"IS_SNAPSHOTTING_ENABLED": "n"}

    #: Business-time services for SLA clocks (see ``sla.terms``). Without
    #: one, tickets run no clocks.
    sla: SLAPort | None = None

    def __init__(
        self, env: Mapping[str, str] | None = None, *, sla: SLAPort | None = None
    ) -> None:
        super().__init__(env=env)
        self.sla = sla
        self._tickets = TicketCache(int(self.env.get(TICKET_CACHE_SIZE) or 1000))

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        domain.register_transcodings(transcoder)
        transcoder.register(InternedActors())
        transcoder.register(UUIDFromHex())

    # -- plumbing -----------------------------------------------------------

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's ``save``; for tickets (what this application
        saves) without the two runtime ``Protocol`` checks per object its
        ``ProcessingEvent.collect_events`` makes, which cost as much as
        the rest of a command's Python work on the save path."""
        if not objs or any(type(obj) is not Ticket for obj in objs):
            return super().save(*objs, **kwargs)
        processing: ProcessingEvent[UUID] = ProcessingEvent()
        for ticket in objs:
            processing.events.extend(ticket.collect_events())
            processing.aggregates[ticket.id] = ticket
        processing.saved_kwargs.update(kwargs)
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        self.notify(processing.events)  # deprecated hook, as the library calls it
        return recordings

    def get_ticket(self, ticket_id: UUID, version: int | None = None) -> Ticket:
        """The ticket's current state, or at ``version``, replayed from its
        stored events; raises ``TicketNotFound``."""
        try:
            ticket: Any = self.repository.get(
                ticket_id, version=version, projector_func=_replay
            )
        except AggregateNotFoundError:
            raise TicketNotFound(f"No ticket {ticket_id}.") from None
        if not isinstance(ticket, Ticket):
            raise TicketNotFound(f"No ticket {ticket_id}.")
        return ticket

    def _load(self, ticket_id: UUID) -> Ticket:
        """The ticket for a command: this process's cached copy brought up
        to date with the events stored after it (by any process), or else
        replayed. Separate from get_ticket so that tests can widen the race
        window between loading and saving."""
        cached = self._tickets.take(ticket_id)
        if cached is None:
            return self.get_ticket(ticket_id)
        ticket, newest = cached
        # From the cached version itself: the store must still hold that
        # very event (else replay: never trust a copy the store disowns),
        # and on PostgreSQL its seal comes along for the save to chain to.
        stored = self.recorder.select_events(ticket_id, gt=ticket.version - 1)
        if (
            not stored
            or stored[0].originator_version != ticket.version
            or bytes(stored[0].state) != newest
        ):
            return self.get_ticket(ticket_id)
        to_domain_event = self.mapper.to_domain_event
        caught_up: Ticket = _replay(ticket, (to_domain_event(s) for s in stored[1:]))
        return caught_up

    def _save(self, ticket: Ticket, detail: Any = None) -> CommandResult:
        return self._store(ticket, detail)[0]

    def _store(
        self, ticket: Ticket, detail: Any = None
    ) -> tuple[CommandResult, bytes | None]:
        """Save the ticket's new events; also returns the stored state of
        the newest one (None if this command had been stored already)."""
        pending = list(ticket.pending_events)
        scope = _command_key.get()
        key = scope.key if scope is not None else None
        if scope is not None:
            scope.key = None  # one key, one command
        options = (
            {}
            if key is None
            else {"command": replace(key, detail=_detail_text(detail))}
        )
        try:
            recordings = self.save(ticket, **options)
        except RecordConflictError:
            stored = self._stored_result(key)
            if stored is not None:  # a retry of this command won the race
                return stored, None
            raise ConcurrencyConflict(
                "Someone else changed this ticket at the same time; "
                "reload it and try again."
            ) from None
        newest = max(recordings, key=lambda r: r.notification.originator_version)
        result = CommandResult(
            ticket_id=ticket.id,
            version=ticket.version,
            position=max(r.notification.id for r in recordings),
            event_types=tuple(event_name(e) for e in pending),
            detail=detail,
        )
        return result, newest.notification.state

    def _stored_result(self, key: CommandKey | None) -> CommandResult | None:
        """What the command under ``key`` stored, if it was stored."""
        if key is None or not isinstance(self.recorder, IntegrityRecorder):
            return None
        receipt = self.recorder.select_receipt(key.id)
        if receipt is None:
            return None
        if receipt.fingerprint != key.fingerprint:
            raise CommandKeyReused(
                "This Idempotency-Key was used for a different request."
            )
        scope = _command_key.get()
        if scope is not None:
            scope.replayed = True
        return self._replayed(receipt)

    def _replayed(self, receipt: Receipt) -> CommandResult:
        events = self.events.get(
            receipt.originator_id,
            gt=receipt.first_version - 1,
            lte=receipt.last_version,
        )
        return CommandResult(
            ticket_id=receipt.originator_id,
            version=receipt.last_version,
            position=receipt.position or 0,
            event_types=tuple(event_name(e) for e in events),
            detail=_detail_value(receipt.detail),
            replayed=True,
        )

    def _update(
        self,
        ticket_id: UUID,
        expected_version: int | None,
        command: Callable[[Ticket], Any],
    ) -> CommandResult:
        stored = self._stored_result(_current_key())
        if stored is not None:
            # Checked before the version: the ticket has moved on since.
            return stored
        ticket = self._load(ticket_id)
        if expected_version is not None and ticket.version != expected_version:
            raise VersionMismatch(
                f"The ticket is at version {ticket.version}, not "
                f"{expected_version}; reload it and try again."
            )
        # A command that raises (a rule, a conflict) drops the ticket: it
        # may have changed it before failing, and nothing of it is stored.
        detail = command(ticket)
        result, newest = self._store(ticket, detail)
        if newest is not None:
            self._tickets.put(ticket, newest)  # exactly what is stored now
        return result

    def save_tickets(self, tickets: list[Ticket]) -> int:
        """Save tickets built elsewhere from domain commands (generated
        histories: the demo, tests, benchmarks) in one write. Returns the
        number of events stored."""
        count = sum(len(t.pending_events) for t in tickets)
        try:
            self.save(*tickets)
        except RecordConflictError:
            raise ConcurrencyConflict("One of these tickets already exists.") from None
        return count

    # -- commands -----------------------------------------------------------

    def open_ticket(
        self,
        *,
        principal: Principal,
        front_line: DepartmentRef,
        at: datetime,
        **fields: Any,
    ) -> CommandResult:
        stored = self._stored_result(_current_key())
        if stored is not None:
            return stored
        ticket = Ticket.open(
            front_line=front_line,
            actor=principal.actor_for(front_line.code),
            at=at,
            sla=self.sla,
            **fields,
        )
        result, newest = self._store(ticket)
        if newest is not None:
            self._tickets.put(ticket, newest)
        return result

    def run_command(
        self,
        ticket_id: UUID,
        call: AggregateCall,
        *,
        principal: Principal,
        at: datetime,
        expected_version: int | None = None,
        **inputs: Any,
    ) -> CommandResult:
        """Run one command on a ticket (a ``tickets.commands`` table entry's
        ``call``): load it, call the aggregate as ``principal`` at ``at``
        with ``inputs`` (already resolved: a ``DepartmentRef``, not a code),
        save. Returns what ``call`` returns as the result's ``detail``."""
        return self._update(
            ticket_id,
            expected_version,
            lambda t: call(Invocation(t, principal, at, self.sla), **inputs),
        )

    def record_sla_warning(
        self, ticket_id: UUID, *, clock_id: UUID, at: datetime
    ) -> CommandResult:
        return self._update(
            ticket_id,
            None,
            lambda t: t.record_sla_warning(clock_id=clock_id, actor=SWEEP_ACTOR, at=at),
        )

    def record_sla_breach(
        self, ticket_id: UUID, *, clock_id: UUID, at: datetime
    ) -> CommandResult:
        return self._update(
            ticket_id,
            None,
            lambda t: t.record_sla_breach(clock_id=clock_id, actor=SWEEP_ACTOR, at=at),
        )

    def record_stall(
        self,
        ticket_id: UUID,
        *,
        stint_id: UUID,
        quiet_since: datetime,
        stalled_at: datetime,
        stall_after_seconds: float,
        at: datetime,
    ) -> CommandResult:
        """The sweep: the stint has been quiet past its department's limit."""
        return self._update(
            ticket_id,
            None,
            lambda t: t.record_stall(
                stint_id=stint_id,
                quiet_since=quiet_since,
                stalled_at=stalled_at,
                stall_after_seconds=stall_after_seconds,
                actor=SWEEP_ACTOR,
                at=at,
            ),
        )

    def abandon(self, ticket_id: UUID, *, at: datetime) -> CommandResult:
        """The sweep: close a ticket that waited on the customer too long."""
        return self._update(
            ticket_id,
            None,
            lambda t: t.abandon(actor=SWEEP_ACTOR, at=at, sla=self.sla),
        )


SWEEP_ACTOR = domain.Actor.system("SLA monitor")


def _replay(ticket: Any, events: Iterable[Any]) -> Any:
    """Apply ``events`` to ``ticket`` (None: not yet opened). The library's
    ``project_aggregate`` without its runtime protocol check per event (a
    third of the cost of replaying one)."""
    for event in events:
        ticket = event.mutate(ticket)
    return ticket


#: Environment setting: how many tickets a process keeps for its commands
#: (0: none; each command replays its ticket).
TICKET_CACHE_SIZE = "TICKET_CACHE_SIZE"


class TicketCache:
    """Tickets this process loaded or saved for its commands, so that a
    command on a long-lived ticket does not replay its whole history.

    Every ticket held is exactly what its stored events up to its version
    build: one whose command's events were all stored (put back after the
    save, with the stored state of its newest event). Its events after that
    version may have been stored by other processes, so a command always
    brings the ticket up to date from the store (``TicketsApplication.
    _load``) before deciding, and replays it instead if the store no longer
    holds the very event it was cached at: a stale copy never decides a
    command. A command *takes* its ticket out, so no other thread in the
    process can see it while it changes, and puts it back only once its
    events are stored: a command that raises after changing the ticket, or
    loses a race to another writer, leaves nothing behind (the next one
    replays from the store). The least recently used are forgotten first.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._tickets: OrderedDict[UUID, tuple[Ticket, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, ticket_id: UUID) -> tuple[Ticket, bytes] | None:
        """The ticket and its newest event's stored state, now held by the
        caller alone."""
        with self._lock:
            return self._tickets.pop(ticket_id, None)

    def put(self, ticket: Ticket, newest: bytes) -> None:
        """Hold ``ticket``, whose events are all stored, the newest one with
        the state ``newest``."""
        if self._size <= 0 or ticket.pending_events:
            return  # never one with changes not stored
        with self._lock:
            self._tickets[ticket.id] = (ticket, bytes(newest))
            self._tickets.move_to_end(ticket.id)
            while len(self._tickets) > self._size:
                self._tickets.popitem(last=False)

    def __len__(self) -> int:
        return len(self._tickets)


# ---------------------------------------------------------------------------
# How a command calls the aggregate
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Invocation:
    """What a command's aggregate call gets besides its inputs: the loaded
    ticket, who acts, when, and the business-time services."""

    ticket: Ticket
    principal: Principal
    at: datetime
    sla: SLAPort | None

    @property
    def actor(self) -> domain.Actor:
        """The principal acting for the ticket's owner if it is a member,
        else for its front line (else for its own first department)."""
        return self.principal.actor_for(self.ticket.owner, self.ticket.front_line)


#: Calls one aggregate command with an ``Invocation`` and the command's
#: resolved inputs (keywords); returns the result's ``detail``.
AggregateCall = Callable[..., Any]


def aggregate(method: str, *, sla: bool = False) -> AggregateCall:
    """``Ticket.<method>(**inputs)`` as the invocation's actor at its time;
    ``sla``: the command starts, pauses or stops clocks, so it gets the
    business-time services."""

    def call(invocation: Invocation, /, **inputs: Any) -> Any:
        if sla:
            inputs["sla"] = invocation.sla
        command = getattr(invocation.ticket, method)
        return command(actor=invocation.actor, at=invocation.at, **inputs)

    call.__name__ = call.__qualname__ = method
    return call


# ---------------------------------------------------------------------------
# Which event store, and the process-wide instance
# ---------------------------------------------------------------------------


def event_store_env(
    database: Mapping[str, Any], sqlite_path: str, *, create_table: bool = False
) -> dict[str, str]:
    """eventsourcing settings for the event store beside ``database`` (a
    Django ``DATABASES`` entry): the same PostgreSQL database, or the SQLite
    file at ``sqlite_path``."""
    engine = database.get("ENGINE", "")
    create = "y" if create_table else "n"
    if "postgresql" in engine:
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": str(database["NAME"]),
            "POSTGRES_HOST": str(database.get("HOST") or "127.0.0.1"),
            "POSTGRES_PORT": str(database.get("PORT") or 5432),
            "POSTGRES_USER": str(database.get("USER") or "postgres"),
            "POSTGRES_PASSWORD": str(database.get("PASSWORD") or ""),
            "POSTGRES_POOL_SIZE": "4",
            "POSTGRES_MAX_OVERFLOW": "8",
            "POSTGRES_LOCK_TIMEOUT": "10",
            # Its insert function skips the recorder's Python path, and with
            # it the seals and command receipts (and readers could miss
            # events): never on, whatever the environment says.
            "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
            "APPLICATION_RECORDER_TOPIC": (
                "tickets.eventstore_postgres:SealingPostgresApplicationRecorder"
            ),
            "CREATE_TABLE": create,
        }
    if "sqlite" in engine:
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": sqlite_path,
            "SQLITE_LOCK_TIMEOUT": "20",
            "APPLICATION_RECORDER_TOPIC": (
                "tickets.eventstore:SealingSQLiteApplicationRecorder"
            ),
            "CREATE_TABLE": create,
        }
    raise ValueError(f"No event store for database engine {engine!r}.")


def default_env(
    *, create_table: bool = False, alias: str = "default"
) -> dict[str, str]:
    from django.conf import settings
    from django.db import connections

    return event_store_env(
        connections[alias].settings_dict,
        settings.EVENTS_SQLITE_PATH,
        create_table=create_table,
    )


def create_event_store(alias: str = "default") -> None:
    """Create the event-store tables (idempotent). Called by ``migrate``, so
    web and worker processes never race on DDL at start-up."""
    from pathlib import Path

    env = default_env(create_table=True, alias=alias)
    if "SQLITE_DBNAME" in env:
        Path(env["SQLITE_DBNAME"]).parent.mkdir(parents=True, exist_ok=True)
    TicketsApplication(env=env).close()


def configured_sla_port() -> SLAPort | None:
    """The SLA port named by ``settings.BATON_SLA_PORT`` (None: no clocks),
    built once per named class: reads measure every clock row through it."""
    from django.conf import settings

    return _sla_port(getattr(settings, "BATON_SLA_PORT", ""))


@functools.cache
def _sla_port(path: str) -> SLAPort | None:
    from django.utils.module_loading import import_string

    return import_string(path)() if path else None


_instance: TicketsApplication | None = None
_instance_lock = threading.Lock()


def get_tickets_application() -> TicketsApplication:
    """The process-wide application, built on first use."""
    global _instance
    if _instance is None:
        with _instance_lock:
            if _instance is None:
                _instance = TicketsApplication(
                    env=default_env(), sla=configured_sla_port()
                )
    return _instance


def set_tickets_application(app: TicketsApplication | None) -> None:
    """Replace the process-wide application (tests give each test a fresh
    event store). Closes the previous one."""
    global _instance
    with _instance_lock:
        previous, _instance = _instance, app
    if previous is not None and previous is not app:
        previous.close()


def temporary_sqlite_path() -> str:
    return str(tempfile.mkdtemp(prefix="baton-events-")) + "/events.sqlite3"
