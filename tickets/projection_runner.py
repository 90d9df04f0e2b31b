"""Tracked, exactly-once projections of the ticket event log into Django
models, shared by every app that keeps read models.

A :class:`Projection` turns events into rows through a
:class:`ProjectionSession` (a small unit of work). The same handler code
runs in two modes, so an incrementally built read model and a rebuilt one
cannot drift apart:

* :func:`catch_up` processes the events after each projection's tracked
  position, in batches. Each batch runs in one Django transaction that
  locks the projections' tracking rows, writes the rows and advances the
  positions: a replayed event is skipped, a crash rolls the whole batch
  back and the next run resumes at the last committed position.
* :func:`rebuild` empties the projections' tables and folds the whole log
  in memory, writing with bulk inserts (thousands of events a second).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from types import MethodType
from typing import Any, ClassVar, TypeVar

from django.conf import settings
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from tickets.bulk_insert import insert_rows
from tickets.models import ProjectionTracking

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=models.Model)
Handler = Callable[[Any, Any, int, "ProjectionSession"], None]


class ProjectionSession:
    """Identity map and write buffer for one batch (or one rebuild).

    Handlers ``get`` rows by primary key, mutate them and call ``changed``;
    they ``add`` new rows. Nothing is written until :meth:`flush`. While
    rebuilding, the tables start empty, so misses never query the database.
    """

    def __init__(self, *, rebuilding: bool = False) -> None:
        self.rebuilding = rebuilding
        self._rows: dict[tuple[type[models.Model], Any], models.Model] = {}
        self._new: dict[type[models.Model], dict[Any, models.Model]] = defaultdict(dict)
        self._dirty: dict[type[models.Model], dict[Any, models.Model]] = defaultdict(
            dict
        )
        self._append_only: dict[type[models.Model], list[models.Model]] = defaultdict(
            list
        )
        #: Keys a projection noted during the batch for its ``finish``
        #: step (e.g. the scorecards whose facts changed).
        self.marks: dict[str, set[Any]] = defaultdict(set)
        #: Keys :meth:`prefetch` found missing: ``get`` does not ask again.
        self._absent: set[tuple[type[models.Model], Any]] = set()

    def get(self, model: type[M], pk: Any) -> M | None:
        key = (model, pk)
        if key in self._rows:
            return self._rows[key]  # type: ignore[return-value]
        if self.rebuilding or key in self._absent:
            return None
        row = model._default_manager.filter(pk=pk).first()
        if row is not None:
            self._rows[key] = row
        return row

    def prefetch(self, model: type[models.Model], pks: Iterable[Any]) -> None:
        """Load the rows of ``model`` with these primary keys in a few
        queries (instead of one per ``get``), and note the missing ones."""
        if self.rebuilding:
            return
        wanted = list({pk for pk in pks if (model, pk) not in self._rows})
        for first in range(0, len(wanted), 500):
            chunk = wanted[first : first + 500]
            for row in model._default_manager.filter(pk__in=chunk):
                self._rows.setdefault((model, row.pk), row)
            self._absent.update(
                (model, pk) for pk in chunk if (model, pk) not in self._rows
            )

    def require(self, model: type[M], pk: Any) -> M:
        row = self.get(model, pk)
        if row is None:
            raise LookupError(f"{model.__name__} {pk} is missing from the read model")
        return row

    def add(self, row: models.Model) -> None:
        """Insert ``row`` at flush; it can be fetched with ``get`` until then."""
        self._rows[(type(row), row.pk)] = row
        self._new[type(row)][row.pk] = row

    def append(self, row: models.Model) -> None:
        """Insert a row that is never read or changed again (no identity)."""
        self._append_only[type(row)].append(row)

    def changed(self, row: models.Model) -> None:
        if row.pk in self._new[type(row)]:
            return
        self._dirty[type(row)][row.pk] = row

    def rows_of(self, model: type[models.Model]) -> list[models.Model]:
        """Every row of ``model`` the session holds (rebuild and audit)."""
        rows = [row for (kind, _), row in self._rows.items() if kind is model]
        return rows + list(self._append_only.get(model, []))

    def pending(self) -> int:
        return sum(len(v) for v in self._append_only.values()) + sum(
            len(v) for v in self._new.values()
        )

    def flush(self, *, appended_only: bool = False) -> None:
        """Write the buffered rows. ``appended_only``: only the rows added
        with :meth:`append` (a rebuild writes the others at its end)."""
        # New rows are inserted without Django's per-value SQL compiler
        # (``tickets.bulk_insert``); appended rows do not get their
        # automatic ids set (nothing reads them again).
        if appended_only:
            for model, appended in self._append_only.items():
                insert_rows(model, appended)
            self._append_only.clear()
            return
        for model, rows in self._new.items():
            insert_rows(model, list(rows.values()))
        for model, appended in self._append_only.items():
            insert_rows(model, appended)
        for model, dirty in self._dirty.items():
            # One plain UPDATE a row: Django's bulk_update builds a CASE
            # expression per column and row, which costs ten times the CPU
            # (37 columns: 49 ms for 5 rows vs 2 ms, 805 ms for 200 vs 65).
            columns = [
                f.attname for f in model._meta.concrete_fields if not f.primary_key
            ]
            manager = model._base_manager
            for pk, row in dirty.items():
                manager.filter(pk=pk).update(
                    **{name: getattr(row, name) for name in columns}
                )
        self._new.clear()
        self._dirty.clear()
        self._append_only.clear()


def handles(*event_classes: type) -> Callable[[Handler], Handler]:
    """Mark a projection method as the handler of the given event classes."""

    def decorate(func: Handler) -> Handler:
        func._handles = event_classes  # type: ignore[attr-defined]
        return func

    return decorate


class Projection:
    """Base class: subclasses set ``name`` and ``models`` and decorate
    handler methods with :func:`handles`. Events without a handler are
    skipped (their position still advances)."""

    name: ClassVar[str]
    models: ClassVar[tuple[type[models.Model], ...]] = ()
    #: False for outboxes whose rows carry side effects (sent emails):
    #: rebuilding them from zero would repeat those effects.
    rebuildable: ClassVar[bool] = True
    _handlers: ClassVar[dict[type, Handler]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        handlers: dict[type, Handler] = {}
        for base in reversed(cls.__mro__):
            for attr in vars(base).values():
                for event_class in getattr(attr, "_handles", ()):
                    handlers[event_class] = attr
        cls._handlers = handlers

    def process(self, event: Any, position: int, session: ProjectionSession) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(self, event, position, session)

    def finish(self, session: ProjectionSession) -> None:
        """Called once the batch's events are processed (and, except when
        rebuilding or auditing, flushed): projections that keep derived
        summaries recompute them here. Runs in the batch's transaction."""

    def reset(self) -> None:
        """Delete every row this projection owns (rebuild only)."""
        for model in reversed(self.models):
            model._default_manager.all().delete()


def all_projections() -> list[Projection]:
    """Every projection of every group, in settings order."""
    return [
        p for group in settings.BATON_PROJECTION_GROUPS for p in projection_group(group)
    ]


def projection_group(name: str | None = None) -> list[Projection]:
    group = name or settings.BATON_INLINE_PROJECTION_GROUP
    try:
        paths = settings.BATON_PROJECTION_GROUPS[group]
    except KeyError:
        raise ValueError(f"Unknown projection group {group!r}.") from None
    return [import_string(path)() for path in paths]


class ProjectionsBusy(Exception):
    """Another transaction holds the projections' tracking rows (it is
    projecting the same events right now)."""


def _is_lock_not_available(exc: DatabaseError) -> bool:
    # PostgreSQL's SQLSTATE 55P03, raised by FOR UPDATE NOWAIT.
    return getattr(exc.__cause__, "sqlstate", None) == "55P03"


def _lock_positions(
    projections: Sequence[Projection],
    app_name: str,
    *,
    nowait: bool = False,
    wait: float | None = None,
) -> dict[str, int]:
    """Lock the projections' tracking rows (creating missing ones) for the
    current transaction and return their positions. ``nowait``: raise
    :class:`ProjectionsBusy` at once instead of waiting for another holder;
    ``wait``: after that many seconds (PostgreSQL's ``lock_timeout``, for
    this transaction). SQLite serialises writers itself."""
    names = [p.name for p in projections]
    if wait is not None and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('lock_timeout', %s, true)",
                [f"{max(int(wait * 1000), 1)}ms"],
            )
    for attempt in range(2):
        rows = (
            ProjectionTracking.objects.select_for_update(nowait=nowait)
            .filter(application=app_name, projection__in=names)
            .order_by("projection")
            .values_list("projection", "position")
        )
        try:
            positions = dict(rows)
        except DatabaseError as exc:
            if (nowait or wait is not None) and _is_lock_not_available(exc):
                raise ProjectionsBusy(", ".join(names)) from exc
            raise
        if len(positions) == len(names) or attempt:
            return positions
        ProjectionTracking.objects.bulk_create(
            [
                ProjectionTracking(projection=n, application=app_name)
                for n in names
                if n not in positions
            ],
            ignore_conflicts=True,
        )
    raise AssertionError("unreachable")


def _save_positions(positions: dict[str, int], app_name: str) -> None:
    by_position: dict[int, list[str]] = defaultdict(list)
    for name, position in positions.items():
        by_position[position].append(name)
    for position, names in by_position.items():
        ProjectionTracking.objects.filter(
            application=app_name, projection__in=names
        ).update(position=position, updated_at=timezone.now())


def positions_of(projections: Iterable[Projection], app_name: str) -> dict[str, int]:
    return positions_of_names([p.name for p in projections], app_name)


def positions_of_names(names: Sequence[str], app_name: str) -> dict[str, int]:
    """The tracked positions of the projections called ``names`` (0 for
    one that has none yet), read without locking."""
    found = dict(
        ProjectionTracking.objects.filter(
            application=app_name, projection__in=names
        ).values_list("projection", "position")
    )
    return {n: found.get(n, 0) for n in names}


def _apply(
    app: Application[Any],
    projections: Sequence[Projection],
    notifications: Sequence[Notification],
    positions: dict[str, int],
) -> int:
    applied = 0
    session = ProjectionSession()
    for notification in notifications:
        event = None
        for projection in projections:
            if notification.id <= positions[projection.name]:
                continue  # already processed: exactly once
            if event is None:
                event = app.mapper.to_domain_event(notification)
            projection.process(event, notification.id, session)
            positions[projection.name] = notification.id
            applied += 1
    session.flush()
    for projection in projections:
        projection.finish(session)
    session.flush()
    _save_positions(positions, app.name)
    return applied


def process_notifications(
    app: Application[Any],
    projections: Sequence[Projection],
    notifications: Sequence[Notification],
) -> int:
    """Apply ``notifications`` (in log order) to each projection that has
    not processed them yet, in one transaction with the positions. Returns
    the number of (projection, event) pairs applied; a notification at or
    below a projection's position is skipped."""
    with transaction.atomic():
        positions = _lock_positions(projections, app.name)
        return _apply(app, projections, notifications, positions)


def _next_batch(
    app: Application[Any],
    projections: Sequence[Projection],
    positions: dict[str, int],
    *,
    up_to: int | None,
    batch_size: int,
) -> int:
    """In the current transaction, holding the tracking rows' lock: apply
    the next batch of events after the lowest position (up to ``up_to``).
    Returns the number of events read (0: nothing left)."""
    start = min(positions.values())
    if up_to is not None and start >= up_to:
        return 0
    notifications = app.recorder.select_notifications(
        start=start, limit=batch_size, stop=up_to, inclusive_of_start=False
    )
    if notifications:
        _apply(app, projections, notifications, positions)
    return len(notifications)


def catch_up(
    app: Application[Any],
    projections: Sequence[Projection],
    *,
    up_to: int | None = None,
    batch_size: int = 500,
    nowait: bool = False,
) -> int:
    """Process every event after the projections' positions (or only up to
    ``up_to``), one transaction per batch, waiting for any other holder of
    their lock (``nowait``: raise ``ProjectionsBusy`` instead). Returns
    events processed."""
    total = 0
    while True:
        with transaction.atomic():
            positions = _lock_positions(projections, app.name, nowait=nowait)
            read = _next_batch(
                app, projections, positions, up_to=up_to, batch_size=batch_size
            )
        total += read
        if read < batch_size or (
            up_to is not None and min(positions.values()) >= up_to
        ):
            return total


def project_to(
    app: Application[Any],
    projections: Sequence[Projection],
    position: int,
    *,
    timeout: float,
    batch_size: int = 500,
) -> bool:
    """Make sure the projections have processed the log up to ``position``
    (a command's own write), waiting at most ``timeout`` seconds:

    * take their lock and project every event that is there (other
      writers' too, so that they need not), batch by batch;
    * if someone holds it (the projector, another request), wait for it
      (within the timeout): the holder is projecting the waiting events,
      so once it commits the write is usually in, and the lock is taken
      only to see so; what the holder left is projected here.

    Returns whether they got there in time; the events are stored either
    way, and the projector will project them."""
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        try:
            read = 0
            with transaction.atomic():
                positions = _lock_positions(projections, app.name, wait=remaining)
                if min(positions.values()) < position:
                    read = _next_batch(
                        app, projections, positions, up_to=None, batch_size=batch_size
                    )
        except ProjectionsBusy:
            return False  # held for the whole budget
        if min(positions.values()) >= position:
            return True
        if not read:  # not readable here yet: do not spin on the lock
            time.sleep(delay)
            delay = min(delay * 2, 0.008)


def iter_notifications(
    app: Application[Any], *, start: int = 0, page_size: int = 5000
) -> Iterator[Notification]:
    """Every notification after ``start``, in log order, page by page (the
    event store's own cheaper reader when it has one)."""
    log_page = getattr(app.recorder, "log_page", None)
    while True:
        if log_page is not None:
            page = log_page(start, page_size)
        else:
            page = app.recorder.select_notifications(
                start=start, limit=page_size, inclusive_of_start=False
            )
        if not page:
            return
        yield from page
        start = page[-1].id


def rebuild(
    app: Application[Any],
    projections: Sequence[Projection],
    *,
    flush_every: int = 20_000,
) -> int:
    """Rebuild the projections from position 0 with an in-memory fold and
    bulk writes, in one transaction (readers see the old rows until it
    commits). Returns the number of events folded."""
    refused = [p.name for p in projections if not p.rebuildable]
    if refused:
        raise ValueError(f"Not rebuildable (their rows are side effects): {refused}")
    count = 0
    with _collector_paused(), transaction.atomic():
        positions = _lock_positions(projections, app.name)
        for projection in projections:
            projection.reset()
        session = ProjectionSession(rebuilding=True)
        handlers = _Dispatch(projections)
        to_domain_event = app.mapper.to_domain_event
        last = 0
        for notification in iter_notifications(app):
            event = to_domain_event(notification)
            position = notification.id
            for handler in handlers.of(type(event)):
                handler(event, position, session)
            last = position
            count += 1
            if not count % 1024 and session.pending() >= flush_every:
                # Only rows nothing changes again: rows that can change
                # stay in the session (its identity map holds them anyway)
                # and are inserted once, as they end, never updated.
                session.flush(appended_only=True)
        for projection in projections:
            projection.finish(session)
        session.flush()
        _save_positions(dict.fromkeys(positions, last), app.name)
    return count


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """A rebuild allocates hundreds of thousands of objects (events, rows)
    that live to its end and form no reference cycles: the cyclic garbage
    collector would scan them again and again (a fifth of a rebuild's
    time), so it waits until the rebuild ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Dispatch:
    """Each event class's handlers over a list of projections, found once
    (a projection that overrides ``process`` gets every event)."""

    def __init__(self, projections: Sequence[Projection]) -> None:
        self._projections = projections
        self._handlers: dict[type, list[Callable[[Any, int, ProjectionSession], None]]]
        self._handlers = {}

    def of(
        self, event_class: type
    ) -> list[Callable[[Any, int, ProjectionSession], None]]:
        found = self._handlers.get(event_class)
        if found is None:
            found = []
            for projection in self._projections:
                if type(projection).process is not Projection.process:
                    found.append(projection.process)
                    continue
                handler = projection._handlers.get(event_class)
                if handler is not None:
                    found.append(MethodType(handler, projection))
            self._handlers[event_class] = found
        return found


def skip_to(
    app: Application[Any], projections: Sequence[Projection], position: int
) -> None:
    """Move the projections' positions to ``position`` without processing
    the events before it: for outboxes when importing history whose side
    effects (alerts, webhooks) must not fire now."""
    with transaction.atomic():
        positions = _lock_positions(projections, app.name)
        _save_positions(
            {name: max(p, position) for name, p in positions.items()}, app.name
        )


@dataclass(frozen=True)
class Difference:
    model: str
    key: Any
    problem: str


def _audit_key(model: type[models.Model]) -> str:
    # Append-only rows have surrogate ids; their natural key is the event.
    return (
        "position"
        if "position" in {f.name for f in model._meta.fields}
        and (model._meta.pk is not None and model._meta.pk.name == "id")
        else "pk"
    )


def _values(row: models.Model, fields: list[str]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in fields}


def _describe(field: str, have: Any, want: Any) -> str:
    if isinstance(have, dict) and isinstance(want, dict):
        keys = sorted(
            k for k in have.keys() | want.keys() if have.get(k) != want.get(k)
        )
        return ", ".join(
            f"{field}.{k}: stored {have.get(k)!r}, events say {want.get(k)!r}"
            for k in keys
        )
    return f"{field}: stored {have!r}, events say {want!r}"


def audit(
    app: Application[Any], projections: Sequence[Projection], *, limit: int = 100
) -> list[Difference]:
    """Fold the log in memory with the projections' own handlers, each up
    to the position it has processed (a projector that is merely behind is
    not a difference), and compare with the stored rows; nothing is
    written. Returns at most ``limit`` differences (missing, unexpected or
    changed rows). If the projector moves on meanwhile and rows differ,
    the audit is repeated at the new positions."""
    differences: list[Difference] = []
    for _attempt in range(3):
        positions = positions_of(projections, app.name)
        differences = _audit_at(app, projections, positions, limit)
        if not differences or positions_of(projections, app.name) == positions:
            break
    return differences


def _audit_at(
    app: Application[Any],
    projections: Sequence[Projection],
    positions: dict[str, int],
    limit: int,
) -> list[Difference]:
    session = ProjectionSession(rebuilding=True)
    last = max(positions.values(), default=0)
    for notification in iter_notifications(app):
        if notification.id > last:
            break
        event = app.mapper.to_domain_event(notification)
        for projection in projections:
            if notification.id <= positions[projection.name]:
                projection.process(event, notification.id, session)
    for projection in projections:
        projection.finish(session)
    differences: list[Difference] = []
    for projection in projections:
        for model in projection.models:
            key = _audit_key(model)
            fields = [
                f.attname
                for f in model._meta.concrete_fields
                if not (key == "position" and f.primary_key)
            ]
            expected = {
                getattr(row, "pk" if key == "pk" else key): row
                for row in session.rows_of(model)
            }
            stored = {
                (row.pk if key == "pk" else getattr(row, key)): row
                for row in model._default_manager.all()
            }
            name = model.__name__
            for missing in sorted(set(expected) - set(stored), key=str):
                differences.append(
                    Difference(name, missing, "missing from the read model")
                )
            for extra in sorted(set(stored) - set(expected), key=str):
                differences.append(
                    Difference(name, extra, "not derived from any event")
                )
            for common in sorted(set(expected) & set(stored), key=str):
                want, have = (
                    _values(expected[common], fields),
                    _values(stored[common], fields),
                )
                changed = sorted(f for f in fields if want[f] != have[f])
                if changed:
                    detail = ", ".join(_describe(f, have[f], want[f]) for f in changed)
                    differences.append(Difference(name, common, detail))
            if len(differences) >= limit:
                return differences[:limit]
    return differences


#: How soon the projector looks again at a group someone else was projecting.
BUSY_RETRY = 0.05


@dataclass
class Followed:
    """A projection group as the projector follows it: caught up at most
    once per ``interval`` seconds (0: as soon as the log moves), so that a
    busy log reaches a group that nobody waits for in batches (a scorecard
    batch recomputes each touched card once, whatever its events)."""

    projections: Sequence[Projection]
    interval: float = 0.0
    last: float = field(default=float("-inf"))


def follow(
    app: Application[Any],
    groups: Sequence[Sequence[Projection] | Followed],
    *,
    poll_interval: float = 0.5,
    should_stop: Callable[[], bool] = lambda: False,
    on_batch: Callable[[int], None] | None = None,
    batch_size: int = 200,
) -> None:
    """Keep the projection groups caught up until ``should_stop()``: the
    body of the ``run_projections`` process. Each group is caught up in
    its own transactions, so a slow group (scorecards) never holds the
    lock another (the core read models, which requests wait for) needs,
    and a group already at the head of the log costs one read, no lock.
    On PostgreSQL it wakes on the event store's NOTIFY; elsewhere it polls
    every ``poll_interval`` seconds."""
    followed = [g if isinstance(g, Followed) else Followed(g) for g in groups]
    names = [p.name for g in followed for p in g.projections]
    waiter = _NotificationWaiter(app)
    try:
        while not should_stop():
            head = app.recorder.max_notification_id() or 0
            positions = positions_of_names(names, app.name)
            processed, wait = 0, poll_interval
            for group in followed:
                if min(positions[p.name] for p in group.projections) >= head:
                    continue
                due_in = group.last + group.interval - time.monotonic()
                if due_in > 0:
                    wait = min(wait, due_in)
                    continue
                group.last = time.monotonic()
                try:
                    processed += catch_up(
                        app, group.projections, batch_size=batch_size, nowait=True
                    )
                except ProjectionsBusy:
                    # A request is projecting it (for everyone): look again
                    # soon in case it stops short of the head.
                    wait = min(wait, max(group.interval, BUSY_RETRY))
            if processed and on_batch is not None:
                on_batch(processed)
            if not processed:
                waiter.wait(wait)
    finally:
        waiter.close()


class _NotificationWaiter:
    """Blocks until the event store signals new events, or a timeout."""

    def __init__(self, app: Application[Any]) -> None:
        self._conn: Any = None
        self._context: Any = None
        channel = getattr(app.recorder, "channel_name", None)
        datastore = getattr(app.recorder, "datastore", None)
        if channel and hasattr(datastore, "get_connection"):
            from psycopg import sql

            # Same approach as eventsourcing's own PostgresSubscription.
            self._context = datastore.get_connection()  # type: ignore[union-attr]
            self._conn = self._context.__enter__()
            self._conn.execute(sql.SQL("LISTEN {0}").format(sql.Identifier(channel)))

    def wait(self, timeout: float) -> None:
        if self._conn is None:
            time.sleep(timeout)
            return
        for _ in self._conn.notifies(timeout=timeout, stop_after=1):
            pass

    def close(self) -> None:
        if self._context is not None:
            self._context.__exit__(None, None, None)
