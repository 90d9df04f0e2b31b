"""The application keeps the tickets its commands saved (``TicketCache``),
so that a command on a long-lived ticket does not replay its history: and
it is never trusted stale, nor left holding what was not stored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from sla.terms import SnapshotSLAPort
from tests.sla.conftest import sla_org, z  # noqa: F401 -- the sla_org fixture
from tests.tickets.test_persistence_contract import (
    CS,
    FIN,
    T0,
    ContractApplication,
    _open,
    cs,
    fin,
    store,  # noqa: F401 -- the store fixture
)
from tickets.application import (
    ConcurrencyConflict,
    Invocation,
    TicketCache,
    TicketsApplication,
    VersionMismatch,
    get_tickets_application,
)
from tickets.commands import ADD_NOTE, HAND_OFF, RESPOND
from tickets.domain import NoChange, NotOwner, Ticket
from tickets.services import department_ref
from tickets.simulation import HistoryGenerator, synthetic_staff

Store = tuple[str, dict[str, str]]


def _new_ticket() -> Ticket:
    return Ticket.open(
        front_line=CS,
        actor=cs.actor_for("CS"),
        at=T0,
        subject="s",
        description="",
        customer_ref="c",
        channel="web",
    )


def _notes(app: TicketsApplication, tid: UUID) -> list[str]:
    return [e.body for e in app.events.get(tid) if isinstance(e, Ticket.NoteAdded)]


def _no_replay(app: TicketsApplication, monkeypatch: pytest.MonkeyPatch) -> None:
    def replayed(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the command replayed its ticket")

    monkeypatch.setattr(app, "get_ticket", replayed)


#: Two application instances sharing one store (two processes): a POPO store
#: lives inside one application object, so only the databases.
SHARED_STORES = pytest.mark.parametrize(
    "store",
    ["sqlite", pytest.param("postgres", marks=pytest.mark.django_db)],
    indirect=True,
)


def test_a_command_on_a_ticket_this_process_saved_does_not_replay_it(
    store: Store,  # noqa: F811 -- the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = ContractApplication(env=store[1])
    tid = _open(app)
    for body in ("one", "two"):
        app.run_command(tid, ADD_NOTE, body=body, principal=cs, at=T0)
    with monkeypatch.context() as patched:
        _no_replay(app, patched)
        result = app.run_command(tid, ADD_NOTE, body="three", principal=cs, at=T0)
    assert result.version == 4
    assert _notes(app, tid) == ["one", "two", "three"]
    app.close()


def test_a_command_that_changes_the_ticket_then_fails_leaves_no_trace(
    store: Store,  # noqa: F811 -- the fixture
) -> None:
    """Nothing of a refused command is stored, and the ticket it changed
    is not kept: the next command decides on what the store holds."""
    app = ContractApplication(env=store[1])
    tid = _open(app)

    def note_then_refuse(invocation: Invocation, /, **_: Any) -> None:
        invocation.ticket.add_note(body="phantom", actor=invocation.actor, at=T0)
        raise NoChange("refused after changing the ticket")

    with pytest.raises(NoChange):
        app.run_command(tid, note_then_refuse, principal=cs, at=T0)
    result = app.run_command(tid, ADD_NOTE, body="real", principal=cs, at=T0)
    assert result.version == 2
    assert _notes(app, tid) == ["real"]
    assert [type(e).__name__ for e in app.events.get(tid)] == ["Opened", "NoteAdded"]
    app.close()


@SHARED_STORES
def test_a_stale_cached_ticket_catches_up_with_another_processs_writes(
    store: Store,  # noqa: F811 -- the fixture
) -> None:
    _, env = store
    app = ContractApplication(env=env)
    tid = _open(app)  # cached here, at version 1
    other = ContractApplication(env=env)  # another process
    other.run_command(tid, HAND_OFF, to=FIN, reason="refund", principal=cs, at=T0)
    # This instance's copy says CS owns it; the store says FIN does.
    with pytest.raises(NotOwner):
        app.run_command(tid, RESPOND, body="stale", principal=cs, at=T0)
    result = app.run_command(tid, RESPOND, body="ok", principal=fin, at=T0)
    assert result.version == 3
    assert app.get_ticket(tid) == other.get_ticket(tid)
    other.close()
    app.close()


@SHARED_STORES
def test_the_loser_of_a_race_raises_and_leaves_no_trace(
    store: Store,  # noqa: F811 -- the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, env = store
    app = ContractApplication(env=env)
    tid = _open(app)
    other = ContractApplication(env=env)  # another process
    original = app._load

    def load_then_someone_else_writes(ticket_id: UUID) -> Ticket:
        ticket = original(ticket_id)
        other.run_command(ticket_id, ADD_NOTE, body="racer", principal=cs, at=T0)
        return ticket

    monkeypatch.setattr(app, "_load", load_then_someone_else_writes)
    with pytest.raises(ConcurrencyConflict):
        app.run_command(tid, ADD_NOTE, body="loser", principal=cs, at=T0)
    monkeypatch.undo()
    result = app.run_command(tid, ADD_NOTE, body="after", principal=cs, at=T0)
    assert result.version == 3
    assert _notes(app, tid) == ["racer", "after"]
    other.close()
    app.close()


def test_a_version_mismatch_changes_nothing_and_the_next_command_is_right(
    store: Store,  # noqa: F811 -- the fixture
) -> None:
    app = ContractApplication(env=store[1])
    tid = _open(app)
    with pytest.raises(VersionMismatch):
        app.run_command(
            tid, ADD_NOTE, body="x", principal=cs, at=T0, expected_version=5
        )
    result = app.run_command(
        tid, ADD_NOTE, body="y", principal=cs, at=T0, expected_version=1
    )
    assert result.version == 2 and _notes(app, tid) == ["y"]
    app.close()


def test_a_copy_whose_version_the_store_no_longer_holds_as_cached_is_replayed(
    store: Store,  # noqa: F811 -- the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The cached copy must match the very event the store holds at its
    version (what a store emptied and refilled, or edited behind Baton's
    back, would break), else the command replays."""
    app = ContractApplication(env=store[1])
    tid = _open(app)
    cached = app._tickets.take(tid)
    assert cached is not None
    app._tickets.put(cached[0], b"not what the store holds")
    replays: list[UUID] = []
    get_ticket = app.get_ticket

    def counted(ticket_id: UUID, version: int | None = None) -> Ticket:
        replays.append(ticket_id)
        return get_ticket(ticket_id, version)

    monkeypatch.setattr(app, "get_ticket", counted)
    app.run_command(tid, ADD_NOTE, body="n", principal=cs, at=T0)
    assert replays == [tid]
    app.close()


def test_the_cache_forgets_the_least_recently_used_and_can_be_off() -> None:
    cache = TicketCache(2)
    tickets = [_new_ticket() for _ in range(3)]
    for ticket in tickets:
        ticket.collect_events()
        cache.put(ticket, b"{}")
    assert len(cache) == 2 and cache.take(tickets[0].id) is None
    assert cache.take(tickets[2].id) == (tickets[2], b"{}")
    off = TicketCache(0)
    off.put(tickets[1], b"{}")
    assert len(off) == 0


def test_a_ticket_with_events_not_stored_is_never_kept() -> None:
    cache = TicketCache(10)
    ticket = _new_ticket()
    cache.put(ticket, b"{}")
    assert len(cache) == 0


def test_a_ticket_after_its_commands_is_what_replaying_its_events_builds(
    sla_org: Any,  # noqa: F811 -- the fixture
) -> None:
    """What the cache relies on: the state a ticket has once its commands'
    events are stored equals the state its stored events replay to, on a
    randomized history with clocks, pauses, handoffs, reopens, ratings and
    disputes."""
    app = get_tickets_application()
    end = z("2026-03-30 00:00")
    generator = HistoryGenerator(
        staff=synthetic_staff([department_ref(c) for c in sla_org.departments]),
        start=end - timedelta(weeks=4),
        end=end,
        seed=5,
        sla=SnapshotSLAPort(),
    )
    tickets = list(generator.tickets(120))
    app.save_tickets(tickets)
    assert sum(t.version for t in tickets) > 1_000
    for ticket in tickets:
        assert not ticket.pending_events
        assert app.get_ticket(ticket.id) == ticket, ticket.id
