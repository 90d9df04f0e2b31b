"""The projector process: follow the event log and keep a projection
group's read models up to date, exactly once, until stopped."""

from __future__ import annotations

import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from tickets.application import get_tickets_application
from tickets.projection_runner import (
    Followed,
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
        # Requests project the inline groups themselves, the projector only
        # what they leave (every PROJECTOR_INLINE_INTERVAL); the others
        # (scorecards, outboxes) are its alone, in batches.
        groups = [
            Followed(
                projection_group(name),
                interval=settings.BATON_PROJECTOR_INLINE_INTERVAL
                if name in settings.BATON_INLINE_PROJECTION_GROUPS
                else settings.BATON_PROJECTOR_BATCH_INTERVAL,
            )
            for name in ([group] if group else settings.BATON_PROJECTION_GROUPS)
        ]
        names = ", ".join(p.name for g in groups for p in g.projections)
        if once:
            count = max(catch_up(app, g.projections) for g in groups)
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
            groups,
            poll_interval=poll_interval,
            should_stop=lambda: stopping,
            on_batch=on_batch,
        )
        self.stdout.write("Projector stopped.")
