"""Write-path benchmarks: appending events through the application, and
rebuilding the read models from the log."""

from __future__ import annotations

from uuid import uuid4

from bench_harness import (
    EVENTS_PER_TICKET,
    RAW_PAGE_SIZE,
    REPEATS,
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
