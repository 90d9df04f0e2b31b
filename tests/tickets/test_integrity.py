"""A tamper-evident event log (issue 11, item 11).

Every event is sealed, chained to its ticket's previous event, in the
transaction that stores it; checkpoints fold the whole log into one hash
and are published outside the database. ``verify_events`` finds a changed,
inserted or deleted event, and a rewritten chain against a published
checkpoint; the audits verify first.

Tampering is done the way an attacker with database access would: raw SQL
on the event store's tables.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from eventsourcing.persistence import ProgrammingError, RecordConflictError

from tests.helpers import Org, event_count, open_ticket
from tickets import clock, integrity, services
from tickets.application import TicketsApplication, get_tickets_application
from tickets.eventstore import (
    GENESIS,
    KnownSeals,
    UnsealedPredecessor,
    seal_of,
)
from tickets.eventstore_postgres import SealingPostgresApplicationRecorder
from tickets.integrity import (
    read_published,
    seal_legacy_events,
    take_checkpoint,
    verify_log,
)


def _sql(app: TicketsApplication, statement: str, params: tuple[Any, ...] = ()) -> Any:
    """Run raw SQL on the event store (``?`` placeholders, ``{events}``,
    ``{seals}`` and ``{checkpoints}`` table names); returns fetched rows."""
    recorder: Any = app.recorder
    table = recorder.events_table_name
    postgres = _on_postgres(app)
    names = {
        "events": table,
        "seals": f"{table}_seals",
        "checkpoints": f"{table}_checkpoints",
        "sealing": f"{table}_sealing",
    }
    statement = statement.format(**names)
    if postgres:
        statement = statement.replace("?", "%s")
    with recorder.datastore.transaction(commit=True) as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if statement.startswith("SELECT") else []


def _on_postgres(app: TicketsApplication) -> bool:
    return isinstance(app.recorder, SealingPostgresApplicationRecorder)


def _id(app: TicketsApplication, ticket_id: UUID) -> Any:
    """The originator id as the store keeps it (hex text on SQLite)."""
    return ticket_id if _on_postgres(app) else ticket_id.hex


def _journey(org: Org) -> UUID:
    ticket_id = open_ticket(org)
    services.ticket_hand_off(
        principal=org.agent("CS"), ticket_id=ticket_id, to_department="FIN", reason="r"
    )
    services.ticket_respond(principal=org.agent("FIN"), ticket_id=ticket_id, body="ok")
    return ticket_id


def _position(app: TicketsApplication, ticket_id: UUID, version: int) -> int:
    rows = _sql(
        app,
        "SELECT {position} FROM {events} WHERE originator_id=? "
        "AND originator_version=?".replace(
            "{position}", "notification_id" if _on_postgres(app) else "rowid"
        ),
        (_id(app, ticket_id), version),
    )
    row = rows[0]
    return int(row[0] if not isinstance(row, dict) else row["notification_id"])


@pytest.fixture
def app(org: Org) -> TicketsApplication:
    return get_tickets_application()


def test_every_stored_event_is_sealed_and_the_log_verifies(
    org: Org, app: TicketsApplication
) -> None:
    first, second = _journey(org), _journey(org)
    report = verify_log(app)
    assert report.ok, report.problem
    assert report.checked == event_count() == 6
    # The chain: each seal covers its predecessor's.
    events = app.recorder.select_sealed(0, 100)  # type: ignore[attr-defined]
    for ticket_id in (first, second):
        chain = [e for e in events if e.originator_id == ticket_id]
        prev = GENESIS
        for event in chain:
            expected = seal_of(prev, ticket_id, event.version, event.topic, event.state)
            assert event.seal == expected
            prev = expected
    out = _call("verify_events")
    assert "Verified 6 events from the start" in out


def _call(*args: str) -> str:
    from io import StringIO

    buffer = StringIO()
    call_command(*args, stdout=buffer)
    return buffer.getvalue()


def _broken(*args: str) -> str:
    with pytest.raises(CommandError) as error:
        _call(*args)
    return str(error.value)


def test_a_changed_event_is_reported_with_its_position_and_ticket(
    org: Org, app: TicketsApplication
) -> None:
    ticket_id = _journey(org)
    _journey(org)
    state = _sql(
        app,
        "SELECT state FROM {events} WHERE originator_id=? AND originator_version=2",
        (_id(app, ticket_id),),
    )[0]
    raw = bytes(state[0] if not isinstance(state, dict) else state["state"])
    forged = raw.replace(b'"reason":"r"', b'"reason":"x"')
    assert forged != raw
    _sql(
        app,
        "UPDATE {events} SET state=? WHERE originator_id=? AND originator_version=2",
        (forged, _id(app, ticket_id)),
    )
    report = verify_log(app)
    assert report.problem is not None
    assert report.problem.ticket_id == ticket_id and report.problem.version == 2
    assert report.problem.position == _position(app, ticket_id, 2)
    assert "does not match its seal" in report.problem.what
    message = _broken("verify_events")
    assert f"position {_position(app, ticket_id, 2)}" in message
    assert str(ticket_id) in message


def test_a_deleted_event_is_reported(org: Org, app: TicketsApplication) -> None:
    ticket_id = _journey(org)
    _sql(
        app,
        "DELETE FROM {events} WHERE originator_id=? AND originator_version=2",
        (_id(app, ticket_id),),
    )
    report = verify_log(app)
    assert report.problem is not None
    assert (report.problem.ticket_id, report.problem.version) == (ticket_id, 3)
    assert "version 2 of this ticket is missing" in report.problem.what


def test_a_deleted_last_event_leaves_an_orphan_seal(
    org: Org, app: TicketsApplication
) -> None:
    ticket_id = _journey(org)
    _sql(
        app,
        "DELETE FROM {events} WHERE originator_id=? AND originator_version=3",
        (_id(app, ticket_id),),
    )
    report = verify_log(app)
    assert report.problem is not None
    assert (report.problem.ticket_id, report.problem.version) == (ticket_id, 3)
    assert "the event is gone" in report.problem.what


def test_an_inserted_event_without_a_seal_is_reported(
    org: Org, app: TicketsApplication
) -> None:
    ticket_id = _journey(org)
    _sql(
        app,
        "INSERT INTO {events} (originator_id, originator_version, topic, state) "
        "VALUES (?, 4, ?, ?)",
        (_id(app, ticket_id), "tickets.Ticket.NoteAdded", b"{}"),
    )
    report = verify_log(app)
    assert report.problem is not None
    assert (report.problem.ticket_id, report.problem.version) == (ticket_id, 4)
    assert "has no seal" in report.problem.what


def _rewrite_the_handoff_reason_and_reseal(
    app: TicketsApplication, ticket_id: UUID
) -> None:
    """What an attacker with database access does to hide an edit: change
    version 2 of a journey (its handoff reason), then re-seal versions 2
    and 3 so that the chain holds again."""
    rows = app.recorder.select_sealed(0, 100)  # type: ignore[attr-defined]
    chain = {r.version: r for r in rows if r.originator_id == ticket_id}
    forged_state = chain[2].state.replace(b'"reason":"r"', b'"reason":"x"')
    assert forged_state != chain[2].state
    _sql(
        app,
        "UPDATE {events} SET state=? WHERE originator_id=? AND originator_version=2",
        (forged_state, _id(app, ticket_id)),
    )
    prev = chain[1].seal
    assert prev is not None
    for version, state in ((2, forged_state), (3, chain[3].state)):
        prev = seal_of(prev, ticket_id, version, chain[version].topic, state)
        _sql(
            app,
            "UPDATE {seals} SET seal=? WHERE originator_id=? AND originator_version=?",
            (prev, _id(app, ticket_id), version),
        )


def test_a_rewritten_chain_is_caught_by_the_published_checkpoint(
    org: Org, app: TicketsApplication, tmp_path: Path
) -> None:
    """An attacker who rewrites an event, re-seals its whole chain and the
    stored checkpoints passes every check inside the database; the
    checkpoint published outside it still catches them."""
    ticket_id = _journey(org)
    published = tmp_path / "checkpoints.jsonl"
    assert take_checkpoint(app, path=published).ok
    checkpoints = read_published(published)
    assert len(checkpoints) == 1 and checkpoints[0].event_count == 3

    _rewrite_the_handoff_reason_and_reseal(app, ticket_id)
    # ... and the stored checkpoint, recomputed over the forged log.
    _sql(app, "DELETE FROM {checkpoints}")
    assert take_checkpoint(app, path=tmp_path / "attacker.jsonl").ok
    assert verify_log(app).ok  # nothing inside the database disagrees

    report = verify_log(app, published=checkpoints)
    assert report.problem is not None
    assert "published checkpoint" in report.problem.what
    message = _broken("verify_events", "--published", str(published))
    assert "no longer matches the published checkpoint" in message


def test_a_history_rewritten_and_checkpointed_again_is_caught_incrementally(
    org: Org, app: TicketsApplication, tmp_path: Path
) -> None:
    """The incremental walk (and the worker's checkpoints) start from the
    last *published* checkpoint, not from one the database alone vouches
    for: rewriting covered history and storing a fresh checkpoint over it
    does not pass, and no new checkpoint is published on top of it."""
    ticket_id = _journey(org)
    published = tmp_path / "checkpoints.jsonl"
    assert take_checkpoint(app, path=published).ok
    _rewrite_the_handoff_reason_and_reseal(app, ticket_id)
    _sql(app, "DELETE FROM {checkpoints}")
    _journey(org)  # more events, then the attacker's own checkpoint
    assert take_checkpoint(app, path=tmp_path / "attacker.jsonl").ok
    assert verify_log(app, since_last_checkpoint=True).ok  # the database agrees

    report = verify_log(
        app, since_last_checkpoint=True, published=read_published(published)
    )
    assert report.problem is not None and "stored checkpoint" in report.problem.what
    message = _broken(
        "verify_events", "--since-last-checkpoint", "--published", str(published)
    )
    assert "Broken link" in message
    before = published.read_text()
    _journey(org)
    assert not take_checkpoint(app, path=published).ok
    assert published.read_text() == before


def test_events_deleted_from_before_a_checkpoint_are_reported(
    org: Org, app: TicketsApplication, tmp_path: Path
) -> None:
    ticket_id = _journey(org)
    assert take_checkpoint(app, path=tmp_path / "c.jsonl").ok
    _sql(
        app,
        "DELETE FROM {seals} WHERE originator_id=? AND originator_version=3",
        (_id(app, ticket_id),),
    )
    _sql(
        app,
        "DELETE FROM {events} WHERE originator_id=? AND originator_version=3",
        (_id(app, ticket_id),),
    )
    report = verify_log(app, published=read_published(tmp_path / "c.jsonl"))
    assert report.problem is not None
    assert "no longer in the log" in report.problem.what


def test_checkpoints_are_stored_published_and_verified_incrementally(
    org: Org, app: TicketsApplication, tmp_path: Path, caplog: Any
) -> None:
    target = tmp_path / "published" / "checkpoints.jsonl"
    _journey(org)
    with override_settings(BATON_EVENT_CHECKPOINT_FILE=str(target)):
        with caplog.at_level("INFO", logger="baton.integrity"):
            out = _call("checkpoint_events")
        assert "Checkpoint at position" in out and "3 events" in out
        assert "event-log checkpoint" in caplog.text
        assert _call("checkpoint_events").startswith("No new events")
        _journey(org)
        _call("checkpoint_events")
        lines = [json.loads(line) for line in target.read_text().splitlines()]
        assert [line["event_count"] for line in lines] == [3, 6]
        report = verify_log(app, since_last_checkpoint=True)
        assert report.ok and report.checked == 0 and report.event_count == 6
        _journey(org)
        report = verify_log(app, since_last_checkpoint=True)
        assert report.ok and report.checked == 3 and report.event_count == 9
        out = _call("verify_events")  # the configured file is read by default
        assert "4 checkpoint(s) matched" in out and "published" in out  # 2 + 2
        # The task the worker runs on its schedule does the same.
        from tickets.tasks import checkpoint_event_log

        result = checkpoint_event_log()
        assert result["checked"] == 3 and result["problem"] is None
        assert len(target.read_text().splitlines()) == 3


def test_no_checkpoint_is_taken_over_a_broken_link(
    org: Org, app: TicketsApplication, tmp_path: Path
) -> None:
    ticket_id = _journey(org)
    _sql(
        app,
        "UPDATE {events} SET topic=? WHERE originator_id=? AND originator_version=3",
        ("tickets.Ticket.NoteAdded", _id(app, ticket_id)),
    )
    target = tmp_path / "c.jsonl"
    with override_settings(BATON_EVENT_CHECKPOINT_FILE=str(target)):
        message = _broken("checkpoint_events")
    assert "No checkpoint: broken link" in message
    assert not target.exists()


def test_the_audits_verify_the_log_first(org: Org, app: TicketsApplication) -> None:
    """The attack that passed both audits: edit an event, then rebuild the
    read models from the edited log."""
    ticket_id = _journey(org)
    _sql(
        app,
        "UPDATE {events} SET state=? WHERE originator_id=? AND originator_version=3",
        (b'{"body":"forged"}', _id(app, ticket_id)),
    )
    for command in ("audit_projections", "audit_scorecards"):
        message = _broken(command)
        assert "Event log verification failed" in message
        assert str(ticket_id) in message


def _as_if_written_before_sealing(app: TicketsApplication) -> None:
    """What the migration finds on a store of an older release: events
    without seals, and the boundary fixed at the last of them."""
    _sql(app, "DELETE FROM {seals}")
    last = app.recorder.max_notification_id()
    _sql(app, "UPDATE {sealing} SET legacy_boundary=?", (last,))
    # A process of the new release starts with no seal in memory (a
    # projection that loaded a ticket, the mail outbox's, left one here).
    recorder: Any = app.recorder
    if hasattr(recorder, "known_seals"):
        recorder.known_seals = KnownSeals()


def test_events_written_before_sealing_are_sealed_once_and_no_later_ones(
    org: Org, app: TicketsApplication
) -> None:
    legacy = _journey(org)
    _as_if_written_before_sealing(app)
    # A legacy ticket cannot grow an unsealed chain.
    with pytest.raises(UnsealedPredecessor):
        services.ticket_add_note(principal=org.agent("FIN"), ticket_id=legacy, body="n")
    assert "has no seal" in _broken("verify_events")
    assert _call("seal_events") == "Sealed 3 event(s).\n"
    assert verify_log(app).ok
    assert _call("seal_events") == "Sealed 0 event(s).\n"
    services.ticket_add_note(principal=org.agent("FIN"), ticket_id=legacy, body="n")
    # An unsealed event after the boundary is what an insertion behind
    # Baton's back looks like: never sealed, always reported.
    _sql(
        app,
        "INSERT INTO {events} (originator_id, originator_version, topic, state) "
        "VALUES (?, 1, ?, ?)",
        (_id(app, uuid4()), "tickets.Ticket.Opened", b"{}"),
    )
    assert seal_legacy_events(app) == 0
    report = verify_log(app)
    assert report.problem is not None and "has no seal" in report.problem.what


def test_an_interrupted_sealing_is_finished_by_the_next_run(
    org: Org, app: TicketsApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seals are committed in pages: a migration that dies after the first
    page leaves the rest for the next run, not unsealed for good."""
    for _ in range(3):
        _journey(org)
    _as_if_written_before_sealing(app)
    monkeypatch.setattr(integrity, "PAGE", 4)
    recorder: Any = app.recorder
    insert = recorder.insert_seals
    calls: list[int] = []

    def dies_on_the_second_page(rows: Any) -> None:
        calls.append(len(rows))
        if len(calls) == 2:
            raise KeyboardInterrupt
        insert(rows)

    monkeypatch.setattr(recorder, "insert_seals", dies_on_the_second_page)
    with pytest.raises(KeyboardInterrupt):
        seal_legacy_events(app)
    monkeypatch.setattr(recorder, "insert_seals", insert)
    assert not verify_log(app).ok
    assert seal_legacy_events(app) == 9 - 4
    assert verify_log(app).ok and verify_log(app).checked == 9


def test_conflicting_saves_leave_the_connection_usable(
    org: Org, app: TicketsApplication
) -> None:
    """A save that loses a race fails inside the store's write pipeline;
    the seal statements queued behind it must not leave the connection
    believing in a prepared statement the server never made (seen on
    PostgreSQL as "prepared statement _pg3_N does not exist"). One pooled
    connection, so every save reuses it."""
    ticket_id = open_ticket(org)
    own = app
    if _on_postgres(app):
        own = TicketsApplication(
            env={**app.env, "POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "0"}
        )
    actor = org.agent("CS").actor_for("CS", "CS")
    try:
        for attempt in range(12):  # past psycopg's prepare threshold
            first, second = own.get_ticket(ticket_id), own.get_ticket(ticket_id)
            first.add_note(body=f"kept {attempt}", actor=actor, at=clock.now())
            second.add_note(body=f"lost {attempt}", actor=actor, at=clock.now())
            own.save(first)
            with pytest.raises(RecordConflictError):
                own.save(second)
        assert verify_log(own).ok and verify_log(own).checked == 13
    finally:
        if own is not app:
            own.close()


def test_the_database_insert_function_cannot_bypass_the_seals(
    org: Org, app: TicketsApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    """eventsourcing's PostgreSQL insert function skips the recorder's own
    statements: the environment cannot switch it on, and a store built with
    it refuses to start."""
    if not _on_postgres(app):
        pytest.skip("PostgreSQL only: the insert function is PostgreSQL's")
    monkeypatch.setenv("POSTGRES_ENABLE_DB_FUNCTIONS", "y")
    from tickets.application import default_env

    env = default_env()
    assert env["POSTGRES_ENABLE_DB_FUNCTIONS"] == "n"
    with pytest.raises(ProgrammingError, match="without seals"):
        TicketsApplication(env={**env, "POSTGRES_ENABLE_DB_FUNCTIONS": "y"})
    fresh = TicketsApplication(env=env)  # the environment's "y" loses
    try:
        assert not fresh.recorder.datastore.enable_db_functions  # type: ignore[attr-defined]
    finally:
        fresh.close()


def test_a_save_chains_to_the_seal_read_with_the_ticket_or_reads_it(
    org: Org, app: TicketsApplication
) -> None:
    """On PostgreSQL, loading a ticket remembers its newest seal, so the
    save that follows needs no read of it inside the write; without one
    remembered (another process loaded it), the save reads it. Both chain
    the same."""
    if not _on_postgres(app):
        pytest.skip("PostgreSQL only: SQLite reads the seal in its own file")
    recorder: Any = app.recorder
    ticket_id = _journey(org)
    ticket = app.get_ticket(ticket_id)
    stored = recorder.select_seal(ticket_id, ticket.version)
    assert recorder.known_seals.get(ticket_id, ticket.version) == stored
    actor = org.agent("FIN").actor_for("FIN", "CS")
    ticket.add_note(body="remembered", actor=actor, at=clock.now())
    app.save(ticket)
    ticket = app.get_ticket(ticket_id)
    recorder.known_seals = KnownSeals()  # as in a process that never read it
    ticket.add_note(body="read again", actor=actor, at=clock.now())
    app.save(ticket)
    report = verify_log(app)
    assert report.ok and report.checked == 5


def _late_abort(monkeypatch: pytest.MonkeyPatch, *, run_insert: bool) -> None:
    """Make the library's PostgreSQL insert end as it does when psycopg
    fetches the seal and receipt statements' PIPELINE_ABORTED results only
    on the pipeline's exit: an OperationalError caused by PipelineAborted,
    replacing the UniqueViolation (after running the real insert, if asked)."""
    from eventsourcing.persistence import OperationalError
    from eventsourcing.postgres import PostgresApplicationRecorder
    from psycopg.errors import PipelineAborted

    real = PostgresApplicationRecorder.insert_events

    def insert_events(self: Any, stored_events: Any, **kwargs: Any) -> Any:
        if run_insert:
            try:
                return real(self, stored_events, **kwargs)
            except RecordConflictError:
                pass
        raise OperationalError("pipeline aborted") from PipelineAborted(
            "pipeline aborted"
        )

    monkeypatch.setattr(PostgresApplicationRecorder, "insert_events", insert_events)


def test_a_conflict_reported_as_an_aborted_pipeline_is_still_a_conflict(
    org: Org, app: TicketsApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write that loses a race gets RecordConflictError (the API's 409)
    however psycopg reports it, and nothing of it is stored; an abort with
    nothing taken stays the operational error it is."""
    from eventsourcing.persistence import OperationalError

    if not _on_postgres(app):
        pytest.skip("PostgreSQL only: SQLite has no pipeline")
    ticket_id = open_ticket(org)
    actor = org.agent("CS").actor_for("CS", "CS")
    first, second = app.get_ticket(ticket_id), app.get_ticket(ticket_id)
    first.add_note(body="kept", actor=actor, at=clock.now())
    second.add_note(body="lost", actor=actor, at=clock.now())
    app.save(first)
    _late_abort(monkeypatch, run_insert=True)
    with pytest.raises(RecordConflictError):
        app.save(second)
    monkeypatch.undo()
    notes = [e.body for e in app.events.get(ticket_id) if hasattr(e, "body")]
    assert notes == ["kept"]

    third = app.get_ticket(ticket_id)
    third.add_note(body="never written", actor=actor, at=clock.now())
    _late_abort(monkeypatch, run_insert=False)
    with pytest.raises(OperationalError) as raised:
        app.save(third)
    assert not isinstance(raised.value, RecordConflictError)
    monkeypatch.undo()
    assert len(list(app.events.get(ticket_id))) == 2
    assert verify_log(app).ok
