"""Verify the ticket event log's seals and checkpoints; exit 1 at the
first broken link, 0 with the count checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tickets.application import get_tickets_application
from tickets.integrity import configured_checkpoint_file, read_published, verify_log


def published_checkpoints(path: str | None) -> tuple[list[Any], str]:
    """The published checkpoints to verify against: ``path``, else the
    configured checkpoint file if it exists ("" for none)."""
    chosen = path if path is not None else configured_checkpoint_file()
    if not chosen:
        return [], ""
    if not Path(chosen).exists():
        if path is not None:
            raise CommandError(f"No checkpoint file at {chosen}.")
        return [], ""
    try:
        return read_published(chosen), chosen
    except ValueError as error:
        raise CommandError(str(error)) from None


def verify_or_fail(command: BaseCommand, *, quiet: bool = False) -> None:
    """Verify the whole log against every stored and published checkpoint;
    raise CommandError at the first broken link (used before audits)."""
    published, source = published_checkpoints(None)
    report = verify_log(get_tickets_application(), published=published)
    if not report.ok:
        raise CommandError(
            f"Event log verification failed at {report.problem}. Read models "
            "cannot be audited against a log that was tampered with."
        )
    if not quiet:
        command.stdout.write(
            f"Event log verified: {report.checked} events"
            + (f", checkpoints published in {source}" if source else "")
            + "."
        )


class Command(BaseCommand):
    help = (
        "Check every event's seal and every checkpoint (stored, and published "
        "in the checkpoint file); report the first broken link and exit 1."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--since-last-checkpoint",
            action="store_true",
            help="Only walk the events after the last stored checkpoint.",
        )
        parser.add_argument(
            "--published",
            metavar="FILE",
            help="Published checkpoints (JSON lines) to verify against; "
            "default: EVENT_CHECKPOINT_FILE when it exists.",
        )

    def handle(
        self,
        *args: Any,
        since_last_checkpoint: bool,
        published: str | None,
        **options: Any,
    ) -> None:
        checkpoints, source = published_checkpoints(published)
        report = verify_log(
            get_tickets_application(),
            since_last_checkpoint=since_last_checkpoint,
            published=checkpoints,
        )
        if not report.ok:
            raise CommandError(f"Broken link at {report.problem}.")
        scope = f"after position {report.start}" if report.start else "from the start"
        self.stdout.write(
            f"Verified {report.checked} events {scope} (last position "
            f"{report.last_position}), {report.checkpoints_matched} checkpoint(s) "
            f"matched{f' (published: {source})' if source else ''}; log hash "
            f"{report.log_hash.hex()}."
        )
