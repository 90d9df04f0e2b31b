"""Baton's HTTP benchmark: the real processes, closed-loop clients.

Run from the project root (``make bench-http``)::

    .venv/bin/python bench/bench_http.py [--seconds N] [--rounds N]
        [--clients N] [--only WORKLOAD,...]

It creates a throw-away PostgreSQL database (``baton_bench_http`` on the
server of ``DATABASE_URL``), migrates it, loads the demo organisation, adds
a bench user who is a member of every department with an API token, and
starts the Procfile's processes on it: gunicorn (2 workers x 4 threads,
no access log), the projector (``run_projections``) and the worker
(``qcluster``), with the settings ``bench.httpbase.settings`` (production's
plus two baseline endpoints). Closed-loop clients (one keep-alive
connection each) then run every workload for ``--seconds`` after a warm-up,
one workload after another, ``--rounds`` times, while a sampler measures
projection lag. Every process it started is stopped and the database
dropped at the end, on Ctrl-C or an error too. Results are printed and
written to ``bench/results/http-<UTC timestamp>.json`` and
``bench/results/http-latest.json``. It reports figures; it never asserts
timings.

This module holds the command line, the set-up and rounds (``Run``), the
figures, the report table and the JSON file. The database and the
processes are in ``http_processes.py``; the workloads, the clients and the
projection-lag sampler in ``http_load.py`` (imported as top-level modules:
``bench/`` is on ``sys.path`` when this runs as a script, as for ``run.py``).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench_harness import git_commit, write_results
from http_load import (
    SAMPLE_BODIES,
    SAMPLE_INTERVAL,
    STOPPING,
    WARMUP_SECONDS,
    WORKLOADS,
    Client,
    LagSampler,
    Shared,
    Workload,
    in_parallel,
    prepare_client,
    run_window,
)
from http_processes import (
    GUNICORN_THREADS,
    GUNICORN_WORKERS,
    REDIS_URL,
    ROOT,
    SETTINGS,
    THROTTLE_RATE,
    Processes,
    admin_connection,
    free_port,
    gunicorn_command,
    log_problems,
    manage,
    postgres_conninfo,
    postgres_url,
    process_environment,
    redis_answers,
    setup_document,
    throwaway_database,
    wait_for_web,
)

#: How long to wait, before each workload, for every projection to reach
#: the head of the log (so that one workload's backlog is not the next's).
QUIESCE_TIMEOUT = 30.0

# The issue's goals (issue 13), reported next to the figures, not asserted.
GOALS = {
    "command_ratio_min": 0.6,
    "command_p99_ms_max": 100,
    "read_ratio_min": 0.7,
    "read_p99_ms_max": 50,
    "core_lag_p99_ms_max": 50,
}


# ---------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def summarise(
    selected: list[Workload],
    runs: dict[str, list[dict[str, Any]]],
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for workload in selected:
        rounds = runs[workload.name]
        latencies = [x for r in rounds for x in r["latencies"]]
        statuses: Counter[int] = Counter()
        for r in rounds:
            statuses.update(r["statuses"])
        rates = [r["per_second"] for r in rounds]
        entry: dict[str, Any] = {
            "kind": workload.kind,
            "per_second": _round(statistics.median(rates), 1),
            "p50_ms": _ms(_percentile(latencies, 50)),
            "p99_ms": _ms(_percentile(latencies, 99)),
            "max_ms": _ms(max(latencies, default=None)),
            "requests": len(latencies),
            "errors": sum(r["errors"] for r in rounds),
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "reconnects": sum(r["reconnects"] for r in rounds),
            "error_samples": [s for r in rounds for s in r["samples"]][:SAMPLE_BODIES],
            "rounds": [
                {
                    "requests": r["count"],
                    "seconds": r["seconds"],
                    "per_second": _round(r["per_second"], 1),
                    "quiesce_seconds": _round(r["quiesce_seconds"], 2),
                }
                for r in rounds
            ],
        }
        baseline = workload.baseline
        if baseline and baseline in runs:
            ratios = [
                r["per_second"] / b["per_second"]
                for r, b in zip(rounds, runs[baseline], strict=True)
                if b["per_second"]
            ]
            entry["baseline"] = baseline
            entry["ratio"] = _round(statistics.median(ratios)) if ratios else None
            entry["ratio_rounds"] = [_round(x) for x in ratios]
        if workload.kind == "command":
            entry["accepted_202"] = statuses.get(202, 0)
        results[workload.name] = entry
    return results


def lag_figures(sampler: LagSampler, command_names: list[str]) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "sample_interval_ms": SAMPLE_INTERVAL * 1000,
        "polls": sampler.polls,
        "groups": {},
    }
    if sampler.error:
        figures["error"] = sampler.error
    for group, by_tag in sampler.lags.items():

        def stats(values: list[float]) -> dict[str, Any]:
            return {
                "events": len(values),
                "p50_ms": _round(_percentile(values, 50), 1),
                "p99_ms": _round(_percentile(values, 99), 1),
                "max_ms": _round(max(values, default=None), 1),
            }

        during = [x for name in command_names for x in by_tag.get(name, [])]
        figures["groups"][group] = {
            "projections": sampler.groups[group],
            "commands": stats(during),
            "by_workload": {name: stats(by_tag[name]) for name in sorted(by_tag)},
            "not_visible_at_end": sampler.unresolved(group),
        }
    return figures


def _goals(results: dict[str, Any], lag: dict[str, Any]) -> dict[str, Any]:
    """Each workload against the issue's goals (reported, not asserted)."""
    checks: dict[str, Any] = {}
    for name, entry in results.items():
        if entry["kind"] == "command":
            ratio_min, p99_max = GOALS["command_ratio_min"], GOALS["command_p99_ms_max"]
        elif entry["kind"] == "read":
            ratio_min, p99_max = GOALS["read_ratio_min"], GOALS["read_p99_ms_max"]
        else:
            continue
        ratio, p99 = entry.get("ratio"), entry.get("p99_ms")
        checks[name] = {
            "ratio_met": ratio is not None and ratio >= ratio_min,
            "p99_met": p99 is not None and p99 <= p99_max,
        }
    core = lag.get("groups", {}).get("core", {}).get("commands", {})
    if core.get("p99_ms") is not None:
        checks["core_projection_lag"] = {
            "p99_met": core["p99_ms"] <= GOALS["core_lag_p99_ms_max"]
        }
    return {"targets": GOALS, "met": checks}


def _fmt(value: Any, spec: str = ",.1f") -> str:
    if value is None:
        return "-"
    return format(value, spec)


def print_table(results: dict[str, Any], lag: dict[str, Any]) -> None:
    head = (
        f"{'workload':<16}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}{'ratio':>7}  {'vs':<16}statuses"
    )
    print(head)
    print("-" * len(head) + "-" * 10)
    for name, entry in results.items():
        statuses = " ".join(f"{k}:{v}" for k, v in entry["statuses"].items())
        print(
            f"{name:<16}{_fmt(entry['per_second']):>9}{_fmt(entry['p50_ms']):>9}"
            f"{_fmt(entry['p99_ms']):>9}{entry['errors']:>8,}"
            f"{_fmt(entry.get('ratio'), '.2f'):>7}  {entry.get('baseline') or '':<16}"
            f"{statuses}"
        )
    print()
    for group, figures in lag.get("groups", {}).items():
        during = figures["commands"]
        print(
            f"projection lag {group:<14} during commands: p50 "
            f"{_fmt(during['p50_ms'])} ms, p99 {_fmt(during['p99_ms'])} ms, max "
            f"{_fmt(during['max_ms'])} ms over {during['events']:,} events"
            + (
                f" ({figures['not_visible_at_end']:,} never visible)"
                if figures["not_visible_at_end"]
                else ""
            )
        )
    if lag.get("error"):
        print(f"lag sampler failed: {lag['error']}")
    for name, entry in results.items():
        for sample in entry["error_samples"]:
            print(
                f"  {name} {sample['status']} {sample['method']} {sample['path']}: "
                f"{sample['body'][:300]}"
            )


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds",
        type=float,
        default=10.0,
        help="measured seconds per workload and round (10)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds (3)")
    parser.add_argument(
        "--clients", type=int, default=8, help="closed-loop clients (8)"
    )
    parser.add_argument(
        "--tickets-per-client",
        type=int,
        default=20,
        help="tickets each client opens during set-up and works on (20)",
    )
    parser.add_argument(
        "--only",
        default="",
        metavar="WORKLOAD,...",
        help="run only these workloads (their baselines are always run too): "
        + ", ".join(WORKLOADS),
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = sorted(set(names) - set(WORKLOADS))
    if unknown:
        parser.error(
            f"unknown workload(s) {', '.join(unknown)}; "
            f"choose from {', '.join(WORKLOADS)}"
        )
    if names:
        wanted = set(names) | {b for n in names if (b := WORKLOADS[n].baseline)}
        args.workloads = [w for w in WORKLOADS.values() if w.name in wanted]
    else:
        args.workloads = list(WORKLOADS.values())
    return args


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


class Run:
    """One benchmark run: its throw-away storage, processes, clients and
    measurements."""

    def __init__(self, args: argparse.Namespace, tmp_dir: Path) -> None:
        self.args = args
        self.tmp_dir = tmp_dir
        self.timestamp = datetime.now(UTC).replace(microsecond=0)
        self.redis_on = redis_answers()
        self.selected: list[Workload] = args.workloads
        self.runs: dict[str, list[dict[str, Any]]] = {w.name: [] for w in self.selected}
        self.processes: Processes | None = None
        self.sampler: LagSampler | None = None
        self.clients: list[Client] = []
        self.environment: dict[str, Any] = {}
        self.phases: dict[str, float] = {}
        self.log_problems: dict[str, list[str]] = {}
        self.notes: list[str] = []
        if not self.redis_on:
            self.notes.append(
                f"Redis did not answer at {REDIS_URL}: REDIS_URL unset (file cache "
                "for throttles, ORM broker for the worker)."
            )

    def _timed(self, phase: str, func: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        value = func()
        self.phases[f"{phase}_seconds"] = round(time.perf_counter() - started, 2)
        return value

    def set_up(self, database_url: str) -> tuple[dict[str, Any], Shared]:
        args = self.args
        env = process_environment(database_url, self.tmp_dir, redis_on=self.redis_on)
        with admin_connection(database_url) as conn:
            database_version = str(conn.execute("SHOW server_version").fetchone()[0])
        self._timed(
            "migrate", lambda: manage(env, "migrate", "--run-syncdb", "--no-input")
        )
        self._timed(
            "load_demo", lambda: manage(env, "load_demo", "--force-demo-accounts")
        )
        setup = setup_document(
            manage(
                env,
                "shell",
                "-c",
                "from bench.http_processes import prepare_organisation; "
                "prepare_organisation()",
            )
        )
        port = free_port()
        self.processes = processes = Processes(env, self.tmp_dir)
        processes.start("web", gunicorn_command(port), signal.SIGTERM)
        processes.start(
            "projector",
            [sys.executable, "manage.py", "run_projections"],
            signal.SIGTERM,
        )
        # qcluster stops cleanly on SIGINT to its group (config/process_group).
        processes.start(
            "worker", [sys.executable, "manage.py", "qcluster"], signal.SIGINT
        )
        self.phases["web_start_seconds"] = round(
            wait_for_web(processes, port, setup["token"]), 2
        )
        self.environment = {
            "timestamp": self.timestamp.isoformat(),
            "python": platform.python_version(),
            "django": _version("Django"),
            "djangorestframework": _version("djangorestframework"),
            "eventsourcing": _version("eventsourcing"),
            "gunicorn": _version("gunicorn"),
            "database_vendor": "postgresql",
            "database_version": database_version,
            "redis": self.redis_on,
            "redis_url": REDIS_URL if self.redis_on else None,
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "git_commit": git_commit(),
            "settings": SETTINGS,
            "gunicorn_workers": GUNICORN_WORKERS,
            "gunicorn_threads": GUNICORN_THREADS,
            "clients": args.clients,
            "seconds": args.seconds,
            "warmup_seconds": WARMUP_SECONDS,
            "rounds": args.rounds,
            "tickets_per_client": args.tickets_per_client,
            "throttle_rate": THROTTLE_RATE,
        }
        self.sampler = LagSampler(
            postgres_conninfo(database_url),
            setup["events_table"],
            setup["application"],
            {
                g: setup["groups"][g]
                for g in ("core", "scorecards")
                if g in setup["groups"]
            },
        )
        self.sampler.start()
        self.sampler.wait_ready()
        shared = Shared(
            port=port,
            token=setup["token"],
            scenario="REFUND",
            departments=list(setup["departments"]),
        )
        return setup, shared

    def measure(self, setup: dict[str, Any], shared: Shared) -> None:
        args, processes, sampler = self.args, self.processes, self.sampler
        assert processes is not None and sampler is not None
        env = self.environment
        print(
            f"Baton HTTP benchmark on PostgreSQL {env['database_version']}, Redis "
            f"{'on' if self.redis_on else 'off'}: gunicorn {GUNICORN_WORKERS} "
            f"workers x {GUNICORN_THREADS} threads, projector and worker; "
            f"{args.clients} clients, {args.rounds} rounds of {args.seconds:g} s "
            f"per workload; {env['cpu_count']} CPUs",
            flush=True,
        )
        self.clients = clients = [Client(i, shared) for i in range(args.clients)]
        self._timed(
            "open_tickets",
            lambda: in_parallel(
                clients,
                lambda c: prepare_client(
                    c, args.tickets_per_client, 5, setup["front_line"]
                ),
            ),
        )
        names = [n for group in setup["groups"].values() for n in group]
        for round_number in range(1, args.rounds + 1):
            for workload in self.selected:
                waited = _quiesce(sampler, processes, names)
                window, seconds = run_window(clients, workload, args.seconds, sampler)
                processes.check_alive()
                count = len(window.latencies)
                self.runs[workload.name].append(
                    {
                        "count": count,
                        "seconds": seconds,
                        "per_second": count / seconds,
                        "latencies": window.latencies,
                        "statuses": window.statuses,
                        "errors": window.errors,
                        "samples": window.samples,
                        "reconnects": window.reconnects,
                        "quiesce_seconds": waited,
                    }
                )
                p50 = _ms(_percentile(window.latencies, 50))
                print(
                    f"  round {round_number} {workload.name:<16}"
                    f"{count / seconds:>8.1f} req/s  p50 {_fmt(p50)} ms"
                    f"  errors {window.errors}",
                    flush=True,
                )
        # The last events become visible before the lag is read.
        _quiesce(sampler, processes, names)

    def tear_down(self) -> None:
        """Stop the sampler, the clients and every process (before the
        database is dropped)."""
        STOPPING.set()
        if self.sampler is not None:
            self.sampler.stopping.set()
            self.sampler.join(5)
        for client in self.clients:
            client.conn.close()
        if self.processes is not None:
            self.log_problems = log_problems(self.tmp_dir)
            self.processes.stop()

    def report(self) -> Path:
        assert self.sampler is not None
        results = summarise(self.selected, self.runs)
        commands = [w.name for w in self.selected if w.kind == "command"]
        lag = lag_figures(self.sampler, commands)
        print()
        print_table(results, lag)
        if self.log_problems:
            self.notes.append("The processes logged errors: see process_log_errors.")
            for name, lines in self.log_problems.items():
                first = lines[1][:200] if len(lines) > 1 else ""
                print(f"  {name} log: {lines[0]}; first: {first}")
        document = {
            "environment": self.environment,
            "setup": self.phases,
            "results": results,
            "projection_lag": lag,
            "goals": _goals(results, lag),
            "notes": self.notes,
            "process_log_errors": self.log_problems,
        }
        return write_results(document, self.timestamp, prefix="http-")


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    url = postgres_url()
    # Ctrl-C and SIGTERM both stop the run cleanly (SIGINT explicitly: a
    # shell starts background jobs with it ignored).
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    tmp_dir = Path(tempfile.mkdtemp(prefix="baton-bench-http-"))
    (tmp_dir / "var").mkdir()
    run = Run(args, tmp_dir)
    try:
        with throwaway_database(url) as database_url:
            try:
                setup, shared = run.set_up(database_url)
                run.measure(setup, shared)
            finally:
                run.tear_down()
    except KeyboardInterrupt:
        print("Interrupted: the processes are stopped and the database dropped.")
        return 130
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    path = run.report()
    print(f"Wrote {path.relative_to(ROOT)} (and http-latest.json)")
    return 0


def _quiesce(sampler: LagSampler, processes: Processes, names: list[str]) -> float:
    """Wait until every projection has reached the head of the log (or
    ``QUIESCE_TIMEOUT``); returns the seconds waited."""
    started = time.perf_counter()
    polls = sampler.polls
    while time.perf_counter() - started < QUIESCE_TIMEOUT:
        if sampler.error:
            raise RuntimeError(f"The lag sampler failed: {sampler.error}")
        if sampler.polls > polls + 1 and all(
            sampler.positions.get(n, 0) >= sampler.head for n in names
        ):
            break
        processes.check_alive()
        time.sleep(0.02)
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
