"""``tickets.bulk_insert`` stores what Django's ``bulk_create`` stores and
makes rows as ``Model(**values)`` does; a rebuild that writes its append-
only rows in several flushes gives the same read models."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from django.db import connection, models, transaction

from sla.terms import SnapshotSLAPort
from tests.sla.conftest import sla_org, z  # noqa: F401 -- the sla_org fixture
from tickets.application import get_tickets_application
from tickets.bulk_insert import insert_rows, new_row
from tickets.models import Handoff, SLAClock, TicketSummary, TimelineEntry
from tickets.projection_runner import (
    ProjectionSession,
    audit,
    iter_notifications,
    projection_group,
    rebuild,
)
from tickets.services import department_ref
from tickets.simulation import HistoryGenerator, synthetic_staff


@pytest.fixture
def history(sla_org: Any) -> int:  # noqa: F811 -- the fixture
    """A randomized history with clocks, pauses, breaches, handoffs,
    reopens, ratings and disputes."""
    end = z("2026-03-30 00:00")
    generator = HistoryGenerator(
        staff=synthetic_staff([department_ref(c) for c in sla_org.departments]),
        start=end - timedelta(weeks=4),
        end=end,
        seed=3,
        sla=SnapshotSLAPort(),
    )
    return generator.save(get_tickets_application(), 150)


def _folded() -> ProjectionSession:
    """Every rebuildable projection's rows for the log, in memory."""
    app = get_tickets_application()
    projections = projection_group("core") + projection_group("scorecards")
    session = ProjectionSession(rebuilding=True)
    for notification in iter_notifications(app):
        event = app.mapper.to_domain_event(notification)
        for projection in projections:
            projection.process(event, notification.id, session)
    for projection in projections:
        projection.finish(session)
    return session


def _stored(model: type[models.Model]) -> list[tuple[Any, ...]]:
    """The rows as the database holds them (no field converts them back:
    SQLite keeps datetimes as text, and queries compare that text)."""
    pk = model._meta.pk
    auto = pk is not None and getattr(pk, "db_returning", False)
    columns = [
        f.column for f in model._meta.concrete_fields if not (auto and f.primary_key)
    ]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(quote(c) for c in columns)} "
            f"FROM {quote(model._meta.db_table)}"
        )
        return sorted((tuple(row) for row in cursor.fetchall()), key=repr)


def test_inserted_rows_are_the_rows_bulk_create_stores(history: int) -> None:
    assert history > 1_000
    session = _folded()
    app_models = {
        type(row)
        for kind in (TicketSummary, Handoff, TimelineEntry, SLAClock)
        for row in session.rows_of(kind)
    }
    scorecard_models = {
        model for p in projection_group("scorecards") for model in p.models
    }
    checked = 0
    for model in sorted(app_models | scorecard_models, key=lambda m: m.__name__):
        rows = session.rows_of(model)
        assert rows, model
        with transaction.atomic():
            model._default_manager.all().delete()
            insert_rows(model, rows)
            assert not any(row._state.adding for row in rows)  # as bulk_create
            ours = _stored(model)
            model._default_manager.all().delete()
            for row in rows:
                if getattr(model._meta.pk, "db_returning", False):
                    row.pk = None
            model._default_manager.bulk_create(rows, batch_size=500)
            djangos = _stored(model)
            model._default_manager.all().delete()
        assert ours == djangos, model.__name__
        checked += len(rows)
    assert checked > 2_000


def test_a_row_made_fast_is_the_row_the_model_makes() -> None:
    values: dict[str, Any] = {
        "ticket_id": uuid4(),
        "position": 7,
        "version": 2,
        "occurred_at": z("2026-03-02 09:00"),
        "event_type": "Ticket.Responded",
        "audience": TimelineEntry.Audience.CUSTOMER,
        "actor_kind": "user",
        "actor_id": "1",
        "text": "Reply from the team.",
    }
    fast, django = new_row(TimelineEntry, **values), TimelineEntry(**values)

    def state(row: models.Model) -> dict[str, Any]:
        return {k: v for k, v in vars(row).items() if k != "_state"}

    assert state(fast) == state(django)
    assert fast._state.adding and fast._state.db is None
    # Names that are not attributes (a relation by object) take Django's way.
    summary = TicketSummary(ticket_id=uuid4())
    by_object = new_row(Handoff, ticket=summary, kind="opened")
    assert by_object.ticket_id == summary.pk


def test_a_rebuild_flushing_its_appended_rows_often_builds_the_same_rows(
    history: int,
) -> None:
    app = get_tickets_application()
    core = projection_group("core")
    rebuild(app, core)
    whole = {m: _stored(m) for m in (TicketSummary, Handoff, TimelineEntry, SLAClock)}
    rebuild(app, core, flush_every=1)
    assert {m: _stored(m) for m in whole} == whole
    assert audit(app, core) == []


def test_the_stores_page_reader_reads_what_select_notifications_reads(
    history: int,
) -> None:
    recorder: Any = get_tickets_application().recorder
    for after, limit in ((0, 10_000), (17, 5), (history - 3, 10), (history, 10)):
        assert recorder.log_page(after, limit) == recorder.select_notifications(
            start=after, limit=limit, inclusive_of_start=False
        )
    page = recorder.log_page(0, 3)
    assert [type(n.originator_id) for n in page] == [UUID] * 3
    assert all(type(n.state) is bytes for n in page)
