"""Recompute every department scorecard from the event log in memory and
compare it, figure by figure, with the stored read model. Prints every
difference and exits non-zero if there is any."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tickets.application import get_tickets_application
from tickets.management.commands.verify_events import verify_or_fail
from tickets.projection_runner import audit, positions_of, projection_group


class Command(BaseCommand):
    help = (
        "Recompute every scorecard (and the handoff facts behind it) from the "
        "event log in memory and compare with the stored read model."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--limit", type=int, default=1000, help="Stop after this many differences."
        )

    def handle(self, *args: Any, limit: int, **options: Any) -> None:
        verify_or_fail(self)
        app = get_tickets_application()
        projections = projection_group("scorecards")
        differences = audit(app, projections, limit=limit)
        position = min(positions_of(projections, app.name).values())
        behind = (app.recorder.max_notification_id() or 0) - position
        if not differences:
            from sla.models import Scorecard, ScorecardHandoff

            self.stdout.write(
                f"Audit passed: {Scorecard.objects.count()} scorecards and "
                f"{ScorecardHandoff.objects.count()} handoff facts match the "
                f"event log up to position {position}"
                + (
                    f" ({behind} later event{'s' * (behind != 1)} not projected yet)."
                    if behind
                    else "."
                )
            )
            return
        for difference in differences:
            self.stdout.write(
                f"{difference.model} {difference.key}: {difference.problem}"
            )
        raise CommandError(f"Scorecard audit failed: {len(differences)} difference(s).")
