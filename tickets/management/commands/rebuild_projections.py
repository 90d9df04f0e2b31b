"""Rebuild read models from position 0 of the event log."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from tickets.application import get_tickets_application
from tickets.projection_runner import projection_group, rebuild


class Command(BaseCommand):
    help = (
        "Rebuild a projection group's read models from the whole event log "
        "(in-memory fold, bulk writes, one transaction)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--group", default="core")

    def handle(self, *args: Any, group: str, **options: Any) -> None:
        projections = projection_group(group)
        started = time.perf_counter()
        count = rebuild(get_tickets_application(), projections)
        elapsed = time.perf_counter() - started
        rate = count / elapsed if elapsed > 0 else 0.0
        names = ", ".join(p.name for p in projections)
        self.stdout.write(
            f"Rebuilt {names} from {count} events in {elapsed:.2f}s "
            f"({rate:,.0f} events/s)."
        )
