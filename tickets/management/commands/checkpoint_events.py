"""Verify the events since the last checkpoint and take a new one, stored
beside the events and published (log line, checkpoint file)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tickets.application import get_tickets_application
from tickets.integrity import configured_checkpoint_file, take_checkpoint


class Command(BaseCommand):
    help = (
        "Verify the events after the last checkpoint, then store and publish "
        "a checkpoint of the whole log (EVENT_CHECKPOINT_FILE, and the log)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = take_checkpoint(
                get_tickets_application(), path=configured_checkpoint_file()
            )
        except ValueError as error:  # an unreadable published file
            raise CommandError(f"No checkpoint: {error}") from None
        if not report.ok:
            raise CommandError(f"No checkpoint: broken link at {report.problem}.")
        if report.checked == 0:
            self.stdout.write("No new events since the last checkpoint.")
            return
        self.stdout.write(
            f"Checkpoint at position {report.last_position}: {report.event_count} "
            f"events, log hash {report.log_hash.hex()}."
        )
