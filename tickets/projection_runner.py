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

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from django.conf import settings
from django.db import models, transaction
from django.utils.module_loading import import_string
from eventsourcing.application import Application
from eventsourcing.persistence import Notification

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

    def get(self, model: type[M], pk: Any) -> M | None:
        key = (model, pk)
        if key in self._rows:
            return self._rows[key]  # type: ignore[return-value]
        if self.rebuilding:
            return None
        row = model._default_manager.filter(pk=pk).first()
        if row is not None:
            self._rows[key] = row
        return row

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

    def flush(self) -> None:
        for model, rows in self._new.items():
            model._default_manager.bulk_create(list(rows.values()), batch_size=500)
        for model, appended in self._append_only.items():
            model._default_manager.bulk_create(appended, batch_size=500)
        for model, dirty in self._dirty.items():
            if dirty:
                fields = [
                    f.name for f in model._meta.concrete_fields if not f.primary_key
                ]
                model._default_manager.bulk_update(
                    list(dirty.values()), fields, batch_size=500
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


def _lock_positions(projections: Sequence[Projection], app_name: str) -> dict[str, int]:
    names = [p.name for p in projections]
    ProjectionTracking.objects.bulk_create(
        [ProjectionTracking(projection=n, application=app_name) for n in names],
        ignore_conflicts=True,
    )
    rows = (
        ProjectionTracking.objects.select_for_update()
        .filter(application=app_name, projection__in=names)
        .order_by("projection")
    )
    return {row.projection: row.position for row in rows}


def _save_positions(positions: dict[str, int], app_name: str) -> None:
    for name, position in positions.items():
        ProjectionTracking.objects.filter(application=app_name, projection=name).update(
            position=position
        )


def positions_of(projections: Iterable[Projection], app_name: str) -> dict[str, int]:
    names = [p.name for p in projections]
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


def catch_up(
    app: Application[Any],
    projections: Sequence[Projection],
    *,
    up_to: int | None = None,
    batch_size: int = 500,
) -> int:
    """Process every event after the projections' positions (or only up to
    ``up_to``), one transaction per batch. Returns events processed."""
    total = 0
    while True:
        with transaction.atomic():
            positions = _lock_positions(projections, app.name)
            start = min(positions.values())
            if up_to is not None and start >= up_to:
                return total
            notifications = app.recorder.select_notifications(
                start=start,
                limit=batch_size,
                stop=up_to,
                inclusive_of_start=False,
            )
            if not notifications:
                return total
            _apply(app, projections, notifications, positions)
        total += len(notifications)


def iter_notifications(
    app: Application[Any], *, start: int = 0, page_size: int = 5000
) -> Iterator[Notification]:
    while True:
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
    with transaction.atomic():
        positions = _lock_positions(projections, app.name)
        for projection in projections:
            projection.reset()
        session = ProjectionSession(rebuilding=True)
        last = 0
        for notification in iter_notifications(app):
            event = app.mapper.to_domain_event(notification)
            for projection in projections:
                projection.process(event, notification.id, session)
            last = notification.id
            count += 1
            if session.pending() >= flush_every:
                session.flush()
        for projection in projections:
            projection.finish(session)
        session.flush()
        _save_positions(dict.fromkeys(positions, last), app.name)
    return count


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


def follow(
    app: Application[Any],
    projections: Sequence[Projection],
    *,
    poll_interval: float = 0.5,
    should_stop: Callable[[], bool] = lambda: False,
    on_batch: Callable[[int], None] | None = None,
) -> None:
    """Keep the projections caught up until ``should_stop()``: the body of
    the ``run_projections`` process. On PostgreSQL it wakes on the event
    store's NOTIFY; elsewhere it polls every ``poll_interval`` seconds."""
    waiter = _NotificationWaiter(app)
    try:
        while not should_stop():
            processed = catch_up(app, projections)
            if processed and on_batch is not None:
                on_batch(processed)
            if not processed:
                waiter.wait(poll_interval)
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
