"""The ticket event store's own tables beside eventsourcing's: seals that
make the log tamper-evident, command receipts that make a command run at
most once per idempotency key, and log checkpoints.

Both are written by the recorder **in the transaction that inserts the
events**, so an event can never be stored without its seal, nor a command
without its receipt (see ARCHITECTURE.md, "Write path").

Seals: every event's seal is ``sha256(predecessor's seal, originator id,
version, topic, stored state)``, chained per ticket (the first event of a
ticket chains to 32 zero bytes). Chains are per ticket so that sealing
adds no lock beyond the one each append already takes; the whole log is
covered by checkpoints (``tickets.integrity``), which fold every seal in
log order into one running hash.

Receipts: a command run under an idempotency key (``CommandKey``) stores
``(command id, request fingerprint, ticket, first and last version)``. The
primary key on the command id makes a second store of the same command
fail, atomically with its events.

The recorders are plugged into eventsourcing through its
``APPLICATION_RECORDER_TOPIC`` setting (``tickets.application.event_store_env``).
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    Notification,
    OperationalError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteCursor,
    SQLiteDatastore,
)

from tickets.event_rows import as_uuid, notification_of, uuid_from_hex

GENESIS = bytes(32)
_SEAL_PREFIX = b"baton.event-seal.v1\x00"


def seal_of(
    prev: bytes, originator_id: UUID, version: int, topic: str, state: bytes
) -> bytes:
    """The seal of one stored event, chained to its predecessor's seal.

    Every field is length-prefixed, so no two different events share the
    bytes that are hashed."""
    digest = hashlib.sha256(_SEAL_PREFIX)
    digest.update(prev)
    digest.update(originator_id.bytes)
    digest.update(version.to_bytes(8, "big", signed=True))
    encoded_topic = topic.encode()
    digest.update(len(encoded_topic).to_bytes(4, "big"))
    digest.update(encoded_topic)
    digest.update(len(state).to_bytes(8, "big"))
    digest.update(state)
    return digest.digest()


@dataclass(frozen=True)
class CommandKey:
    """Identifies one client command (an idempotency key in its caller's
    scope) and the request it came with. ``detail`` is the command's result
    detail (e.g. a new dispute's id), kept in the receipt for replays.
    ``answer_lost``: an earlier attempt under this key never gave its caller
    an answer (it died after storing, before responding); not stored."""

    id: str
    fingerprint: str
    detail: str | None = None
    answer_lost: bool = False


@dataclass(frozen=True)
class Receipt:
    command_id: str
    fingerprint: str
    originator_id: UUID
    first_version: int
    last_version: int
    detail: str | None
    position: int | None  # None if the receipt's event was deleted


@dataclass(frozen=True)
class SealedRow:
    """One event of the log with the seal stored for it (None: unsealed)."""

    position: int
    originator_id: UUID
    version: int
    topic: str
    state: bytes
    seal: bytes | None


@dataclass(frozen=True)
class Checkpoint:
    position: int
    event_count: int
    log_hash: bytes
    created_at: str


class KnownSeals:
    """Seals this process has read with their events, so that a command
    that loads a ticket and then saves it need not read its predecessor's
    seal again inside the write (a round trip on PostgreSQL). A seal never
    changes once committed, so a remembered one stays right; a bounded
    number are kept, the oldest forgotten first."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._seals: dict[tuple[UUID, int], bytes] = {}
        self._lock = threading.Lock()

    def remember(self, originator_id: UUID, version: int, seal: bytes) -> None:
        with self._lock:
            self._seals.pop((originator_id, version), None)
            self._seals[(originator_id, version)] = seal
            while len(self._seals) > self._size:
                del self._seals[next(iter(self._seals))]

    def get(self, originator_id: UUID, version: int) -> bytes | None:
        with self._lock:
            return self._seals.get((originator_id, version))


class UnsealedPredecessor(ProgrammingError):
    """An event would chain to a predecessor that has no seal: the log has
    events written before sealing existed. Run ``manage.py seal_events``."""


class IntegrityRecorder:
    """What ``tickets.integrity`` and the application need from a sealing
    recorder, whatever the database."""

    def select_receipt(self, command_id: str) -> Receipt | None:
        raise NotImplementedError

    def select_sealed(self, after: int, limit: int) -> list[SealedRow]:
        raise NotImplementedError

    def select_seal(self, originator_id: UUID, version: int) -> bytes | None:
        raise NotImplementedError

    def select_orphan_seal(self) -> tuple[UUID, int] | None:
        """A seal whose event is gone (deleted), if any."""
        raise NotImplementedError

    def legacy_boundary(self) -> int:
        """The last log position written before this store sealed its
        events (fixed when the seal tables were created; 0 for a store that
        sealed from its first event)."""
        raise NotImplementedError

    def insert_seals(self, rows: Sequence[tuple[UUID, int, bytes]]) -> None:
        """Seal events written before sealing existed (``seal_events``)."""
        raise NotImplementedError

    def insert_checkpoint(self, checkpoint: Checkpoint) -> None:
        raise NotImplementedError

    def select_checkpoints(self) -> list[Checkpoint]:
        raise NotImplementedError


def _receipt(row: Any) -> Receipt:
    return Receipt(
        command_id=row["command_id"],
        fingerprint=row["fingerprint"],
        originator_id=UUID(str(row["originator_id"])),
        first_version=row["first_version"],
        last_version=row["last_version"],
        detail=row["detail"],
        position=row["position"],
    )


def _sealed(row: Any) -> SealedRow:
    return SealedRow(
        position=row["position"],
        originator_id=UUID(str(row["originator_id"])),
        version=row["originator_version"],
        topic=row["topic"],
        state=bytes(row["state"]),
        seal=None if row["seal"] is None else bytes(row["seal"]),
    )


def _checkpoint(row: Any) -> Checkpoint:
    return Checkpoint(
        position=row["position"],
        event_count=row["event_count"],
        log_hash=bytes(row["log_hash"]),
        created_at=row["created_at"],
    )


def _chain(
    stored_events: Iterable[StoredEvent], previous: dict[UUID, bytes]
) -> list[tuple[UUID, int, bytes]]:
    """Seals for a batch of new events; ``previous`` holds the stored seal
    of each ticket's event just before the batch (absent for new tickets)."""
    last = dict(previous)
    rows = []
    for event in stored_events:
        originator_id = as_uuid(event.originator_id)
        if event.originator_version == 1:
            prev = GENESIS
        elif originator_id in last:
            prev = last[originator_id]
        else:
            raise UnsealedPredecessor(
                f"Event {originator_id} v{event.originator_version - 1} has no "
                "seal: if it was written before sealing existed, run `manage.py "
                "seal_events`; otherwise see `manage.py verify_events`."
            )
        seal = seal_of(
            prev, originator_id, event.originator_version, event.topic, event.state
        )
        last[originator_id] = seal
        rows.append((originator_id, event.originator_version, seal))
    return rows


def _predecessors(stored_events: Sequence[StoredEvent]) -> list[tuple[UUID, int]]:
    """(ticket, version) of the stored event before each ticket's first
    event in the batch, for tickets that already have events."""
    first: dict[UUID, int] = {}
    for event in stored_events:
        originator_id = as_uuid(event.originator_id)
        version = event.originator_version
        first[originator_id] = min(first.get(originator_id, version), version)
    return [(oid, version - 1) for oid, version in first.items() if version > 1]


def _receipt_row(
    command: CommandKey, stored_events: Sequence[StoredEvent]
) -> tuple[str, str, UUID, int, int, str | None]:
    originators = {as_uuid(e.originator_id) for e in stored_events}
    if len(originators) != 1:
        raise ProgrammingError("A command under a CommandKey saves one ticket.")
    versions = [e.originator_version for e in stored_events]
    return (
        command.id,
        command.fingerprint,
        originators.pop(),
        min(versions),
        max(versions),
        command.detail,
    )


# ---------------------------------------------------------------------------
# SQLite
# ---------------------------------------------------------------------------


class SealingSQLiteApplicationRecorder(SQLiteApplicationRecorder, IntegrityRecorder):
    def __init__(
        self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"
    ) -> None:
        # Set before super().__init__, which builds the CREATE statements.
        self.seals_table = f"{events_table_name}_seals"
        self.receipts_table = f"{events_table_name}_receipts"
        self.checkpoints_table = f"{events_table_name}_checkpoints"
        self.sealing_table = f"{events_table_name}_sealing"
        self._uuid_ids = datastore.originator_id_type == "uuid"
        super().__init__(datastore, events_table_name)

    def convert_originator_id(self, originator_id: str) -> UUID | str:
        if self._uuid_ids:
            return uuid_from_hex(originator_id)
        return originator_id

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {self.seals_table} ("
            "originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL, "
            "seal BLOB NOT NULL, "
            "PRIMARY KEY (originator_id, originator_version)) WITHOUT ROWID",
            f"CREATE TABLE IF NOT EXISTS {self.receipts_table} ("
            "command_id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, "
            "originator_id TEXT NOT NULL, first_version INTEGER NOT NULL, "
            "last_version INTEGER NOT NULL, detail TEXT) WITHOUT ROWID",
            f"CREATE TABLE IF NOT EXISTS {self.checkpoints_table} ("
            "position INTEGER PRIMARY KEY, event_count INTEGER NOT NULL, "
            "log_hash BLOB NOT NULL, created_at TEXT NOT NULL)",
            # Where the events written before sealing end, fixed once.
            f"CREATE TABLE IF NOT EXISTS {self.sealing_table} ("
            "id INTEGER PRIMARY KEY CHECK (id = 1), "
            "legacy_boundary INTEGER NOT NULL)",
            f"INSERT OR IGNORE INTO {self.sealing_table} "
            f"SELECT 1, COALESCE(MAX(rowid), 0) FROM {self.events_table_name}",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # Insert the events first: the write lock is taken by the first
        # write, and reading seals before it could act on a stale snapshot.
        ids = super()._insert_events(c, stored_events, **kwargs)
        previous: dict[UUID, bytes] = {}
        for originator_id, version in _predecessors(stored_events):
            c.execute(
                f"SELECT seal FROM {self.seals_table} "
                "WHERE originator_id=? AND originator_version=?",
                (originator_id.hex, version),
            )
            row = c.fetchone()
            if row is not None:
                previous[originator_id] = bytes(row["seal"])
        self._insert_seal_rows(c, _chain(stored_events, previous))
        command: CommandKey | None = kwargs.get("command")
        if command is not None:
            row = _receipt_row(command, stored_events)
            c.execute(
                f"INSERT INTO {self.receipts_table} VALUES (?,?,?,?,?,?)",
                (row[0], row[1], row[2].hex, row[3], row[4], row[5]),
            )
        return ids

    def _read(self, statement: str, params: Sequence[Any]) -> list[Any]:
        """Rows (tuples) of one statement, which is its own read transaction:
        no BEGIN and ROLLBACK around it as the library's reads have."""
        reading = self.datastore.get_connection(commit=False)
        try:
            with reading as conn, conn.cursor() as c:
                c.row_factory = None
                c.execute(statement, params)
                return c.fetchall()
        except sqlite3.OperationalError as error:  # as the library raises it
            raise OperationalError(error) from error

    def log_page(self, after: int, limit: int) -> list[Notification]:
        """``select_notifications(start=after, limit=limit,
        inclusive_of_start=False)``, read the cheapest way: what paging
        through the whole log (a rebuild, an audit) does per event."""
        rows = self._read(
            "SELECT rowid, originator_id, originator_version, topic, state FROM "
            f"{self.events_table_name} WHERE rowid>? ORDER BY rowid LIMIT ?",
            (after, limit),
        )
        convert = self.convert_originator_id
        return [notification_of(n, convert(o), v, t, s) for n, o, v, t, s in rows]

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        """The library's ``select_events`` in one statement (``_read``): a
        third of the statements of a command on a cached ticket."""
        statement = (
            "SELECT originator_id, originator_version, topic, state FROM "
            f"{self.events_table_name} WHERE originator_id=? "
        )
        oid = originator_id.hex if isinstance(originator_id, UUID) else originator_id
        params: list[Any] = [oid]
        if gt is not None:
            statement, params = statement + "AND originator_version>? ", [*params, gt]
        if lte is not None:
            statement, params = statement + "AND originator_version<=? ", [*params, lte]
        statement += "ORDER BY originator_version " + ("DESC " if desc else "ASC ")
        if limit is not None:
            statement += "LIMIT ? "
            params.append(limit)
        convert = self.convert_originator_id
        return [
            StoredEvent(
                originator_id=convert(o), originator_version=v, topic=t, state=s
            )
            for o, v, t, s in self._read(statement, params)
        ]

    def _insert_seal_rows(
        self, c: SQLiteCursor, rows: Sequence[tuple[UUID, int, bytes]]
    ) -> None:
        c.executemany(
            f"INSERT INTO {self.seals_table} VALUES (?,?,?)",
            [(oid.hex, version, seal) for oid, version, seal in rows],
        )

    def select_receipt(self, command_id: str) -> Receipt | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT r.*, e.rowid AS position FROM {self.receipts_table} r "
                f"LEFT JOIN {self.events_table_name} e "
                "ON e.originator_id = r.originator_id "
                "AND e.originator_version = r.last_version "
                "WHERE r.command_id = ?",
                (command_id,),
            )
            row = c.fetchone()
        return None if row is None else _receipt(row)

    def select_sealed(self, after: int, limit: int) -> list[SealedRow]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT e.rowid AS position, e.originator_id, "
                "e.originator_version, e.topic, e.state, s.seal "
                f"FROM {self.events_table_name} e "
                f"LEFT JOIN {self.seals_table} s "
                "ON s.originator_id = e.originator_id "
                "AND s.originator_version = e.originator_version "
                "WHERE e.rowid > ? ORDER BY e.rowid LIMIT ?",
                (after, limit),
            )
            return [_sealed(row) for row in c.fetchall()]

    def select_seal(self, originator_id: UUID, version: int) -> bytes | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT seal FROM {self.seals_table} "
                "WHERE originator_id=? AND originator_version=?",
                (originator_id.hex, version),
            )
            row = c.fetchone()
        return None if row is None else bytes(row["seal"])

    def select_orphan_seal(self) -> tuple[UUID, int] | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT s.originator_id, s.originator_version "
                f"FROM {self.seals_table} s "
                f"LEFT JOIN {self.events_table_name} e "
                "ON e.originator_id = s.originator_id "
                "AND e.originator_version = s.originator_version "
                "WHERE e.originator_id IS NULL "
                "ORDER BY s.originator_id, s.originator_version LIMIT 1"
            )
            row = c.fetchone()
        if row is None:
            return None
        return UUID(row["originator_id"]), row["originator_version"]

    def legacy_boundary(self) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT legacy_boundary FROM {self.sealing_table}")
            row = c.fetchone()
        return int(row["legacy_boundary"])

    def insert_seals(self, rows: Sequence[tuple[UUID, int, bytes]]) -> None:
        with self.datastore.transaction(commit=True) as c:
            self._insert_seal_rows(c, rows)

    def insert_checkpoint(self, checkpoint: Checkpoint) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"INSERT INTO {self.checkpoints_table} VALUES (?,?,?,?)",
                (
                    checkpoint.position,
                    checkpoint.event_count,
                    checkpoint.log_hash,
                    checkpoint.created_at,
                ),
            )

    def select_checkpoints(self) -> list[Checkpoint]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT * FROM {self.checkpoints_table} ORDER BY position")
            return [_checkpoint(row) for row in c.fetchall()]


# ---------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------
