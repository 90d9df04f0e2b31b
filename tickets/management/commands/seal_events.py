"""Seal the events written before Baton sealed its log (run by
``migrate``; safe to run again)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tickets.application import get_tickets_application
from tickets.integrity import seal_legacy_events


class Command(BaseCommand):
    help = (
        "Seal events written before sealing existed (those before the first "
        "sealed event). Later unsealed events are left for verify_events."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = seal_legacy_events(get_tickets_application())
        self.stdout.write(f"Sealed {count} event(s).")
