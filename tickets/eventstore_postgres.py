"""The PostgreSQL recorder of the sealed event log: the same seals, command
receipts and checkpoints as :mod:`tickets.eventstore`'s SQLite recorder (whose
docstring describes them), written in the library's insert pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    Notification,
    OperationalError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg.errors import PipelineAborted
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from tickets.event_rows import notification_of
from tickets.eventstore import (
    Checkpoint,
    CommandKey,
    IntegrityRecorder,
    KnownSeals,
    Receipt,
    SealedRow,
    _chain,
    _checkpoint,
    _predecessors,
    _receipt,
    _receipt_row,
    _sealed,
)


class SealingPostgresApplicationRecorder(
    PostgresApplicationRecorder, IntegrityRecorder
):
    def __init__(
        self,
        datastore: PostgresDatastore,
        *,
        events_table_name: str = "stored_events",
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        if datastore.enable_db_functions:
            raise ProgrammingError(
                "POSTGRES_ENABLE_DB_FUNCTIONS would store events without seals "
                "or command receipts: turn it off."
            )
        schema = Identifier(self.datastore.schema)
        self._names = {
            "schema": schema,
            "events": Identifier(events_table_name),
            "seals": Identifier(f"{events_table_name}_seals"),
            "receipts": Identifier(f"{events_table_name}_receipts"),
            "checkpoints": Identifier(f"{events_table_name}_checkpoints"),
            "sealing": Identifier(f"{events_table_name}_sealing"),
        }
        self.known_seals = KnownSeals()
        self._statements: dict[str, str] = {}
        self._select_events_text: dict[tuple[bool, bool, bool, bool], str] = {}
        # Loading a ticket reads each event's seal with it (one statement).
        # USING merges the key columns, so the clauses select_events adds
        # ("AND originator_version > %s", ORDER BY) stay unambiguous.
        select_events = (
            "SELECT e.*, s.seal AS baton_seal FROM {schema}.{events} e "
            "LEFT JOIN {schema}.{seals} s USING (originator_id, originator_version) "
            "WHERE originator_id = %s"
        )
        self._select_events_base = self._sql(select_events)
        self.select_events_statement = self._composed(select_events)
        self.sql_create_statements.extend(
            [
                self._composed(
                    "CREATE TABLE IF NOT EXISTS {schema}.{seals} ("
                    "originator_id uuid NOT NULL, originator_version bigint NOT NULL, "
                    "seal bytea NOT NULL, "
                    "PRIMARY KEY (originator_id, originator_version))"
                ),
                self._composed(
                    "CREATE TABLE IF NOT EXISTS {schema}.{receipts} ("
                    "command_id text PRIMARY KEY, fingerprint text NOT NULL, "
                    "originator_id uuid NOT NULL, first_version bigint NOT NULL, "
                    "last_version bigint NOT NULL, detail text)"
                ),
                self._composed(
                    "CREATE TABLE IF NOT EXISTS {schema}.{checkpoints} ("
                    "position bigint PRIMARY KEY, event_count bigint NOT NULL, "
                    "log_hash bytea NOT NULL, created_at text NOT NULL)"
                ),
                # Where the events written before sealing end, fixed once.
                self._composed(
                    "CREATE TABLE IF NOT EXISTS {schema}.{sealing} ("
                    "id int PRIMARY KEY CHECK (id = 1), "
                    "legacy_boundary bigint NOT NULL)"
                ),
                self._composed(
                    "INSERT INTO {schema}.{sealing} "
                    "SELECT 1, COALESCE(MAX(notification_id), 0) "
                    "FROM {schema}.{events} ON CONFLICT (id) DO NOTHING"
                ),
            ]
        )

    def _composed(self, template: str) -> Any:
        return SQL(template).format(**self._names)

    def _sql(self, template: str) -> str:
        """``template`` with the schema's table names, as text composed once
        (psycopg would compose a ``Composed`` again on every execution)."""
        statement = self._statements.get(template)
        if statement is None:
            composed = SQL(template).format(**self._names)
            statement = self._statements[template] = composed.as_string(None)
        return statement

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """The library's insert, with a lost conflict restored.

        When the events' INSERT hits the unique key, the seal and receipt
        statements queued behind it in the same pipeline come back
        PIPELINE_ABORTED. If psycopg has not fetched those results when
        the library catches the UniqueViolation, the pipeline's exit raises
        ``PipelineAborted`` instead, and the conflict (a 409) would surface
        as an operational error (a 500). The transaction is rolled back
        either way; an abort whose events or command are now taken is that
        conflict, anything else stays the error it is."""
        try:
            ids: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
        except OperationalError as error:
            aborted = isinstance(error.__cause__, PipelineAborted)
            if not aborted or not self._taken(stored_events, kwargs.get("command")):
                raise
            raise IntegrityError(
                "An event of this write is already stored (the conflict was "
                "reported as an aborted pipeline)."
            ) from error
        return ids

    def _taken(self, stored_events: Sequence[StoredEvent], command: Any) -> bool:
        """Whether one of these events' places, or this command, is stored."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                self._sql(
                    "SELECT 1 FROM {schema}.{events} WHERE (originator_id, "
                    "originator_version) IN (SELECT * FROM unnest(%s::uuid[], "
                    "%s::bigint[])) LIMIT 1"
                ),
                (
                    [e.originator_id for e in stored_events],
                    [e.originator_version for e in stored_events],
                ),
                prepare=False,
            )
            if curs.fetchone() is not None:
                return True
            if command is None:
                return False
            curs.execute(
                self._sql("SELECT 1 FROM {schema}.{receipts} WHERE command_id = %s"),
                (command.id,),
                prepare=False,
            )
            return curs.fetchone() is not None

    def _insert_stored_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        # Everything that can fail in Python runs before the events are
        # inserted: the library's insert_events catches exceptions inside
        # its transaction block, which then commits. Reading predecessors'
        # seals before the table lock is safe: a ticket's next version is
        # only written by whoever loaded (so saw committed) the previous one.
        # Own cursors: the library reads the INSERT's RETURNING rows from
        # ``curs`` afterwards.
        command: CommandKey | None = kwargs.get("command")
        receipt = _receipt_row(command, stored_events) if command else None
        seals: list[tuple[UUID, int, bytes]] = []
        if stored_events:
            with curs.connection.cursor() as own:
                seals = _chain(stored_events, self._previous_seals(own, stored_events))
        super()._insert_stored_events(curs, stored_events, **kwargs)
        if not stored_events:
            return
        # Never prepared: when the events' INSERT fails in the pipeline, the
        # server skips these statements, and psycopg would still remember a
        # statement prepared in that batch as prepared ("prepared statement
        # _pg3_N does not exist" on the connection's next use).
        with curs.connection.cursor() as own:
            self._insert_seal_rows(own, seals)
            if receipt is not None:
                own.execute(
                    self._sql(
                        "INSERT INTO {schema}.{receipts} VALUES (%s,%s,%s,%s,%s,%s)"
                    ),
                    receipt,
                    prepare=False,
                )

    def _previous_seals(
        self, curs: Any, stored_events: Sequence[StoredEvent]
    ) -> dict[UUID, bytes]:
        previous: dict[UUID, bytes] = {}
        wanted = []
        for originator_id, version in _predecessors(stored_events):
            known = self.known_seals.get(originator_id, version)
            if known is None:
                wanted.append((originator_id, version))
            else:
                previous[originator_id] = known
        if not wanted:
            return previous
        curs.execute(
            self._sql(
                "SELECT originator_id, seal FROM {schema}.{seals} "
                "WHERE (originator_id, originator_version) IN "
                "(SELECT * FROM unnest(%s::uuid[], %s::bigint[]))"
            ),
            ([oid for oid, _ in wanted], [version for _, version in wanted]),
            prepare=False,
        )
        previous.update(
            (UUID(str(row["originator_id"])), bytes(row["seal"]))
            for row in curs.fetchall()
        )
        return previous

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def log_page(self, after: int, limit: int) -> list[Notification]:
        """As ``SealingSQLiteApplicationRecorder.log_page``."""
        statement = self._sql(
            "SELECT notification_id, originator_id, originator_version, topic, "
            "state FROM {schema}.{events} WHERE notification_id > %s "
            "ORDER BY notification_id LIMIT %s"
        )
        with (
            self.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row) as curs,
        ):
            curs.execute(statement, (after, limit), prepare=True)
            rows = curs.fetchall()
        return [notification_of(n, o, v, t, bytes(s)) for n, o, v, t, s in rows]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        """The library's ``select_events``, also remembering the seal of the
        newest event read (see ``KnownSeals``)."""
        params: list[Any] = [originator_id]
        if gt is not None:
            params.append(gt)
        if lte is not None:
            params.append(lte)
        if limit is not None:
            params.append(limit)
        shape = (gt is not None, lte is not None, desc, limit is not None)
        statement = self._select_events_text.get(shape)
        if statement is None:  # composed once per shape (see _sql)
            statement = self._select_events_base
            if gt is not None:
                statement += " AND originator_version > %s"
            if lte is not None:
                statement += " AND originator_version <= %s"
            statement += " ORDER BY originator_version"
            statement += " DESC" if desc else " ASC"
            if limit is not None:
                statement += " LIMIT %s"
            self._select_events_text[shape] = statement
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, params, prepare=True)
            rows = curs.fetchall()
        if rows:  # the next save chains to the newest event read
            newest = max(rows, key=lambda row: row["originator_version"])
            if newest["baton_seal"] is not None:
                self.known_seals.remember(
                    UUID(str(newest["originator_id"])),
                    newest["originator_version"],
                    bytes(newest["baton_seal"]),
                )
        return [
            StoredEvent(
                originator_id=row["originator_id"],
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=bytes(row["state"]),
            )
            for row in rows
        ]

    def _insert_seal_rows(
        self, curs: Any, rows: Sequence[tuple[UUID, int, bytes]]
    ) -> None:
        curs.execute(
            self._sql(
                "INSERT INTO {schema}.{seals} "
                "SELECT * FROM unnest(%s::uuid[], %s::bigint[], %s::bytea[])"
            ),
            (
                [oid for oid, _, _ in rows],
                [version for _, version, _ in rows],
                [seal for _, _, seal in rows],
            ),
            prepare=False,
        )

    def _fetchone(self, template: str, params: Sequence[Any] = ()) -> Any:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._sql(template), params)
            return curs.fetchone()

    def select_receipt(self, command_id: str) -> Receipt | None:
        row = self._fetchone(
            "SELECT r.*, e.notification_id AS position FROM {schema}.{receipts} r "
            "LEFT JOIN {schema}.{events} e ON e.originator_id = r.originator_id "
            "AND e.originator_version = r.last_version WHERE r.command_id = %s",
            (command_id,),
        )
        return None if row is None else _receipt(row)

    def select_sealed(self, after: int, limit: int) -> list[SealedRow]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._sql(
                    "SELECT e.notification_id AS position, e.originator_id, "
                    "e.originator_version, e.topic, e.state, s.seal "
                    "FROM {schema}.{events} e LEFT JOIN {schema}.{seals} s "
                    "ON s.originator_id = e.originator_id "
                    "AND s.originator_version = e.originator_version "
                    "WHERE e.notification_id > %s "
                    "ORDER BY e.notification_id LIMIT %s"
                ),
                (after, limit),
            )
            return [_sealed(row) for row in curs.fetchall()]

    def select_seal(self, originator_id: UUID, version: int) -> bytes | None:
        row = self._fetchone(
            "SELECT seal FROM {schema}.{seals} "
            "WHERE originator_id = %s AND originator_version = %s",
            (originator_id, version),
        )
        return None if row is None else bytes(row["seal"])

    def select_orphan_seal(self) -> tuple[UUID, int] | None:
        row = self._fetchone(
            "SELECT s.originator_id, s.originator_version FROM {schema}.{seals} s "
            "WHERE NOT EXISTS (SELECT 1 FROM {schema}.{events} e "
            "WHERE e.originator_id = s.originator_id "
            "AND e.originator_version = s.originator_version) "
            "ORDER BY s.originator_id, s.originator_version LIMIT 1"
        )
        if row is None:
            return None
        return UUID(str(row["originator_id"])), row["originator_version"]

    def legacy_boundary(self) -> int:
        row = self._fetchone("SELECT legacy_boundary FROM {schema}.{sealing}")
        return int(row["legacy_boundary"])

    def insert_seals(self, rows: Sequence[tuple[UUID, int, bytes]]) -> None:
        with self.datastore.transaction(commit=True) as curs:
            self._insert_seal_rows(curs, rows)

    def insert_checkpoint(self, checkpoint: Checkpoint) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                self._sql("INSERT INTO {schema}.{checkpoints} VALUES (%s,%s,%s,%s)"),
                (
                    checkpoint.position,
                    checkpoint.event_count,
                    checkpoint.log_hash,
                    checkpoint.created_at,
                ),
            )

    def select_checkpoints(self) -> list[Checkpoint]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._sql("SELECT * FROM {schema}.{checkpoints} ORDER BY position")
            )
            return [_checkpoint(row) for row in curs.fetchall()]
