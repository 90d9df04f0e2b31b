"""The projector process: follow the event log and keep a projection
group's read models up to date, exactly once, until stopped."""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from tickets.application import get_tickets_application
from tickets.projection_runner import (
    all_projections,
    catch_up,
    follow,
    projection_group,
)


class Command(BaseCommand):
    help = "Follow the event log and update the read models of a projection group."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--group", default="", help="Projection group to run (default: all)."
        )
        parser.add_argument(
            "--once", action="store_true", help="Catch up once, then exit."
        )
        parser.add_argument(
            "--poll-interval",
            type=float,
            default=0.5,
            help="Seconds between polls when idle (PostgreSQL wakes on NOTIFY).",
        )

    def handle(
        self, *args: Any, group: str, once: bool, poll_interval: float, **options: Any
    ) -> None:
        app = get_tickets_application()
        projections = projection_group(group) if group else all_projections()
        names = ", ".join(p.name for p in projections)
        if once:
            count = catch_up(app, projections)
            self.stdout.write(f"Projected {count} events into {names}.")
            return

        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"Following the event log for {names}.")

        def on_batch(count: int) -> None:
            close_old_connections()
            if options.get("verbosity", 1) > 1:
                self.stdout.write(f"Projected {count} events.")

        follow(
            app,
            projections,
            poll_interval=poll_interval,
            should_stop=lambda: stopping,
            on_batch=on_batch,
        )
        self.stdout.write("Projector stopped.")
