"""audit_projections: the read models, re-derived from the log, must
match what is stored; any tampering is reported and fails the command."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from sla import services as sla_services
from tests.helpers import Org
from tests.tickets.test_projections import rich_history
from tickets import clock
from tickets.models import Handoff, SLAClock, TicketSummary, TimelineEntry


def test_an_untouched_read_model_passes_the_audit(org: Org, capsys: Any) -> None:
    with time_machine.travel(clock.now() - timedelta(days=3), tick=False):
        sla_services.policy_version_create(
            department=org.departments["FIN"],
            response_low=timedelta(hours=8),
            response_normal=timedelta(hours=4),
            response_high=timedelta(hours=2),
            response_urgent=timedelta(hours=1),
        )
    rich_history(org)
    assert SLAClock.objects.exists()
    call_command("audit_projections")
    assert "Audit passed: ticket_summary, handoff, timeline, sla_clock" in (
        capsys.readouterr().out
    )


def test_tampered_missing_and_invented_rows_are_reported(org: Org, capsys: Any) -> None:
    rich_history(org)
    ticket = TicketSummary.objects.order_by("opened_at").first()
    assert ticket is not None
    TicketSummary.objects.filter(pk=ticket.pk).update(owner="PROD", handoff_count=9)
    entry = TimelineEntry.objects.order_by("position").last()
    assert entry is not None
    TimelineEntry.objects.filter(pk=entry.pk).delete()
    stint = Handoff.objects.first()
    assert stint is not None
    invented = Handoff.objects.get(pk=stint.pk)
    invented.pk = "00000000-0000-0000-0000-000000000001"
    invented.save(force_insert=True)

    with pytest.raises(CommandError, match="Audit failed: 3 difference"):
        call_command("audit_projections")
    out = capsys.readouterr().out
    assert (
        f"TicketSummary {ticket.pk}: handoff_count: stored 9, events say 1, "
        "owner: stored 'PROD', events say 'FIN'"
    ) in out
    assert f"TimelineEntry {entry.position}: missing from the read model" in out
    assert (
        "Handoff 00000000-0000-0000-0000-000000000001: not derived from any event"
        in out
    )
