"""Baton benchmarks: figures as ratios against a baseline measured in the
same run, so that they compare across machines and databases.

Run from the project root (``make bench``)::

    .venv/bin/python bench/run.py [--only NAME]...

Everything runs against throw-away storage: SQLite files in a temporary
directory, or a ``baton_bench`` database created (and dropped afterwards)
on the PostgreSQL server named by ``DATABASE_URL``. Results are printed and
written to ``bench/results/<UTC timestamp>.json`` and
``bench/results/latest.json``. Benchmarks report figures; they never assert
timings.

To add a figure, write a function taking a :class:`Context` and returning a
dict of figures (by convention including ``ratio``), and decorate it with
``@benchmark("name")``.
"""

from __future__ import annotations

import argparse
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
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID, uuid4

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
BENCH_DATABASE = "baton_bench"
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

    p = ctx.principal
    result = app.open_ticket(
        principal=p, front_line=ctx.cs, at=clock.now(), **TICKET_FIELDS
    )
    ticket_id: UUID = result.ticket_id
    events = len(result.event_types)
    for command, kwargs in (
        (app.respond_to_ticket, {"body": "We are looking into it."}),
        (app.hand_off_ticket, {"to": ctx.fin, "reason": "Refund approval"}),
        (app.respond_to_ticket, {"body": "Refund approved."}),
        (app.add_note_to_ticket, {"body": "Paid by bank transfer."}),
    ):
        result = command(ticket_id, principal=p, at=clock.now(), **kwargs)
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


# ---------------------------------------------------------------------------
# Benchmarks
# ---------------------------------------------------------------------------

APPEND_TICKETS = 300  # x EVENTS_PER_TICKET events per measured run
APPEND_WARMUP_TICKETS = 20


@benchmark("event_append")
def event_append(ctx: Context) -> Figures:
    """Events appended per second through TicketsApplication commands
    (load, decide, save) versus raw ``recorder.insert_events`` calls of
    one event each."""
    from eventsourcing.persistence import StoredEvent

    app = ctx.fresh_app()

    def via_application(tickets: int) -> int:
        return sum(ticket_lifecycle_via_application(ctx, app) for _ in range(tickets))

    def via_recorder(events: int) -> tuple[int, float]:
        batch = [
            StoredEvent(
                originator_id=uuid4(), originator_version=1, topic="bench", state=b"{}"
            )
            for _ in range(events)
        ]

        def insert() -> int:
            for stored in batch:
                app.recorder.insert_events([stored])
            return len(batch)

        return timed(insert)

    via_application(APPEND_WARMUP_TICKETS)
    via_recorder(APPEND_WARMUP_TICKETS * EVENTS_PER_TICKET)

    application_runs: list[tuple[int, float]] = []
    raw_runs: list[tuple[int, float]] = []
    for _ in range(REPEATS):
        count, seconds = timed(lambda: via_application(APPEND_TICKETS))
        application_runs.append((count, seconds))
        raw_runs.append(via_recorder(count))

    application_rate = median_rate(application_runs)
    raw_rate = median_rate(raw_runs)
    return {
        "ratio": round(application_rate / raw_rate, 4),
        "application_events_per_second": round(application_rate, 1),
        "raw_events_per_second": round(raw_rate, 1),
        "events_per_run": application_runs[0][0],
        "application": rate_figures(application_runs),
        "raw": rate_figures(raw_runs),
    }


REBUILD_TICKETS = 4_000  # x EVENTS_PER_TICKET = 20,000 events
REBUILD_SAVE_BATCH = 200  # aggregates per app.save() while generating the log
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


@benchmark("rebuild")
def rebuild_projections(ctx: Context) -> Figures:
    """Events per second folded by a rebuild of the ``core`` projections
    versus notification rows per second paged out of the same log."""
    from tickets.projection_runner import projection_group, rebuild

    app = ctx.fresh_app()
    for start in range(0, REBUILD_TICKETS, REBUILD_SAVE_BATCH):
        size = min(REBUILD_SAVE_BATCH, REBUILD_TICKETS - start)
        app.save(*(ticket_with_lifecycle(ctx) for _ in range(size)))

    projections = projection_group("core")

    def rebuild_all() -> int:
        return rebuild(app, projections)

    def page_through() -> int:
        return page_through_log(app)

    # Warm-up. It also fills the read-model tables, so every measured
    # rebuild starts by deleting the same rows.
    expected = page_through()
    rebuild_all()

    rebuild_runs: list[tuple[int, float]] = []
    raw_runs: list[tuple[int, float]] = []
    for _ in range(REPEATS):
        raw_runs.append(timed(page_through))
        rebuild_runs.append(timed(rebuild_all))
    for count, _seconds in rebuild_runs + raw_runs:
        if count != expected:
            raise RuntimeError(f"Processed {count} events, expected {expected}.")

    rebuild_rate = median_rate(rebuild_runs)
    raw_rate = median_rate(raw_runs)
    return {
        "ratio": round(rebuild_rate / raw_rate, 4),
        "rebuild_events_per_second": round(rebuild_rate, 1),
        "raw_rows_per_second": round(raw_rate, 1),
        "log_events": expected,
        "raw_page_size": RAW_PAGE_SIZE,
        "rebuild": rate_figures(rebuild_runs),
        "raw": rate_figures(raw_runs),
    }


CALENDAR_CALLS = 20_000  # one-year spans per measured run, per operation
CALENDAR_NAIVE_CALLS = 10  # one-week minute-by-minute walks per measured run
CALENDAR_COLD_CALENDARS = 5
WEEKS_PER_YEAR = 52.18


@benchmark("calendar_arithmetic")
def calendar_arithmetic(ctx: Context) -> Figures:
    """Microseconds per ``business_time_between`` and ``add_business_time``
    call over one-year spans (random starts in 2026) on the Shanghai
    calendar with CN holidays, cache warm, versus a naive minute-by-minute
    walk over a one-week span, scaled to a year (x 52.18). No database."""
    import random
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    import holidays

    from sla.calendar import BusinessCalendar, CalendarSpec

    hours = [(540, 720), (780, 1080)]  # 09:00-12:00, 13:00-18:00
    spec = CalendarSpec("Asia/Shanghai", dict.fromkeys(range(5), hours), "CN")
    rng = random.Random(2026)
    year_start = datetime(2026, 1, 1, tzinfo=UTC)
    year = timedelta(days=365)

    def random_start(step: timedelta) -> datetime:
        return year_start + step * rng.randrange(year // step)

    # Cold: the first one-year call on a fresh calendar builds its years.
    cold_seconds = []
    for _ in range(CALENDAR_COLD_CALENDARS):
        fresh = BusinessCalendar(spec)
        start = random_start(timedelta(microseconds=1))
        started = time.perf_counter()
        fresh.business_time_between(start, start + year)
        cold_seconds.append(time.perf_counter() - started)

    calendar = BusinessCalendar(spec)
    starts = [random_start(timedelta(microseconds=1)) for _ in range(CALENDAR_CALLS)]
    ends = [start + year for start in starts]
    # Also warms the cache (2026 and 2027).
    amounts = [
        calendar.business_time_between(a, b) for a, b in zip(starts, ends, strict=True)
    ]

    def between_all() -> int:
        between = calendar.business_time_between
        for a, b in zip(starts, ends, strict=True):
            between(a, b)
        return len(starts)

    def add_all() -> int:
        add = calendar.add_business_time
        for start, amount in zip(starts, amounts, strict=True):
            add(start, amount)
        return len(starts)

    # The baseline: every minute of a week converted to local time and
    # checked against the weekday's hours and a set of holiday dates.
    tz = ZoneInfo(spec.timezone)
    public = frozenset(holidays.country_holidays("CN", years=[2026, 2027]))
    minute = timedelta(minutes=1)
    week = timedelta(days=7)

    def naive_between(a: datetime, b: datetime) -> timedelta:
        worked = 0
        t = a
        while t < b:
            here = t.astimezone(tz)
            if here.date() not in public:
                of_day = here.hour * 60 + here.minute
                for first, last in spec.weekly.get(here.weekday(), ()):
                    if first <= of_day < last:
                        worked += 1
                        break
            t += minute
        return worked * minute

    week_starts = [random_start(minute) for _ in range(CALENDAR_NAIVE_CALLS)]
    for start in week_starts[:2]:
        naive = naive_between(start, start + week)
        fast = calendar.business_time_between(start, start + week)
        if naive != fast:
            raise RuntimeError(f"Naive walk gives {naive}, calendar gives {fast}.")

    def naive_all() -> int:
        for start in week_starts:
            naive_between(start, start + week)
        return len(week_starts)

    between_all()
    add_all()
    between_runs: list[tuple[int, float]] = []
    add_runs: list[tuple[int, float]] = []
    naive_runs: list[tuple[int, float]] = []
    for _ in range(REPEATS):
        between_runs.append(timed(between_all))
        add_runs.append(timed(add_all))
        naive_runs.append(timed(naive_all))

    between_us = 1e6 / median_rate(between_runs)
    add_us = 1e6 / median_rate(add_runs)
    naive_week_us = 1e6 / median_rate(naive_runs)
    naive_year_us = naive_week_us * WEEKS_PER_YEAR
    return {
        "ratio": round(between_us / naive_year_us, 8),
        "add_ratio": round(add_us / naive_year_us, 8),
        "speedup": round(naive_year_us / between_us, 1),
        "between_us_per_call": round(between_us, 2),
        "add_us_per_call": round(add_us, 2),
        "cold_first_call_us": round(statistics.median(cold_seconds) * 1e6, 1),
        "naive_week_us_per_call": round(naive_week_us, 1),
        "naive_year_equivalent_us_per_call": round(naive_year_us, 1),
        "between": rate_figures(between_runs),
        "add": rate_figures(add_runs),
        "naive_week": rate_figures(naive_runs),
    }


SWEEP_CLOCKS = 100_000
SWEEP_DUE = 100


@benchmark("sla_sweep")
def sla_sweep_benchmark(ctx: Context) -> Figures:
    """Seconds for one SLA sweep over 100,000 running clocks, versus a naive
    sweep (load every running clock and compare times in Python) over the
    same rows. Also the sweep that finds 100 real clocks due and records
    their breaches (commands, events, projections), per breach."""
    from datetime import UTC, datetime, timedelta

    from departments.models import Department
    from sla.models import SLANotification
    from sla.services import policy_version_create, sla_sweep
    from sla.terms import PolicySLAPort
    from tickets.application import set_tickets_application
    from tickets.models import (
        Handoff,
        ProjectionTracking,
        SLAClock,
        TicketSummary,
        TimelineEntry,
    )
    from tickets.projection_runner import catch_up, projection_group

    app = ctx.fresh_app()
    app.sla = PolicySLAPort()
    set_tickets_application(app)
    # Earlier benchmarks used other event stores: start the read models and
    # their positions from zero for this one.
    for model in (
        ProjectionTracking,
        SLANotification,
        SLAClock,
        TimelineEntry,
        Handoff,
        TicketSummary,
    ):
        model.objects.all().delete()
    t0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    for code, name, kind in (
        ("CS", "Customer Service", Department.Kind.FRONT_LINE),
        ("FIN", "Finance", Department.Kind.BACK_OFFICE),
    ):
        Department.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind}
        )
    policy_version_create(
        department=Department.objects.get(code="FIN"),
        effective_from=t0 - timedelta(days=1),
        response_normal=timedelta(hours=1),
    )
    for n in range(SWEEP_DUE):
        ticket_id = app.open_ticket(
            principal=ctx.principal,
            front_line=ctx.cs,
            at=t0,
            **{**TICKET_FIELDS, "customer_ref": f"C{n}"},
        ).ticket_id
        app.hand_off_ticket(
            ticket_id, to=ctx.fin, reason="r", principal=ctx.principal, at=t0
        )
    catch_up(app, projection_group("core"))
    real = SLAClock.objects.count()
    far = t0 + timedelta(days=3650)
    SLAClock.objects.bulk_create(
        [
            SLAClock(
                id=uuid4(),
                ticket_id=uuid4(),
                department="FIN",
                kind="response",
                state="running",
                started_at=t0,
                due_at=far,
                warn_at=far,
                target_seconds=3600.0,
                policy_version=1,
                calendar_version=0,
                started_position=0,
            )
            for _ in range(SWEEP_CLOCKS - real)
        ],
        batch_size=5000,
    )
    before_due = t0 + timedelta(minutes=30)

    def indexed() -> int:
        sla_sweep(now=before_due)
        return SWEEP_CLOCKS

    def naive() -> int:
        rows = SLAClock.objects.filter(state="running").values_list(
            "id", "due_at", "warn_at", "warning_recorded"
        )
        due = [
            r for r in rows if r[1] <= before_due or (not r[3] and r[2] <= before_due)
        ]
        del due
        return SWEEP_CLOCKS

    indexed()
    naive()
    sweep_samples = [timed(indexed) for _ in range(REPEATS)]
    naive_samples = [timed(naive) for _ in range(REPEATS)]
    sweep_seconds = statistics.median(seconds for _, seconds in sweep_samples)
    naive_seconds = statistics.median(seconds for _, seconds in naive_samples)

    started = time.perf_counter()
    result = sla_sweep(now=t0 + timedelta(hours=2))
    due_seconds = time.perf_counter() - started
    if result.breaches != SWEEP_DUE:
        raise RuntimeError(f"expected {SWEEP_DUE} breaches, got {result.breaches}")
    set_tickets_application(None)
    return {
        "ratio": round(sweep_seconds / naive_seconds, 4),
        "running_clocks": SWEEP_CLOCKS,
        "sweep_seconds": round(sweep_seconds, 4),
        "naive_sweep_seconds": round(naive_seconds, 4),
        "sweep_recording_100_breaches_seconds": round(due_seconds, 3),
        "ms_per_breach_recorded": round(due_seconds / SWEEP_DUE * 1000, 2),
    }


#: Events in the log for the scorecard benchmark (BENCH_SCORECARD_EVENTS
#: overrides, e.g. for a quick look).
SCORECARD_EVENTS = int(os.environ.get("BENCH_SCORECARD_EVENTS", "1000000"))
SCORECARD_READS = 30  # requests per measured endpoint
SCORECARD_INCREMENT = 20_000  # events appended, then projected incrementally


def _scorecard_org() -> list[Any]:
    """Five departments with calendars and policies, as in the demo."""
    from datetime import UTC, datetime, timedelta

    from departments.models import Department
    from sla.models import CalendarVersion
    from sla.services import calendar_version_create, policy_version_create
    from tickets.services import department_ref

    since = datetime(2020, 1, 1, tzinfo=UTC)
    office = dict.fromkeys(
        ("monday", "tuesday", "wednesday", "thursday", "friday"), "09:00-18:00"
    )
    hour = timedelta(hours=1)
    for code, name, kind, tz, response in (
        ("CS", "Customer Service", "front_line", "Asia/Shanghai", 1),
        ("FIN", "Finance", "back_office", "Asia/Shanghai", 4),
        ("LOG", "Logistics", "back_office", "America/New_York", 8),
        ("RISK", "Risk Control", "back_office", "Asia/Shanghai", 2),
        ("PROD", "Product", "back_office", "America/New_York", 16),
    ):
        department, _ = Department.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind, "timezone": tz}
        )
        if not CalendarVersion.objects.filter(calendar__department=department).exists():
            calendar_version_create(
                department=department, effective_from=since, timezone=tz, **office
            )
            policy_version_create(
                department=department,
                effective_from=since,
                response_normal=response * hour,
                response_high=response * hour / 2,
                response_low=response * hour * 2,
                response_urgent=response * hour / 4,
            )
    return [department_ref(code) for code in ("CS", "FIN", "LOG", "RISK", "PROD")]


def _latency(get: Callable[[], Any]) -> dict[str, float]:
    """Median and 90th percentile milliseconds of ``get()`` (one warm-up)."""
    get()
    samples = []
    for _ in range(SCORECARD_READS):
        started = time.perf_counter()
        response = get()
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(
                f"HTTP {response.status_code}: {response.content[:200]!r}"
            )
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p90_ms": round(samples[int(len(samples) * 0.9) - 1], 2),
    }


@benchmark("scorecards")
def scorecards_benchmark(ctx: Context) -> Figures:
    """Scorecards over a log of 1,000,000 generated events (5 departments,
    about 2 years): full rebuild rate of the scorecard projection versus
    paging the raw log; incremental projection of 20,000 more events;
    latency of the scorecard and drill-down endpoints (a busy month, all
    scenarios) versus a trivial endpoint (departments list) in the same
    process."""
    from datetime import UTC, datetime, timedelta

    from django.contrib.auth.models import User
    from rest_framework.test import APIClient

    from sla.models import Scorecard, ScorecardHandoff
    from sla.terms import PolicySLAPort, SnapshotSLAPort
    from tickets.application import set_tickets_application
    from tickets.projection_runner import catch_up, projection_group, rebuild
    from tickets.simulation import HistoryGenerator, synthetic_staff

    app = ctx.fresh_app()
    app.sla = PolicySLAPort()
    set_tickets_application(app)
    refs = _scorecard_org()
    end = datetime(2026, 11, 1, tzinfo=UTC)
    generator = HistoryGenerator(
        staff=synthetic_staff(refs),
        start=end - timedelta(days=730),
        end=end,
        seed=1,
        sla=SnapshotSLAPort(),
        customers=50_000,
    )
    started = time.perf_counter()
    events = 0
    while events < SCORECARD_EVENTS:
        events += generator.save(app, 1000, batch=250)
    generation_seconds = time.perf_counter() - started

    projections = projection_group("scorecards")

    raw = timed(lambda: page_through_log(app))
    rebuilt = timed(lambda: rebuild(app, projections))
    facts, cards = ScorecardHandoff.objects.count(), Scorecard.objects.count()

    # Incremental: more history on top, followed in projector-sized batches.
    later = HistoryGenerator(
        staff=synthetic_staff(refs),
        start=end,
        end=end + timedelta(days=14),
        seed=2,
        sla=SnapshotSLAPort(),
    )
    appended = 0
    while appended < SCORECARD_INCREMENT:
        appended += later.save(app, 200, batch=200)
    incremental = timed(lambda: catch_up(app, projections, batch_size=500))

    busiest = (
        Scorecard.objects.filter(period="month", scenario="*")
        .order_by("-figures__received")
        .first()
    )
    assert busiest is not None
    user = User.objects.create_superuser("bench", "bench@example.com", "bench-pass")
    client = APIClient(SERVER_NAME="localhost")
    client.force_authenticate(user)
    base = f"/api/v1/scorecards/{busiest.department}/month/{busiest.start}/"
    baseline = _latency(lambda: client.get("/api/v1/departments/"))
    scorecard = _latency(lambda: client.get(base))
    received = busiest.figures["received"]
    drill_received = _latency(
        lambda: client.get(f"{base}figures/received/", {"limit": 10_000})
    )
    drill_breached = _latency(lambda: client.get(f"{base}figures/breached/"))

    rebuild_rate = rebuilt[0] / rebuilt[1]
    raw_rate = raw[0] / raw[1]
    return {
        "ratio": round(rebuild_rate / raw_rate, 4),
        "log_events": events,
        "generation_seconds": round(generation_seconds, 1),
        "rebuild_events_per_second": round(rebuild_rate, 1),
        "rebuild_seconds": round(rebuilt[1], 1),
        "raw_rows_per_second": round(raw_rate, 1),
        "handoff_facts": facts,
        "scorecards": cards,
        "incremental_events_per_second": round(incremental[0] / incremental[1], 1),
        "read_ratio": round(scorecard["median_ms"] / baseline["median_ms"], 2),
        "drilldown_received_ratio": round(
            drill_received["median_ms"] / baseline["median_ms"], 2
        ),
        "drilldown_breached_ratio": round(
            drill_breached["median_ms"] / baseline["median_ms"], 2
        ),
        "busiest_month": f"{busiest.department} {busiest.start}",
        "busiest_month_handoffs": received,
        "baseline_departments_ms": baseline,
        "scorecard_ms": scorecard,
        "drilldown_received_ms": drill_received,
        "drilldown_breached_ms": drill_breached,
    }


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
        "git_commit": _git_commit(),
    }


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_result(name: str, figures: Figures, seconds: float) -> None:
    ratio = figures.get("ratio")
    head = (
        f"{name:<14} ratio {_format(float(ratio))}"
        if ratio is not None
        else f"{name:<14}"
    )
    details = ", ".join(
        f"{key} {_format(value)}"
        for key, value in figures.items()
        if key != "ratio" and isinstance(value, int | float)
    )
    print(f"{head}  ({details}; took {seconds:.1f}s)", flush=True)


def write_results(document: dict[str, Any], timestamp: datetime) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, indent=2) + "\n"
    path = RESULTS_DIR / f"{timestamp.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(text)
    (RESULTS_DIR / "latest.json").write_text(text)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(REGISTRY),
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(REGISTRY)}",
    )
    args = parser.parse_args(argv)
    selected = [name for name in REGISTRY if not args.only or name in args.only]

    timestamp = datetime.now(UTC).replace(microsecond=0)
    results: dict[str, Figures] = {}
    with bench_environment() as tmp_dir:
        ctx = Context(tmp_dir)
        try:
            env = environment(ctx, timestamp)
            print(
                f"Baton benchmarks on {env['database_vendor']} "
                f"{env['database_version']}: Python {env['python']}, "
                f"Django {env['django']}, eventsourcing {env['eventsourcing']}, "
                f"{env['cpu_count']} CPUs"
            )
            for name in selected:
                started = time.perf_counter()
                results[name] = REGISTRY[name](ctx)
                print_result(name, results[name], time.perf_counter() - started)
        finally:
            ctx.close()

    path = write_results({"environment": env, "results": results}, timestamp)
    print(f"Wrote {path.relative_to(ROOT)} (and latest.json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
