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

To add a figure, write a function (in ``bench_writes.py``, ``bench_sla.py``
or a new module imported below) taking a :class:`Context` and returning a
dict of figures (by convention including ``ratio``), and decorate it with
``@benchmark("name")``.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from typing import Any

import bench_routing  # noqa: F401 -- registers its benchmarks
import bench_sla  # noqa: F401 -- registers its benchmarks
import bench_writes  # noqa: F401 -- registers its benchmarks
from bench_harness import (
    REGISTRY,
    ROOT,
    Context,
    Figures,
    bench_environment,
    environment,
    write_results,
)

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
