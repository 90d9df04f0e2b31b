"""Replay the stored history to measure routing suggestions honestly.

Trains on everything before the last ``--weeks`` (default 2) weeks of
stints and, for each ticket first handed off from the front line in those
held-out weeks, compares against the department that finally resolved it
(the last stint that resolved it and was not reopened):

* the suggestion ``sla.routing`` makes from only the stints received and
  finished before that handoff (and the load at that moment: tickets each
  department owned then, its members now, its calendar then);
* the baseline, "the scenario's usual owner": the catalogue's owner, else
  the department that resolved the scenario most often in training.

It also counts the bounces and breaches of held-out tickets whose actual
first target matched the suggestion against those where it differed.
``--json`` prints the figures as JSON (the benchmark stores them).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Count

from departments.models import Department, Membership
from sla.routing import (
    Candidate,
    Load,
    catalogue_for,
    rank_departments,
    usual_owner,
    working_hours,
)
from sla.routing_history import WINDOW, FactRow, history_from_rows, load_fact_rows


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def evaluate(weeks: int = 2) -> dict[str, Any]:
    """The evaluation's figures (see the module's docstring)."""
    rows = load_fact_rows()
    if not rows:
        return {"tickets": 0, "note": "No stints in the log."}
    end = max(r.received_at for r in rows)
    cut = end - timedelta(weeks=weeks)
    front = set(Department.objects.front_line().values_list("code", flat=True))
    departments = list(
        Department.objects.active().order_by("code").values_list("code", "name")
    )
    members = dict(
        Membership.objects.filter(user__is_active=True)
        .values_list("department__code")
        .annotate(n=Count("pk"))
    )
    by_ticket: dict[UUID, list[FactRow]] = defaultdict(list)
    reopened_at: dict[UUID, list[datetime]] = defaultdict(list)
    for row in rows:
        by_ticket[row.ticket_id].append(row)
        if row.kind == "reopen":
            reopened_at[row.ticket_id].append(row.received_at)
    training = [r for r in rows if r.received_at < cut]
    train_history = history_from_rows(training, until=cut, reopened_at=reopened_at)
    catalogues: dict[str, Any] = {}
    outcome: dict[str, Any] = {
        "tickets": 0,
        "unresolved": 0,
        "suggestion_hits": 0,
        "baseline_hits": 0,
        "no_baseline": 0,
        "followed": {"tickets": 0, "bounces": 0, "breaches": 0},
        "against": {"tickets": 0, "bounces": 0, "breaches": 0},
    }
    for stints in by_ticket.values():
        first = next(
            (s for s in stints if s.kind == "handoff" and s.from_department in front),
            None,
        )
        if first is None or first.received_at < cut:
            continue
        final = [
            s
            for s in stints
            if s.ended_how == "resolved" and s.reopened_position is None
        ]
        if not final:
            outcome["unresolved"] += 1
            continue
        resolver = final[-1].department
        at = first.received_at
        scenario = first.scenario
        if scenario not in catalogues:
            catalogues[scenario] = catalogue_for(scenario)
        catalogue = catalogues[scenario]
        candidates = [
            Candidate(code, name)
            for code, name in departments
            if code != first.from_department
        ]
        history = history_from_rows(rows, until=at, reopened_at=reopened_at)
        _, _, ranked = rank_departments(
            history,
            scenario=scenario,
            candidates=candidates,
            catalogue=catalogue,
            loads=_loads_at(rows, [c.code for c in candidates], at, members),
            weeks=WINDOW.days // 7,
        )
        suggested = ranked[0].code if ranked else ""
        baseline = usual_owner(
            train_history, scenario, catalogue, [c.code for c in candidates]
        )
        outcome["tickets"] += 1
        outcome["suggestion_hits"] += suggested == resolver
        outcome["baseline_hits"] += baseline == resolver
        outcome["no_baseline"] += not baseline
        group = outcome["followed" if first.department == suggested else "against"]
        group["tickets"] += 1
        group["bounces"] += sum(s.bounced_position is not None for s in stints)
        group["breaches"] += sum(s.verdict == "breached" for s in stints)
    outcome["suggestion_hit_rate"] = _rate(
        outcome["suggestion_hits"], outcome["tickets"]
    )
    outcome["baseline_hit_rate"] = _rate(outcome["baseline_hits"], outcome["tickets"])
    for group in ("followed", "against"):
        g = outcome[group]
        g["bounces_per_ticket"] = _rate(g["bounces"], g["tickets"])
        g["breaches_per_ticket"] = _rate(g["breaches"], g["tickets"])
    outcome["held_out_weeks"] = weeks
    outcome["held_out_from"] = cut.isoformat()
    outcome["training_stints"] = len(training)
    outcome["ships"] = (outcome["suggestion_hit_rate"] or 0) >= (
        outcome["baseline_hit_rate"] or 0
    )
    return outcome


def _loads_at(
    rows: list[FactRow], codes: list[str], at: datetime, members: dict[str, int]
) -> dict[str, Load]:
    open_counts: dict[str, int] = defaultdict(int)
    for row in rows:
        if row.received_at <= at and (row.ended_at is None or row.ended_at > at):
            open_counts[row.department] += 1
    return {
        code: Load(
            open_tickets=open_counts[code],
            members=members.get(code, 0),
            **working_hours(code, at),
        )
        for code in codes
    }


class Command(BaseCommand):
    help = (
        "Replay the history with the last weeks held out and report how often "
        "the routing suggestion names the department that finally resolved the "
        "ticket, against the scenario's usual owner."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--weeks", type=int, default=2)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        result = evaluate(options["weeks"])
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2))
            return
        if not result["tickets"]:
            self.stdout.write("No held-out tickets to evaluate.")
            return
        self.stdout.write(
            f"Held-out tickets (first handed off from the front line since "
            f"{result['held_out_from']}): {result['tickets']} "
            f"({result['unresolved']} unresolved left out)"
        )
        self.stdout.write(
            f"Suggestion hit rate: {result['suggestion_hit_rate']:.1%} "
            f"({result['suggestion_hits']})"
        )
        self.stdout.write(
            f"Usual-owner baseline hit rate: {result['baseline_hit_rate']:.1%} "
            f"({result['baseline_hits']})"
        )
        for group, label in (
            ("followed", "First target matched the suggestion"),
            ("against", "First target differed"),
        ):
            g = result[group]
            self.stdout.write(
                f"{label}: {g['tickets']} tickets, {g['bounces']} bounces, "
                f"{g['breaches']} breaches"
            )
        self.stdout.write(
            "Ships: yes"
            if result["ships"]
            else "Ships: NO (worse than the usual owner; set "
            "ROUTING_PORT=sla.routing.UsualOwnerRouting)"
        )
