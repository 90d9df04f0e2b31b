"""The same application scenarios on every event store Baton supports:
POPO (in memory), SQLite (the embedded default) and PostgreSQL (production;
runs when the suite runs on PostgreSQL, as in CI's second pass, in the test
database pytest-django made for this worker).

These tests use the application directly, without Django, as a second
process would.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import dj_database_url
import pytest
from django.conf import settings
from django.db import connections

from tickets.application import (
    ConcurrencyConflict,
    TicketsApplication,
    VersionMismatch,
    event_store_env,
)
from tickets.commands import ADD_NOTE, HAND_OFF, RESPOND
from tickets.domain import DepartmentRef, Principal, Status, Ticket, TicketNotFound

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CS = DepartmentRef("CS", "Customer Service", active=True, front_line=True)
FIN = DepartmentRef("FIN", "Finance")
cs = Principal("user", "1", "Cara Smith", "Cara", ("CS",))
fin = Principal("user", "2", "Finn Jones", "Finn", ("FIN",))


class ContractApplication(TicketsApplication):
    """Own tables/files, so the contract never touches the app's store."""

    name = "contract_tickets"


def _on_postgres() -> bool:
    return "postgresql" in settings.DATABASES["default"]["ENGINE"]


def _postgres(settings_dict: dict[str, Any]) -> Any:
    import psycopg

    return psycopg.connect(
        dbname=settings_dict["NAME"],
        host=settings_dict.get("HOST") or "127.0.0.1",
        port=int(settings_dict.get("PORT") or 5432),
        user=settings_dict.get("USER") or "postgres",
        password=settings_dict.get("PASSWORD") or "",
        autocommit=True,
    )


@pytest.fixture(
    params=[
        "popo",
        "sqlite",
        # The marker makes pytest-django create this worker's test database.
        pytest.param("postgres", marks=pytest.mark.django_db),
    ]
)
def store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, dict[str, str]]]:
    """The event store settings for one test, on a store nobody else
    writes: POPO, a new SQLite file, or on PostgreSQL a schema of its own
    (dropped afterwards) in pytest-django's test database, which is per
    xdist worker. Nothing is truncated, so tests running in parallel
    cannot empty each other's tables."""
    kind = request.param
    if kind == "popo":
        yield kind, {"PERSISTENCE_MODULE": "eventsourcing.popo"}
        return
    if kind == "sqlite":
        path = str(tmp_path / "events.sqlite3")
        yield kind, event_store_env({"ENGINE": "sqlite"}, path, create_table=True)
        return
    if not _on_postgres():
        pytest.skip("PostgreSQL contract: set DATABASE_URL=postgres://... to run it")
    with postgres_store() as env:
        yield kind, env


@contextlib.contextmanager
def postgres_store() -> Iterator[dict[str, str]]:
    """Event store settings for a new schema (dropped afterwards) in the
    test database pytest-django made for this worker."""
    database = dict(connections["default"].settings_dict)
    assert database["NAME"].startswith("test_"), "the test database is not set up"
    schema = f"contract_{uuid4().hex[:16]}"
    with _postgres(database) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        env = event_store_env(database, "", create_table=True)
        yield {**env, "POSTGRES_SCHEMA": schema}
    finally:
        with _postgres(database) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _open(app: TicketsApplication) -> UUID:
    return app.open_ticket(
        principal=cs,
        front_line=CS,
        at=T0,
        subject="Refund",
        description="",
        customer_ref="C1",
        customer_timezone="Europe/Paris",
        channel="web",
    ).ticket_id


def _shared(
    kind: str, env: dict[str, str], app: TicketsApplication
) -> TicketsApplication:
    # POPO stores live inside one application object; the others are real
    # stores that a second application (a second process) can open.
    return app if kind == "popo" else ContractApplication(env=env)


def test_a_ticket_round_trips_through_the_store(
    store: tuple[str, dict[str, str]],
) -> None:
    kind, env = store
    app = ContractApplication(env=env)
    tid = _open(app)
    app.run_command(
        tid,
        HAND_OFF,
        to=FIN,
        reason="approval",
        principal=cs,
        at=T0 + timedelta(minutes=5),
    )
    result = app.run_command(
        tid, RESPOND, body="On it", principal=fin, at=T0 + timedelta(hours=1)
    )

    reader = _shared(kind, env, app)
    ticket = reader.get_ticket(tid)
    assert (ticket.owner, ticket.status, ticket.version) == ("FIN", Status.OPEN, 3)
    assert result.version == 3
    assert result.event_types == ("Ticket.Responded",)
    stint = ticket.current_stint
    assert stint is not None and stint.first_response_at == T0 + timedelta(hours=1)
    assert stint.first_response_at.tzinfo is not None

    notifications = reader.recorder.select_notifications(start=1, limit=10)
    assert [n.topic for n in notifications] == [
        "baton.tickets:Ticket.Opened",
        "baton.tickets:Ticket.HandedOff",
        "baton.tickets:Ticket.Responded",
    ]
    assert [n.id for n in notifications] == sorted(n.id for n in notifications)
    assert notifications[-1].id == result.position
    responded = reader.mapper.to_domain_event(notifications[-1])
    assert responded.actor.name == "Finn Jones" and responded.actor.department == "FIN"
    assert responded.timestamp == T0 + timedelta(hours=1)
    if reader is not app:
        reader.close()
    app.close()


def test_an_unknown_ticket_is_not_found(store: tuple[str, dict[str, str]]) -> None:
    app = ContractApplication(env=store[1])
    with pytest.raises(TicketNotFound):
        app.get_ticket(UUID(int=7))
    app.close()


def test_a_stale_expected_version_is_refused(store: tuple[str, dict[str, str]]) -> None:
    app = ContractApplication(env=store[1])
    tid = _open(app)
    with pytest.raises(VersionMismatch):
        app.run_command(
            tid, ADD_NOTE, body="x", principal=cs, at=T0, expected_version=3
        )
    assert app.get_ticket(tid).version == 1
    app.close()


class RacingApplication(ContractApplication):
    """Waits after loading until every racer has loaded the same version."""

    name = ContractApplication.name
    barrier: threading.Barrier

    def _load(self, ticket_id: UUID) -> Ticket:
        ticket = super()._load(ticket_id)
        self.barrier.wait(timeout=10)
        return ticket


def test_two_concurrent_commands_one_wins_and_exactly_one_event_is_stored(
    store: tuple[str, dict[str, str]],
) -> None:
    kind, env = store
    setup = RacingApplication(env=env)
    tid = _open(setup)
    barrier = threading.Barrier(2)
    racers = (
        [setup, setup]
        if kind == "popo"
        else [RacingApplication(env=env) for _ in range(2)]
    )
    for racer in racers:
        racer.barrier = barrier
    outcomes: list[Any] = []

    def run(racer: TicketsApplication, body: str) -> None:
        try:
            outcomes.append(
                racer.run_command(tid, ADD_NOTE, body=body, principal=cs, at=T0)
            )
        except ConcurrencyConflict as error:
            outcomes.append(error)

    threads = [
        threading.Thread(target=run, args=(r, f"note {i}"))
        for i, r in enumerate(racers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    conflicts = [o for o in outcomes if isinstance(o, ConcurrencyConflict)]
    successes = [o for o in outcomes if not isinstance(o, ConcurrencyConflict)]
    assert len(conflicts) == 1 and len(successes) == 1
    assert conflicts[0].code == "version_conflict"
    events = list(setup.events.get(tid))
    assert [type(e).__name__ for e in events] == ["Opened", "NoteAdded"]
    assert len(setup.recorder.select_notifications(start=1, limit=10)) == 2
    for racer in {id(r): r for r in racers}.values():
        if racer is not setup:
            racer.close()
    setup.close()


@pytest.mark.parametrize(
    "store", [pytest.param("postgres", marks=pytest.mark.django_db)], indirect=True
)
def test_each_postgres_contract_test_has_a_store_of_its_own_in_the_test_database(
    store: tuple[str, dict[str, str]],
) -> None:
    """Tests run in parallel (pytest-xdist): one test setting up its store
    while another writes must not touch the other's events, and none may
    write to the database DATABASE_URL names."""
    _, env = store
    test_database = connections["default"].settings_dict["NAME"]
    assert env["POSTGRES_DBNAME"] == test_database
    configured = dj_database_url.parse(os.environ["DATABASE_URL"])["NAME"]
    assert test_database.startswith("test_") and test_database != configured
    mine = ContractApplication(env=env)
    _open(mine)
    with postgres_store() as other_env:  # another test starting meanwhile
        other = ContractApplication(env=other_env)
        _open(other)
        _open(other)
        assert len(other.recorder.select_notifications(start=1, limit=10)) == 2
        other.close()
    assert len(mine.recorder.select_notifications(start=1, limit=10)) == 1
    mine.close()
