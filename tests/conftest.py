"""Test fixtures shared by the whole suite.

Events live outside Django's test transaction, so every test that touches
the database gets a fresh event store: a new SQLite file when the suite
runs on SQLite, or the PostgreSQL event table truncated (identity reset)
when ``DATABASE_URL`` points at PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connections

from tests import helpers
from tickets.application import (
    TicketsApplication,
    configured_sla_port,
    event_store_env,
    set_tickets_application,
)

_postgres_app: TicketsApplication | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Build the message catalogues (.mo, git-ignored) when stale, so that
    a fresh clone's `pytest` shows Chinese as `make install` would."""
    from config.compile_messages import compile_all

    compile_all()


@pytest.fixture(scope="session")
def postgres_event_store_lifetime(django_db_setup: None) -> Iterator[None]:
    """Close the shared PostgreSQL application's pool before Django drops
    the test database (which refuses while sessions are connected)."""
    global _postgres_app
    yield
    if _postgres_app is not None:
        _postgres_app.close()
        _postgres_app = None


def on_postgres() -> bool:
    return connections["default"].vendor == "postgresql"


def fresh_event_store(tmp_path: Path) -> TicketsApplication:
    global _postgres_app
    settings_dict = connections["default"].settings_dict
    if on_postgres():
        if _postgres_app is None:
            _postgres_app = TicketsApplication(
                env=event_store_env(settings_dict, "", create_table=True),
                sla=configured_sla_port(),
            )
        truncate_postgres_events(_postgres_app)
        return _postgres_app
    return TicketsApplication(
        env=event_store_env(
            settings_dict, str(tmp_path / "events.sqlite3"), create_table=True
        ),
        sla=configured_sla_port(),
    )


def truncate_postgres_events(app: TicketsApplication) -> None:
    """Empty the events table and the store's own tables beside it (seals,
    command receipts, checkpoints)."""
    table = app.recorder.events_table_name  # type: ignore[attr-defined]
    tables = ", ".join(
        [table, f"{table}_seals", f"{table}_receipts", f"{table}_checkpoints"]
    )
    with app.recorder.datastore.transaction(commit=True) as curs:  # type: ignore[attr-defined]
        curs.execute(f"TRUNCATE TABLE {tables} RESTART IDENTITY")


def _uses_database(request: pytest.FixtureRequest) -> bool:
    names = set(request.fixturenames)
    return bool(
        names & {"db", "transactional_db", "django_db_reset_sequences"}
        or request.node.get_closest_marker("django_db")
    )


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Throttle, lockout and failure counters live in the cache: every test
    starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _attachment_storage(tmp_path: Path, settings: Any) -> Path:
    """Each test's attachments go to its own directory (never var/)."""
    location = tmp_path / "attachments"
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }
    return location


@pytest.fixture(autouse=True)
def _fresh_calendar_cache() -> Iterator[None]:
    """Calendar versions are immutable in production, but every test
    creates its own "v1": forget calendars built by other tests."""
    from sla.terms import PolicySLAPort

    PolicySLAPort.clear_cache()
    yield
    PolicySLAPort.clear_cache()


@pytest.fixture(autouse=True)
def tickets_app(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[TicketsApplication | None]:
    """The process-wide TicketsApplication, on a fresh event store."""
    if not _uses_database(request):
        yield None
        return
    request.getfixturevalue("postgres_event_store_lifetime")
    app = fresh_event_store(tmp_path)
    set_tickets_application(app)
    try:
        yield app
    finally:
        if on_postgres():
            _detach()
        else:
            set_tickets_application(None)


def _detach() -> None:
    # Keep the shared PostgreSQL application (and its pool) open.
    from tickets import application

    application._instance = None


@pytest.fixture
def org(db: None) -> helpers.Org:
    """The demo organisation: front line and four back-office departments,
    each with an agent and a lead."""
    return helpers.make_org()
