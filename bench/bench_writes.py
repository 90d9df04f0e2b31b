"""Write-path benchmarks: appending events through the application, and
rebuilding the read models from the log."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from bench_harness import (
    EVENTS_PER_TICKET,
    RAW_PAGE_SIZE,
    REPEATS,
    TICKET_FIELDS,
    Context,
    Figures,
    benchmark,
    median_rate,
    page_through_log,
    rate_figures,
    ticket_lifecycle_via_application,
    ticket_with_lifecycle,
    timed,
)

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


LONG_TICKET_EVENTS = 500  # the old ticket's history before the samples
LONG_TICKET_SAMPLE = 60  # commands timed on each ticket
LONG_TICKET_COLD = 5  # first commands of fresh instances, on each ticket


@benchmark("long_ticket")
def long_ticket(ctx: Context) -> Figures:
    """Per-command cost on a new ticket versus on one with 500 events,
    measured alternately (new, old, new, old...) in the same window, so
    that both see the same machine: ``ratio`` = median ms on the new one /
    median ms on the old one (1.0: a command costs the same however long
    the history; below 1: it grows with it). The commands cycle respond,
    note, hand off (the tickets gain stints as they age), one event each,
    through one application instance, as a web process serves them.
    ``cold``: the first command of a fresh application instance (a process
    that never loaded the ticket), which replays the whole history."""
    import statistics
    import time

    from tickets import clock
    from tickets.application import TicketsApplication
    from tickets.commands import ADD_NOTE, HAND_OFF, RESPOND

    app = ctx.fresh_app()
    p = ctx.principal
    steps: dict[UUID, int] = {}
    owners: dict[UUID, Any] = {}

    def open_ticket() -> UUID:
        opened = app.open_ticket(
            principal=p, front_line=ctx.cs, at=clock.now(), **TICKET_FIELDS
        )
        steps[opened.ticket_id], owners[opened.ticket_id] = 0, ctx.cs
        return opened.ticket_id

    def command(ticket_id: UUID, on: Any = app) -> float:
        step = steps[ticket_id]
        kind = step % 3
        if kind == 0:
            call, kwargs = RESPOND, {"body": f"Reply {step}."}
        elif kind == 1:
            call, kwargs = ADD_NOTE, {"body": f"Note {step}."}
        else:
            to = ctx.fin if owners[ticket_id] is ctx.cs else ctx.cs
            call, kwargs = HAND_OFF, {"to": to, "reason": f"Round {step}"}
        started = time.perf_counter()
        on.run_command(ticket_id, call, principal=p, at=clock.now(), **kwargs)
        elapsed = time.perf_counter() - started
        steps[ticket_id] = step + 1
        if kind == 2:
            owners[ticket_id] = kwargs["to"]
        return elapsed

    def cold(ticket_id: UUID) -> float:
        other = TicketsApplication(env=dict(app.env))
        try:
            other.recorder.max_notification_id()  # its connection, made
            return command(ticket_id, other)
        finally:
            other.close()

    old = open_ticket()
    while steps[old] + 1 < LONG_TICKET_EVENTS:
        command(old)
    history = app.get_ticket(old).version
    new = open_ticket()
    cold(new)  # warm-up
    new_times: list[float] = []
    old_times: list[float] = []
    for _ in range(LONG_TICKET_SAMPLE):
        new_times.append(command(new))
        old_times.append(command(old))
    new_cold: list[float] = []
    old_cold: list[float] = []
    for _ in range(LONG_TICKET_COLD):
        new_cold.append(cold(new))
        old_cold.append(cold(old))

    def ms(times: list[float]) -> float:
        return round(statistics.median(times) * 1000, 3)

    return {
        "ratio": round(ms(new_times) / ms(old_times), 4),
        "new_ticket_ms_per_command": ms(new_times),
        "old_ticket_ms_per_command": ms(old_times),
        "old_ticket_events": history,
        "commands_per_sample": LONG_TICKET_SAMPLE,
        "cold_new_ticket_ms": ms(new_cold),
        "cold_old_ticket_ms": ms(old_cold),
        "cold_ratio": round(ms(new_cold) / ms(old_cold), 4),
    }
