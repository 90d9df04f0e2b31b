"""Tamper evidence for the ticket event log: verify it, checkpoint it,
publish the checkpoints, and seal events written before sealing existed.

How it fits together (see ``tickets.eventstore`` for the seals):

* every event carries a seal chained to the previous event of its ticket,
  written in the transaction that stores the event;
* a **checkpoint** folds every seal of the log, in log order, into one
  running hash: ``log_hash = sha256(previous log_hash, position, seal)``.
  Checkpoints are stored beside the events and **published** outside the
  database (a log line and a JSON line appended to
  ``settings.BATON_EVENT_CHECKPOINT_FILE``), so that even a rewrite of a
  whole chain, seals and stored checkpoints included, is detected against
  the last published checkpoint;
* ``verify_log`` walks the log (or only what follows the last checkpoint)
  and stops at the first broken link: an event changed, inserted or
  deleted, a seal missing or orphaned, a checkpoint that no longer matches.

Each problem names the log position, the ticket and what is wrong.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from tickets import clock
from tickets.eventstore import (
    GENESIS,
    Checkpoint,
    IntegrityRecorder,
    SealedRow,
    seal_of,
)

logger = logging.getLogger("baton.integrity")

PAGE = 2000
_LOG_PREFIX = b"baton.event-log.v1\x00"


def log_step(log_hash: bytes, position: int, seal: bytes) -> bytes:
    """The running log hash after the event at ``position``."""
    digest = hashlib.sha256(_LOG_PREFIX)
    digest.update(log_hash)
    digest.update(position.to_bytes(8, "big", signed=True))
    digest.update(seal)
    return digest.digest()


@dataclass(frozen=True)
class Problem:
    """The first broken link found."""

    what: str
    position: int | None = None
    ticket_id: UUID | None = None
    version: int | None = None

    def __str__(self) -> str:
        where = []
        if self.position is not None:
            where.append(f"position {self.position}")
        if self.ticket_id is not None:
            where.append(f"ticket {self.ticket_id}")
        if self.version is not None:
            where.append(f"version {self.version}")
        return f"{', '.join(where) or 'log'}: {self.what}"


@dataclass
class Report:
    """What a walk checked. ``problem`` is None when every link held."""

    checked: int = 0
    start: int = 0
    last_position: int = 0
    event_count: int = 0
    log_hash: bytes = GENESIS
    checkpoints_matched: int = 0
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class Reference:
    """A checkpoint the walk must reproduce, and where it comes from."""

    checkpoint: Checkpoint
    source: str  # "stored" or "published"


@dataclass
class _Walk:
    recorder: IntegrityRecorder
    full: bool
    report: Report
    references: dict[int, list[Reference]] = field(default_factory=dict)
    last: dict[UUID, tuple[int, bytes]] = field(default_factory=dict)

    def check(self, row: SealedRow) -> Problem | None:
        def problem(what: str) -> Problem:
            return Problem(what, row.position, row.originator_id, row.version)

        if row.seal is None:
            return problem(
                "the event has no seal: it was written outside Baton, or "
                "before sealing and never sealed"
            )
        prev: bytes | None
        if row.version == 1:
            prev = GENESIS
        elif row.originator_id in self.last:
            last_version, prev = self.last[row.originator_id]
            if last_version != row.version - 1:
                return problem(
                    f"version {last_version + 1} of this ticket is missing "
                    "(an event was deleted)"
                )
        elif self.full:
            return problem(
                f"the ticket's earlier events (before version {row.version}) "
                "are missing (deleted) or out of order"
            )
        else:
            prev = self.recorder.select_seal(row.originator_id, row.version - 1)
            if prev is None:
                return problem(
                    f"version {row.version - 1} of this ticket has no seal "
                    "(an event was deleted)"
                )
        if seal_of(prev, row.originator_id, row.version, row.topic, row.state) != (
            row.seal
        ):
            return problem(
                "the stored event does not match its seal: the event (or its "
                "seal) was changed, or an event was inserted in its place"
            )
        self.last[row.originator_id] = (row.version, row.seal)
        report = self.report
        report.log_hash = log_step(report.log_hash, row.position, row.seal)
        report.checked += 1
        report.event_count += 1
        report.last_position = row.position
        for reference in self.references.pop(row.position, []):
            found = self.compare(reference)
            if found is not None:
                return found
        return None

    def compare(self, reference: Reference) -> Problem | None:
        checkpoint, report = reference.checkpoint, self.report
        if checkpoint.log_hash == report.log_hash and (
            checkpoint.event_count == report.event_count
        ):
            report.checkpoints_matched += 1
            return None
        return Problem(
            f"the log up to here no longer matches the {reference.source} "
            f"checkpoint of {checkpoint.created_at} (events before it were "
            "changed, inserted or deleted, and re-sealed)",
            checkpoint.position,
        )


def _rows(recorder: IntegrityRecorder, after: int) -> Iterator[SealedRow]:
    while True:
        page = recorder.select_sealed(after, PAGE)
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1].position


def integrity_recorder(app: Any) -> IntegrityRecorder:
    recorder = app.recorder
    if not isinstance(recorder, IntegrityRecorder):
        raise TypeError(
            f"{type(recorder).__name__} keeps no seals (only the SQLite and "
            "PostgreSQL event stores do)."
        )
    return recorder


def _walk_base(
    stored: list[Checkpoint], published: list[Checkpoint]
) -> Reference | None:
    """Where an incremental walk starts: the last stored checkpoint, or the
    last published one at or before it when any was published."""
    if not stored:
        return None
    last = stored[-1]
    if not published:
        return Reference(last, "stored")
    vouched = [c for c in published if c.position <= last.position]
    if not vouched:
        return None  # nothing outside the database vouches: walk it all
    return Reference(max(vouched, key=lambda c: c.position), "published")


def verify_log(
    app: Any,
    *,
    since_last_checkpoint: bool = False,
    published: Iterable[Checkpoint] = (),
) -> Report:
    """Walk the log and check every link; stop at the first broken one.

    From position 0 by default. With ``since_last_checkpoint``, from the
    last stored checkpoint, or, when checkpoints were ``published``, from
    the last published one at or before it: a stored checkpoint is only
    trusted as far as a published one vouches for it, so a history
    rewritten and re-checkpointed inside the database is still walked from
    a hash kept outside it. Every stored and published checkpoint within
    the walk must be reproduced exactly; one that lies beyond the log, or
    at a position that is no longer in it, is a problem too."""
    recorder = integrity_recorder(app)
    stored = recorder.select_checkpoints()
    published = list(published)
    references: dict[int, list[Reference]] = {}
    for checkpoint in stored:
        references.setdefault(checkpoint.position, []).append(
            Reference(checkpoint, "stored")
        )
    for checkpoint in published:
        references.setdefault(checkpoint.position, []).append(
            Reference(checkpoint, "published")
        )
    report = Report()
    base = _walk_base(stored, published) if since_last_checkpoint else None
    if base is not None:
        report.start = report.last_position = base.checkpoint.position
        report.log_hash = base.checkpoint.log_hash
        report.event_count = base.checkpoint.event_count
        for reference in references.pop(report.start, []):
            report.problem = _Walk(recorder, False, report).compare(reference)
            if report.problem:
                return report
        references = {p: refs for p, refs in references.items() if p > report.start}
    walk = _Walk(recorder, report.start == 0, report, references)
    for row in _rows(recorder, report.start):
        report.problem = walk.check(row)
        if report.problem:
            return report
    if walk.references:
        position = min(walk.references)
        reference = walk.references[position][0]
        report.problem = Problem(
            f"the {reference.source} checkpoint of "
            f"{reference.checkpoint.created_at} names a position that is no "
            "longer in the log (events were deleted)",
            position,
        )
        return report
    orphan = recorder.select_orphan_seal()
    if orphan is not None:
        report.problem = Problem(
            "a seal exists for this event but the event is gone (deleted)",
            None,
            orphan[0],
            orphan[1],
        )
    return report


# ---------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------


def checkpoint_to_json(checkpoint: Checkpoint) -> str:
    return json.dumps(
        {
            "position": checkpoint.position,
            "event_count": checkpoint.event_count,
            "log_hash": checkpoint.log_hash.hex(),
            "created_at": checkpoint.created_at,
        },
        sort_keys=True,
    )


def checkpoint_from_json(line: str) -> Checkpoint:
    data = json.loads(line)
    return Checkpoint(
        position=int(data["position"]),
        event_count=int(data["event_count"]),
        log_hash=bytes.fromhex(data["log_hash"]),
        created_at=str(data["created_at"]),
    )


def read_published(path: str | Path) -> list[Checkpoint]:
    """Checkpoints from a file of JSON lines (as ``publish`` appends them).
    Raises ``ValueError`` naming the line that is not a checkpoint."""
    checkpoints = []
    text = Path(path).read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            checkpoints.append(checkpoint_from_json(line))
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path}:{number}: not a checkpoint ({error})") from None
    return checkpoints


def publish(checkpoint: Checkpoint, path: str | Path | None) -> None:
    """Publish a checkpoint outside the database: a log line, and a JSON
    line appended to ``path`` (when given)."""
    line = checkpoint_to_json(checkpoint)
    logger.info("event-log checkpoint %s", line)
    if path:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a", encoding="utf-8") as file:
            file.write(line + "\n")


def configured_checkpoint_file() -> str:
    from django.conf import settings

    return str(getattr(settings, "BATON_EVENT_CHECKPOINT_FILE", "") or "")


def take_checkpoint(app: Any, *, path: str | Path | None = None) -> Report:
    """Verify what follows the last checkpoint (the last published one, when
    ``path`` holds any) and, if every link holds and there is anything new,
    store and publish a checkpoint at the end of the log. The report says
    what was checked; its problem, if any, is why no checkpoint was taken.
    A published file that cannot be read is a problem too (``ValueError``).
    """
    published = read_published(path) if path and Path(path).exists() else []
    report = verify_log(app, since_last_checkpoint=True, published=published)
    if not report.ok:
        logger.error("event log verification failed: %s", report.problem)
        return report
    if report.checked == 0:
        return report
    checkpoint = Checkpoint(
        position=report.last_position,
        event_count=report.event_count,
        log_hash=report.log_hash,
        created_at=clock.now().isoformat(),
    )
    integrity_recorder(app).insert_checkpoint(checkpoint)
    publish(checkpoint, path)
    return report


# ---------------------------------------------------------------------------
# Events written before sealing existed
# ---------------------------------------------------------------------------


def seal_legacy_events(app: Any) -> int:
    """Seal the events written before sealing existed: the unsealed events
    up to the store's legacy boundary (the last position when the seal
    tables were created). Resumable: an interrupted run is finished by the
    next. Unsealed events after the boundary are never sealed here: that is
    what an event inserted behind Baton's back (or by a process of an older
    release still running) looks like, and ``verify_events`` reports it.
    Returns how many events were sealed."""
    recorder = integrity_recorder(app)
    boundary = recorder.legacy_boundary()
    last: dict[UUID, tuple[int, bytes]] = {}
    pending: list[tuple[UUID, int, bytes]] = []
    sealed = 0
    for row in _rows(recorder, 0):
        if row.position > boundary:
            break
        if row.seal is not None:
            last[row.originator_id] = (row.version, row.seal)
            continue
        if row.version == 1:
            prev: bytes | None = GENESIS
        elif row.originator_id in last:
            last_version, prev = last[row.originator_id]
            if last_version != row.version - 1:
                prev = None
        else:
            prev = recorder.select_seal(row.originator_id, row.version - 1)
        if prev is None:
            raise ValueError(
                f"Cannot seal ticket {row.originator_id} version {row.version}: "
                f"version {row.version - 1} is missing from the log."
            )
        seal = seal_of(prev, row.originator_id, row.version, row.topic, row.state)
        last[row.originator_id] = (row.version, seal)
        pending.append((row.originator_id, row.version, seal))
        if len(pending) >= PAGE:
            recorder.insert_seals(pending)
            sealed += len(pending)
            pending = []
    if pending:
        recorder.insert_seals(pending)
        sealed += len(pending)
    return sealed
