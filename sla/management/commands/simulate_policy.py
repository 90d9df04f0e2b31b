"""What-if: how would a department's breach counts and rates change under
proposed response targets? Replays a period's stored history (see
``sla.whatif``); stores nothing.

    manage.py simulate_policy --department FIN --period week \\
        --start 2026-11-16 --response normal=2h --response high=30m [--json]
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sla.scorecards import PERIODS
from sla.whatif import (
    Simulation,
    WhatIfError,
    default_start,
    format_rate,
    parse_targets,
    simulate_policy,
)
from tickets.durations import format_duration


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--start {text!r} is not a date like 2026-11-16.") from None


def _signed(value: int) -> str:
    return f"{value:+d}" if value else "0"


def _signed_rate(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 100:+.1f} pts" if value else "0"


def render(simulation: Simulation) -> str:
    """The human-readable report: a table by priority and the flips."""
    s = simulation
    scope = f", scenario {s.scenario}" if s.scenario is not None else ""
    lines = [
        f"What-if for {s.department}: {s.period} from {s.start} "
        f"(to {s.end}, exclusive){scope}; running clocks judged at "
        f"{s.now:%Y-%m-%d %H:%M} UTC.",
    ]
    if s.proposed:
        lines.append(
            "Proposed response targets: "
            + ", ".join(f"{p} {format_duration(v)}" for p, v in s.proposed.items())
            + " (other priorities keep each clock's own target)."
        )
    else:
        lines.append("No target proposed: every clock keeps its own target.")
    header = (
        "priority",
        "clocks",
        "breached now",
        "proposed",
        "change",
        "rate now",
        "rate proposed",
        "rate change",
    )
    rows = [header]
    for f in [*s.by_priority, s.total]:
        rows.append(
            (
                f.priority,
                str(f.clocks),
                str(f.breached_now),
                str(f.breached_proposed),
                _signed(f.breach_change),
                format_rate(f.rate_now),
                format_rate(f.rate_proposed),
                _signed_rate(f.rate_change),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines.append("")
    for index, row in enumerate(rows):
        if index == len(rows) - 1:
            lines.append("  ".join("-" * w for w in widths))
        lines.append(
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
    flips = s.flips
    lines.append("")
    if not flips:
        lines.append("No handoff's verdict would change.")
        return "\n".join(lines)
    lines.append(f"Handoffs whose verdict would change ({len(flips)}):")
    for c in flips:
        stopped = (
            f"{c.stopped_at:%Y-%m-%d %H:%M}"
            if c.stopped_at
            else ("paused" if c.paused else "still running")
        )
        lines.append(
            f"  {c.change}: ticket {c.ticket_id} stint {c.stint_id} "
            f"({c.priority}) due {c.stored_due_at:%Y-%m-%d %H:%M} -> "
            f"{c.proposed_due_at:%Y-%m-%d %H:%M}, stopped {stopped} "
            f"(target {format_duration(c.stored_target_seconds)} -> "
            f"{format_duration(c.proposed_target_seconds)})"
        )
    lines.append("Times are UTC.")
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Replay a department's response clocks for a period against proposed "
        "targets and report how breach counts and rates would change. "
        "Stores nothing."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--department", required=True, help="Department code, e.g. FIN."
        )
        parser.add_argument(
            "--period",
            choices=PERIODS,
            default="week",
            help="Scorecard period (default: week).",
        )
        parser.add_argument(
            "--start",
            help="A day in the period, e.g. 2026-11-16 (default: the current "
            "period in the department's timezone).",
        )
        parser.add_argument(
            "--response",
            action="append",
            default=[],
            metavar="PRIORITY=DURATION",
            help="Proposed response target, e.g. normal=2h, high=30m, "
            "low=1h30m (repeatable).",
        )
        parser.add_argument(
            "--scenario", help="Only the handoffs of this scenario's scorecard."
        )
        parser.add_argument(
            "--json", action="store_true", help="Print machine-readable JSON."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            targets = parse_targets(options["response"])
            period = options["period"]
            department = options["department"]
            start = (
                _date(options["start"])
                if options["start"]
                else default_start(department, period)
            )
            simulation = simulate_policy(
                department=department,
                period=period,
                start=start,
                response=targets,
                scenario=options["scenario"],
            )
        except WhatIfError as error:
            raise CommandError(error.message) from None
        if options["json"]:
            self.stdout.write(json.dumps(simulation.as_dict(), indent=2))
        else:
            self.stdout.write(render(simulation))
