"""SLA benchmarks: business-time arithmetic, the sweep over many clocks,
and scorecards at a million events."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from bench_harness import (
    REPEATS,
    TICKET_FIELDS,
    Context,
    Figures,
    benchmark,
    median_rate,
    page_through_log,
    rate_figures,
    timed,
)

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
    from tickets.commands import HAND_OFF
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
        app.run_command(
            ticket_id, HAND_OFF, to=ctx.fin, reason="r", principal=ctx.principal, at=t0
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
    scenarios: every received handoff, the breached ones, and a 100-row
    page from the middle of the received ones) versus a trivial endpoint
    (departments list) in the same process."""
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
    # A page of 100 handoffs as a client pages through them (the middle of
    # the busy month's received handoffs).
    page_offset = max(0, received // 2 - 50)
    drill_page = _latency(
        lambda: client.get(
            f"{base}figures/received/", {"limit": 100, "offset": page_offset}
        )
    )

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
        "drilldown_page_ratio": round(
            drill_page["median_ms"] / baseline["median_ms"], 2
        ),
        "busiest_month": f"{busiest.department} {busiest.start}",
        "busiest_month_handoffs": received,
        "baseline_departments_ms": baseline,
        "scorecard_ms": scorecard,
        "drilldown_received_ms": drill_received,
        "drilldown_breached_ms": drill_breached,
        "drilldown_page_ms": drill_page,
        "drilldown_page": {"limit": 100, "offset": page_offset},
    }
