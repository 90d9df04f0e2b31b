"""Check the read models against the event log: fold the whole log in
memory and compare every row; exit non-zero on any difference."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tickets.application import get_tickets_application
from tickets.management.commands.verify_events import verify_or_fail
from tickets.projection_runner import audit, projection_group


class Command(BaseCommand):
    help = "Recompute the read models from the event log in memory and compare."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--group", default="core")
        parser.add_argument("--limit", type=int, default=100)

    def handle(self, *args: Any, group: str, limit: int, **options: Any) -> None:
        verify_or_fail(self)
        projections = [p for p in projection_group(group) if p.rebuildable]
        differences = audit(get_tickets_application(), projections, limit=limit)
        names = ", ".join(p.name for p in projections)
        if not differences:
            self.stdout.write(f"Audit passed: {names} match the event log.")
            return
        for difference in differences:
            self.stdout.write(
                f"{difference.model} {difference.key}: {difference.problem}"
            )
        raise CommandError(
            f"Audit failed: {len(differences)} difference(s) in {names}."
        )
