"""Plausible ticket histories, generated through the real Ticket aggregate.

Used for the demo's weeks of history, the randomized scorecard audit test
and the benchmarks. Every ticket lives its whole life in memory (the same
domain commands staff and customers use, with the SLA port, so clocks,
pauses, breaches, ratings and disputes are genuine events) and tickets
are saved in batches. Deterministic for a given seed.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tickets.application import TicketsApplication
from tickets.domain import (
    Actor,
    ActorKind,
    DepartmentRef,
    RootCause,
    SLAPort,
    Status,
    Ticket,
)
from tickets.services import principal_for_customer

SCENARIOS = ("REFUND", "DOUBLE_CHARGE", "LOST_PARCEL", "ACCOUNT_LOCKED", "APP_BUG")
#: SCENARIOS as the scenario catalogue has them (``catalogue_scenarios``
#: adds them): code -> (name, the department that usually resolves it,
#: parent code).
SCENARIO_CATALOGUE = {
    "REFUND": ("Refund", "FIN", ""),
    "DOUBLE_CHARGE": ("Double charge", "FIN", "REFUND"),
    "LOST_PARCEL": ("Lost parcel", "LOG", ""),
    "ACCOUNT_LOCKED": ("Account locked", "RISK", ""),
    "APP_BUG": ("App bug", "PROD", ""),
}
#: The product areas product defects name, by scenario.
PRODUCT_AREAS = {
    "APP_BUG": ("Checkout", "Login", "Invoices"),
    "DOUBLE_CHARGE": ("Payments",),
    "REFUND": ("Refunds",),
}
PRIORITIES = (("low", 2), ("normal", 6), ("high", 2), ("urgent", 1))
CHANNELS = ("web", "app", "chat", "email", "phone")
COMMENTS = {
    1: ("Nobody told me anything for days.", "Still no refund, very unhappy."),
    2: ("Slow and I had to repeat myself.", "Answer did not help."),
    3: ("It was fine.", ""),
    4: ("Quick and clear, thanks.", ""),
    5: ("Excellent, solved at once!", "Very kind agent."),
}


def catalogue_scenarios(*, user: Any = None) -> list[str]:
    """Add the simulated scenarios the catalogue lacks (with their owner
    when that department exists), before generating history that uses
    them; returns the codes added. Needs the database."""
    from departments.models import Department, Scenario
    from departments.services import scenario_create

    existing = set(Scenario.objects.values_list("code", flat=True))
    departments = {d.code: d for d in Department.objects.all()}
    added = []
    for code, (name, owner, parent) in SCENARIO_CATALOGUE.items():
        if code not in existing:
            scenario_create(
                code,
                name,
                owner=departments.get(owner),
                parent=Scenario.objects.filter(code=parent).first() if parent else None,
                user=user,
            )
            added.append(code)
    return added


@dataclass(frozen=True)
class Staff:
    """Who works a department in the simulation."""

    department: DepartmentRef
    agent: Actor
    lead: Actor


def synthetic_staff(departments: Sequence[DepartmentRef]) -> dict[str, Staff]:
    """Actors for departments without real users (tests, benchmarks)."""
    staff = {}
    for ref in departments:
        code = ref.code

        def actor(role: str, code: str = code) -> Actor:
            return Actor(
                kind=ActorKind.USER,
                id=f"{code.lower()}-{role}",
                name=f"{code} {role}",
                short_name=f"{code.title()} {role}",
                department=code,
            )

        staff[code] = Staff(department=ref, agent=actor("agent"), lead=actor("lead"))
    return staff


@dataclass
class _Life:
    """One ticket being lived: the aggregate and its moving clock."""

    ticket: Ticket
    now: datetime
    rnd: random.Random
    sla: SLAPort | None
    finished_stints: list[Any] = field(default_factory=list)

    def later(self, low_minutes: float, high_minutes: float) -> datetime:
        self.now += timedelta(minutes=self.rnd.uniform(low_minutes, high_minutes))
        return self.now


@dataclass
class HistoryGenerator:
    """Generates tickets opened between ``start`` and ``end``; no event is
    later than ``end``. ``staff`` maps department codes to their actors;
    exactly one department must be the front line."""

    staff: dict[str, Staff]
    start: datetime
    end: datetime
    seed: int = 7
    sla: SLAPort | None = None
    customers: int = 500

    def __post_init__(self) -> None:
        self.rnd = random.Random(self.seed)  # noqa: S311 (simulation, not security)
        front = [s for s in self.staff.values() if s.department.front_line]
        if len(front) != 1:
            raise ValueError("Exactly one front-line department is needed.")
        self.front = front[0]
        self.back = [s for s in self.staff.values() if not s.department.front_line]

    def tickets(self, count: int) -> Iterator[Ticket]:
        span = (self.end - self.start).total_seconds()
        for _ in range(count):
            opened = self.start + timedelta(seconds=self.rnd.uniform(0, span * 0.97))
            yield self._live(opened)

    def save(self, app: TicketsApplication, count: int, *, batch: int = 200) -> int:
        """Generate ``count`` tickets and save them; returns events stored."""
        stored = 0
        pending: list[Ticket] = []
        for ticket in self.tickets(count):
            pending.append(ticket)
            if len(pending) >= batch:
                stored += app.save_tickets(pending)
                pending = []
        if pending:
            stored += app.save_tickets(pending)
        return stored

    # -- one ticket's life -------------------------------------------------

    def _live(self, opened: datetime) -> Ticket:
        rnd = self.rnd
        customer = rnd.randrange(self.customers)
        ticket = Ticket.open(
            subject=f"{rnd.choice(SCENARIOS).replace('_', ' ').title()} case",
            description="Generated history.",
            customer_ref=f"SIM-{customer:05d}",
            customer_name=f"Customer {customer}",
            customer_timezone="Europe/Paris",
            channel=rnd.choice(CHANNELS),
            scenario=rnd.choice(SCENARIOS),
            priority=rnd.choices(
                [p for p, _ in PRIORITIES], weights=[w for _, w in PRIORITIES]
            )[0],
            front_line=self.front.department,
            actor=self.front.agent,
            at=opened,
            sla=self.sla,
        )
        life = _Life(ticket=ticket, now=opened, rnd=rnd, sla=self.sla)
        with contextlib.suppress(_OutOfTime):
            self._work(life)
        self._follow_up(life)
        return ticket

    def _follow_up(self, life: _Life) -> None:
        """The service team calls back most dissatisfied customers and closes
        their follow-ups; about one in six stays open (some overdue), so the
        inbox has work in it. Its own random stream and clock: the rest of
        the history is the same with or without follow-ups."""
        ticket = life.ticket
        seed = f"{self.seed}:{ticket.customer_ref}:{ticket.created_on.isoformat()}"
        rnd = random.Random(seed)  # noqa: S311 - a demo, not a secret
        at = life.now
        for follow_up in list(ticket.follow_ups.values()):
            if follow_up.status != "open" or rnd.random() < 0.17:
                continue
            at += timedelta(hours=rnd.uniform(1, 30))
            done = at + timedelta(minutes=rnd.uniform(10, 180))
            if done >= self.end:
                return
            ticket.record_follow_up_contact(
                follow_up_id=follow_up.id,
                method=rnd.choice(["phone", "phone", "email", "chat"]),
                actor=self.front.lead,
                at=at,
                service_team=True,
            )
            ticket.close_follow_up(
                follow_up_id=follow_up.id,
                outcome=rnd.choice(
                    ["resolved", "resolved", "no_action", "product_fix"]
                ),
                note="Called the customer back and explained what happened.",
                actor=self.front.lead,
                at=done,
                service_team=True,
            )
            at = done

    def _at(self, life: _Life, low: float, high: float) -> datetime:
        at = life.later(low, high)
        if at >= self.end:
            raise _OutOfTime
        return at

    def _owner(self, life: _Life) -> Staff:
        return self.staff[life.ticket.owner]

    def _work(self, life: _Life) -> None:
        rnd, ticket = life.rnd, life.ticket
        if rnd.random() < 0.1:
            ticket.change_priority(
                priority="high" if ticket.priority != "high" else "urgent",
                actor=self.front.agent,
                at=self._at(life, 1, 20),
            )
        transfers = 0
        while True:
            owner = self._owner(life)
            front = owner is self.front
            if rnd.random() < (0.75 if not front else 0.15):
                ticket.respond(
                    body="We are looking into it.",
                    actor=owner.agent,
                    at=self._at(life, 5, 60 * (3 if not front else 0.5)),
                    sla=self.sla,
                )
                if not front and rnd.random() < 0.25:
                    ticket.wait_on_customer(
                        reason="Need a document",
                        actor=owner.agent,
                        at=self._at(life, 5, 60),
                    )
                    ticket.record_customer_reply(
                        body="Here it is.",
                        actor=self._customer(ticket),
                        at=self._at(life, 30, 60 * 30),
                        sla=self.sla,
                    )
            move = rnd.random()
            if transfers < 6 and move < (0.85 if front else 0.3):
                target = self._next_department(life, owner)
                ticket.hand_off(
                    to=target.department,
                    reason="Needs the other team",
                    actor=owner.agent,
                    at=self._at(life, 10, 60 * (1 if front else 12)),
                    sla=self.sla,
                )
                transfers += 1
                continue
            if rnd.random() < 0.1 and ticket.scenario != "REFUND":
                ticket.change_scenario(
                    scenario="REFUND", actor=self.front.agent, at=self._at(life, 1, 30)
                )
            cause = rnd.choice(list(RootCause)).value
            areas = PRODUCT_AREAS.get(ticket.scenario, ())
            ticket.resolve(
                resolution="Done.",
                root_cause=cause,
                # Product defects name a product area, chosen from the
                # ticket id (drawing from rnd would change every history).
                product_area=areas[ticket.id.int % len(areas)]
                if cause == RootCause.PRODUCT_DEFECT and areas
                else "",
                actor=owner.agent,
                at=self._at(life, 30, 60 * 20),
                sla=self.sla,
            )
            self._rate(life)
            if ticket.status == Status.RESOLVED and rnd.random() < 0.08:
                ticket.reopen(
                    reason="Still broken",
                    actor=self._customer(ticket),
                    at=self._at(life, 60, 60 * 48),
                    sla=self.sla,
                )
                continue
            break
        self._dispute(life)
        if rnd.random() < 0.5:
            ticket.close(actor=self.front.agent, at=self._at(life, 60, 60 * 72))

    def _next_department(self, life: _Life, owner: Staff) -> Staff:
        rnd, ticket = life.rnd, life.ticket
        stint = ticket.current_stint
        came_from = stint.from_department if stint else None
        if came_from and rnd.random() < 0.2:
            return self.staff[came_from]  # a bounce, or the ping-pong begins
        choices = [s for s in self.back if s is not owner]
        if owner is not self.front and rnd.random() < 0.3:
            return self.front
        return rnd.choice(choices)

    def _customer(self, ticket: Ticket) -> Actor:
        return principal_for_customer(
            customer_ref=ticket.customer_ref, name=ticket.customer_name
        ).actor_for(None)

    def _rate(self, life: _Life) -> None:
        rnd, ticket = life.rnd, life.ticket
        for stint in list(ticket.stints.values()):
            if stint.is_finished and not stint.rated and rnd.random() < 0.45:
                score = rnd.choices([1, 2, 3, 4, 5], weights=[1, 1, 2, 4, 5])[0]
                ticket.rate_handoff(
                    handoff_id=stint.id,
                    score=score,
                    comment=rnd.choice(COMMENTS[score]),
                    actor=self._customer(ticket),
                    at=self._at(life, 5, 60 * 24),
                )

    def _dispute(self, life: _Life) -> None:
        rnd, ticket = life.rnd, life.ticket
        for stint in list(ticket.stints.values()):
            clock = ticket.clocks.get(stint.id)
            disputes = []
            if clock is not None and clock.breached and rnd.random() < 0.25:
                disputes.append("breach")
            if stint.rated and rnd.random() < 0.1:
                disputes.append("rating")
            for subject in disputes:
                dispute_id = ticket.dispute(
                    handoff_id=stint.id,
                    subject=subject,
                    reason="Caused by another team",
                    actor=self.staff[stint.department].lead,
                    at=self._at(life, 30, 60 * 24),
                )
                if rnd.random() < 0.8:
                    ticket.decide_dispute(
                        dispute_id=dispute_id,
                        decision=rnd.choice(["accepted", "waived"]),
                        reason="Checked the timeline",
                        actor=self.front.lead,
                        at=self._at(life, 30, 60 * 24),
                        is_lead=True,
                    )


#: Follow-up outcomes in the generated history, resolved most often.
OUTCOMES = ["resolved", "resolved", "no_action", "product_fix"]


class _OutOfTime(Exception):
    """The ticket's life reached the end of the simulated period."""
