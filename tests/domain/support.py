"""Narrative helpers and a fake SLA port for pure domain tests.

No database, no Django: the aggregate is driven by its commands and
rebuilt from its own events, exactly as the repository would rebuild it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tickets.domain import (
    Actor,
    ClockTerms,
    DepartmentRef,
    Ticket,
    TicketError,
)

#: Monday 2 March 2026, 09:00 UTC.
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = 3600.0
M = 60.0

CS = DepartmentRef("CS", "Customer Service", front_line=True)
FIN = DepartmentRef("FIN", "Finance")
LOG = DepartmentRef("LOG", "Logistics")
RISK = DepartmentRef("RISK", "Risk Control")

cs_agent = Actor("user", "1", "Cara Smith", "Cara", "CS")
cs_lead = Actor("user", "5", "Lee Chief", "Lee", "CS")
fin_agent = Actor("user", "2", "Finn Jones", "Finn", "FIN")
log_agent = Actor("user", "3", "Lola Brown", "Lola", "LOG")
risk_agent = Actor("user", "4", "Rita Green", "Rita", "RISK")
customer = Actor("customer", "CUST-1", "Dana Customer", "Dana")
sweeper = Actor.system("SLA sweep")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@dataclass
class FakeSLAPort:
    """Business time every day from ``opens`` to ``closes`` o'clock UTC
    (round the clock by default), and response/resolution targets by
    department in seconds. Departments without a target run no clock of
    that kind; those in ``never_pause`` keep running while waiting."""

    targets: dict[tuple[str, str], float] = field(
        default_factory=lambda: {
            ("response", "CS"): 1 * H,
            ("resolution", "CS"): 8 * H,
            ("response", "FIN"): 2 * H,
            ("resolution", "FIN"): 4 * H,
            ("response", "RISK"): 1 * H,
        }
    )
    opens: int = 0
    closes: int = 24
    warn_fraction: float = 0.75
    never_pause: frozenset[str] = frozenset({"RISK"})
    policy_version: int = 3
    calendar_version: int = 7

    def _window(self, day: datetime) -> tuple[datetime, datetime]:
        midnight = day.replace(hour=0, minute=0, second=0, microsecond=0)
        return (
            midnight + timedelta(hours=self.opens),
            midnight + timedelta(hours=self.closes),
        )

    def business_seconds(
        self, *, department: str, calendar_version: int, start: datetime, end: datetime
    ) -> float:
        total = 0.0
        day = start
        while day < end + timedelta(days=1):
            opens, closes = self._window(day)
            overlap = (min(end, closes) - max(start, opens)).total_seconds()
            total += max(0.0, overlap)
            day += timedelta(days=1)
        return total

    def shift(
        self,
        *,
        department: str,
        calendar_version: int,
        instant: datetime,
        seconds: float,
    ) -> datetime:
        assert seconds > 0, "the domain never asks to shift by nothing"
        remaining = timedelta(seconds=seconds)
        day = instant
        while True:
            opens, closes = self._window(day)
            begin = max(instant, opens)
            if begin < closes:
                if remaining <= closes - begin:
                    return begin + remaining
                remaining -= closes - begin
            day += timedelta(days=1)

    def terms(
        self,
        *,
        kind: str,
        department: str,
        priority: str,
        scenario: str,
        start: datetime,
    ) -> ClockTerms | None:
        target = self.targets.get((kind, department))
        if target is None:
            return None
        shift = {"department": department, "calendar_version": self.calendar_version}
        return ClockTerms(
            target_seconds=target,
            due_at=self.shift(instant=start, seconds=target, **shift),
            warn_at=self.shift(
                instant=start, seconds=target * self.warn_fraction, **shift
            ),
            policy_version=self.policy_version,
            calendar_version=self.calendar_version,
            pauses_on_waiting=department not in self.never_pause,
        )


def open_ticket(sla: FakeSLAPort | None, **overrides: Any) -> Ticket:
    fields: dict[str, Any] = {
        "subject": "Refund not received",
        "description": "Returned two weeks ago",
        "customer_ref": "CUST-1",
        "channel": "web",
        "front_line": CS,
        "actor": cs_agent,
        "at": T0,
        "sla": sla,
    }
    fields.update(overrides)
    return Ticket.open(**fields)


Step = Callable[[Ticket], Any]


def given(sla: FakeSLAPort | None, *steps: Step, **opening: Any) -> Ticket:
    """Open a ticket, run ``steps`` (commands), and return the aggregate
    rebuilt from the resulting events, with nothing pending."""
    ticket = open_ticket(sla, **opening)
    for step in steps:
        step(ticket)
    events = ticket.collect_events()
    rebuilt: Any = None
    for event in events:
        rebuilt = event.mutate(rebuilt)
    assert rebuilt.version == len(events)
    assert isinstance(rebuilt, Ticket)
    return rebuilt


def when(ticket: Ticket, command: Step) -> list[Any]:
    """Run a command; the events it triggered."""
    command(ticket)
    return list(ticket.collect_events())


def rejected(ticket: Ticket, command: Step) -> TicketError:
    """Run a command that must fail; assert it stored nothing."""
    version = ticket.version
    with pytest.raises(TicketError) as info:
        command(ticket)
    assert ticket.pending_events == []
    assert ticket.version == version
    return info.value


def of_type(events: list[Any], cls: type) -> list[Any]:
    return [e for e in events if isinstance(e, cls)]


def names(events: list[Any]) -> list[str]:
    return [type(e).__name__ for e in events]
