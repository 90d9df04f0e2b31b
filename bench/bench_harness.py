"""Shared plumbing of the benchmarks: the registry, timing helpers, the
run context, the ticket lifecycle every write benchmark follows, and the
throw-away databases they run against."""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
#: The throw-away PostgreSQL database (``BENCH_DATABASE`` to run two at once).
BENCH_DATABASE = os.environ.get("BENCH_DATABASE", "baton_bench")
REPEATS = 3

Figures = dict[str, Any]
BenchmarkFunction = Callable[["Context"], Figures]
REGISTRY: dict[str, BenchmarkFunction] = {}


def benchmark(name: str) -> Callable[[BenchmarkFunction], BenchmarkFunction]:
    """Register ``func`` as the benchmark called ``name`` (run in the order
    registered)."""

    def register(func: BenchmarkFunction) -> BenchmarkFunction:
        if name in REGISTRY:
            raise ValueError(f"Benchmark {name!r} is registered twice.")
        REGISTRY[name] = func
        return func

    return register


# ---------------------------------------------------------------------------
# Helpers shared by benchmarks
# ---------------------------------------------------------------------------


def timed(func: Callable[[], int]) -> tuple[int, float]:
    """Run ``func`` (which returns how many items it processed); return the
    count and the elapsed seconds."""
    started = time.perf_counter()
    count = func()
    return count, time.perf_counter() - started


def median_rate(samples: list[tuple[int, float]]) -> float:
    """Median of count/seconds over the samples."""
    return statistics.median(count / seconds for count, seconds in samples)


def rate_figures(samples: list[tuple[int, float]]) -> dict[str, Any]:
    return {
        "per_second": round(median_rate(samples), 1),
        "runs": [
            {"count": count, "seconds": round(seconds, 4)} for count, seconds in samples
        ],
    }


class Context:
    """What a benchmark gets: fresh event stores, and the shared test data
    (a principal and department references)."""

    def __init__(self, tmp_dir: Path) -> None:
        from django.db import connections

        from tickets.domain import DepartmentRef, Principal

        self.tmp_dir = tmp_dir
        self.vendor = connections["default"].vendor
        self.principal = Principal(
            kind="user",
            id="1",
            name="Bench",
            short_name="Bench",
            departments=("CS", "FIN", "LOG"),
        )
        self.cs = DepartmentRef("CS", "Customer Service", active=True, front_line=True)
        self.fin = DepartmentRef("FIN", "Finance")
        self._apps: list[Any] = []

    def fresh_app(self) -> Any:
        """A TicketsApplication on an empty event store: a new SQLite file,
        or the PostgreSQL events table truncated."""
        from django.db import connections

        from tickets.application import (
            TicketsApplication,
            default_env,
            event_store_env,
        )

        if self.vendor == "postgresql":
            app = TicketsApplication(env=default_env())
            table = app.recorder.events_table_name
            with app.recorder.datastore.transaction(commit=True) as curs:
                curs.execute(f"TRUNCATE TABLE {table} RESTART IDENTITY")
        else:
            path = self.tmp_dir / f"events-{len(self._apps)}.sqlite3"
            env = event_store_env(
                connections["default"].settings_dict, str(path), create_table=True
            )
            app = TicketsApplication(env=env)
        self._apps.append(app)
        return app

    def close(self) -> None:
        from tickets.application import set_tickets_application

        # Benchmarks that install their app as the process-wide one: drop
        # it, so nothing is left to close at interpreter exit.
        set_tickets_application(None)
        for app in self._apps:
            app.close()
        self._apps.clear()


TICKET_FIELDS = {
    "subject": "Refund not received",
    "description": "I returned the parcel two weeks ago.",
    "customer_ref": "CUST-1",
    "customer_name": "Dana Customer",
    "customer_timezone": "Europe/Paris",
    "channel": "web",
    "scenario": "REFUND",
    "priority": "normal",
}
# The lifecycle both the command benchmark and the log generator follow:
# open, respond, hand off, respond, note. One event per step.
EVENTS_PER_TICKET = 5


def ticket_lifecycle_via_application(ctx: Context, app: Any) -> int:
    """Run one ticket's lifecycle through the application's command
    methods (one command = one save); return the events stored."""
    from tickets import clock
    from tickets.commands import ADD_NOTE, HAND_OFF, RESPOND

    p = ctx.principal
    result = app.open_ticket(
        principal=p, front_line=ctx.cs, at=clock.now(), **TICKET_FIELDS
    )
    ticket_id: UUID = result.ticket_id
    events = len(result.event_types)
    for command, kwargs in (
        (RESPOND, {"body": "We are looking into it."}),
        (HAND_OFF, {"to": ctx.fin, "reason": "Refund approval"}),
        (RESPOND, {"body": "Refund approved."}),
        (ADD_NOTE, {"body": "Paid by bank transfer."}),
    ):
        result = app.run_command(
            ticket_id, command, principal=p, at=clock.now(), **kwargs
        )
        events += len(result.event_types)
    return events


def ticket_with_lifecycle(ctx: Context) -> Any:
    """A Ticket aggregate with the same lifecycle, events still pending."""
    from tickets import clock
    from tickets.domain import Ticket

    p = ctx.principal
    ticket = Ticket.open(
        front_line=ctx.cs,
        actor=p.actor_for(ctx.cs.code),
        at=clock.now(),
        **TICKET_FIELDS,
    )

    def actor() -> Any:
        return p.actor_for(ticket.owner, ticket.front_line)

    ticket.respond(body="We are looking into it.", actor=actor(), at=clock.now())
    ticket.hand_off(to=ctx.fin, reason="Refund approval", actor=actor(), at=clock.now())
    ticket.respond(body="Refund approved.", actor=actor(), at=clock.now())
    ticket.add_note(body="Paid by bank transfer.", actor=actor(), at=clock.now())
    return ticket


RAW_PAGE_SIZE = 500


def page_through_log(app: Any) -> int:
    """Page through the whole log as the raw baseline of a rebuild; returns
    the rows read."""
    rows, start = 0, 0
    while True:
        page = app.recorder.select_notifications(
            start=start, limit=RAW_PAGE_SIZE, inclusive_of_start=False
        )
        if not page:
            return rows
        rows += len(page)
        start = page[-1].id


# ---------------------------------------------------------------------------
# Environment: throw-away databases, Django set-up
# ---------------------------------------------------------------------------


def _postgres_admin(url: str) -> Any:
    import dj_database_url
    import psycopg

    db = dj_database_url.parse(url)
    return psycopg.connect(
        dbname=db["NAME"],
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
        user=db.get("USER") or "postgres",
        password=db.get("PASSWORD") or "",
        autocommit=True,
    )


def _drop_database(conn: Any) -> None:
    from psycopg import sql

    conn.execute(
        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(BENCH_DATABASE)
        )
    )


@contextmanager
def bench_environment() -> Iterator[Path]:
    """Point Baton at throw-away storage and set Django up; clean up after.

    SQLite (``DATABASE_URL`` unset or ``sqlite://``): both databases are
    files in a temporary directory. PostgreSQL: a ``baton_bench`` database
    on the same server, dropped at the end.
    """
    url = os.environ.get("DATABASE_URL", "")
    original_url = url if url.startswith(("postgres://", "postgresql://")) else ""
    if original_url and urlsplit(original_url).path.strip("/") == BENCH_DATABASE:
        raise SystemExit(
            f"DATABASE_URL must name a database other than {BENCH_DATABASE}."
        )
    tmp_dir = Path(tempfile.mkdtemp(prefix="baton-bench-"))
    try:
        if original_url:
            with _postgres_admin(original_url) as conn:
                _drop_database(conn)
                conn.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
            os.environ["DATABASE_URL"] = urlunsplit(
                urlsplit(original_url)._replace(path=f"/{BENCH_DATABASE}")
            )
        else:
            os.environ["DATABASE_URL"] = f"sqlite:///{tmp_dir / 'db.sqlite3'}"
        os.environ["BATON_VAR_DIR"] = str(tmp_dir)
        os.environ["EVENTS_SQLITE_PATH"] = str(tmp_dir / "events.sqlite3")
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
        os.environ["DEBUG"] = "0"  # DEBUG would record every SQL query
        os.environ.setdefault("SECRET_KEY", "bench-only")
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))

        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        yield tmp_dir
    finally:
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        if original_url:
            with _postgres_admin(original_url) as conn:
                _drop_database(conn)
        shutil.rmtree(tmp_dir, ignore_errors=True)


def environment(ctx: Context, timestamp: datetime) -> dict[str, Any]:
    from django.db import connections

    connection = connections["default"]
    with connection.cursor():
        database_version = ".".join(
            str(part) for part in connection.get_database_version()
        )
    return {
        "timestamp": timestamp.isoformat(),
        "python": platform.python_version(),
        "django": metadata.version("Django"),
        "eventsourcing": metadata.version("eventsourcing"),
        "database_vendor": ctx.vendor,
        "database_version": database_version,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "git_commit": git_commit(),
    }


def git_commit() -> str | None:
    """The checkout's short commit, ``-dirty`` if tracked files changed."""
    try:
        commit = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{commit}-dirty" if dirty else commit or None


def _git(*args: str) -> str:
    out = subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def write_results(
    document: dict[str, Any], timestamp: datetime, prefix: str = ""
) -> Path:
    """``bench/results/<prefix><UTC timestamp>.json`` and a copy at
    ``<prefix>latest.json``; returns the first."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, indent=2) + "\n"
    path = RESULTS_DIR / f"{prefix}{timestamp.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(text)
    (RESULTS_DIR / f"{prefix}latest.json").write_text(text)
    return path
