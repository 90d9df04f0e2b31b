"""Projections of clock events owned by the accountability side: the outbox
of warning and breach notifications, and department scorecards. (The clock
read model itself is ticket-level: ``tickets.projections.SLAClockProjection``.)"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import transaction

from sla.models import (
    Scorecard,
    ScorecardHandoff,
    ScorecardTicket,
    SLANotification,
)
from sla.scorecards import (
    ALL_SCENARIOS,
    FACT_FIELDS,
    bucket_keys,
    compute_figures,
    period_starts,
    scorecard_key,
)
from tickets.domain import Ticket
from tickets.projection_runner import Projection, ProjectionSession, handles


class SLANotificationProjection(Projection):
    """Writes one outbox row per warning or breach, in the same transaction
    as its tracking position (so exactly one), and enqueues the email after
    that transaction commits. The periodic sweep re-sends rows still unsent
    (a lost enqueue, a mail server outage)."""

    name = "sla_notification"
    models = (SLANotification,)
    rebuildable = False

    def _outbox(
        self, e: Any, position: int, session: ProjectionSession, kind: str
    ) -> None:
        session.append(
            SLANotification(
                position=position,
                ticket_id=e.originator_id,
                clock_id=e.clock_id,
                kind=kind,
                department=e.department,
                due_at=e.due_at,
                occurred_at=e.timestamp,
            )
        )

        def enqueue() -> None:
            from django_q.tasks import async_task

            async_task("sla.tasks.send_sla_notification", position)

        transaction.on_commit(enqueue)

    @handles(Ticket.SLAWarningIssued)
    def warning(
        self, e: Ticket.SLAWarningIssued, position: int, session: ProjectionSession
    ) -> None:
        self._outbox(e, position, session, SLANotification.Kind.WARNING)

    @handles(Ticket.SLABreached)
    def breach(
        self, e: Ticket.SLABreached, position: int, session: ProjectionSession
    ) -> None:
        self._outbox(e, position, session, SLANotification.Kind.BREACH)


class ScorecardProjection(Projection):
    """Department scorecards: one :class:`ScorecardHandoff` row per stint
    with every fact a scorecard counts (and the position of the event that
    decided it), and :class:`Scorecard` rows per department, period and
    scenario recomputed from those facts at the end of each batch. Facts
    come from the events alone: a stint's period is fixed by the
    timezone stored in the event that started it."""

    name = "scorecard"
    models = (ScorecardTicket, ScorecardHandoff, Scorecard)

    # -- helpers -------------------------------------------------------------

    def _fact(
        self, session: ProjectionSession, stint_id: Any
    ) -> ScorecardHandoff | None:
        fact = session.get(ScorecardHandoff, stint_id)
        if fact is not None:
            session.changed(fact)
            _mark(session, fact)
        return fact

    def _ticket(self, session: ProjectionSession, e: Any) -> ScorecardTicket:
        state = session.require(ScorecardTicket, e.originator_id)
        session.changed(state)
        return state

    def _receive(
        self,
        session: ProjectionSession,
        e: Any,
        position: int,
        *,
        stint_id: Any,
        kind: str,
        department: str,
        timezone: str,
        scenario: str,
        from_department: str = "",
        ping_pong: bool = False,
    ) -> None:
        starts = period_starts(e.timestamp, timezone)
        fact = ScorecardHandoff(
            id=stint_id,
            ticket_id=e.originator_id,
            department=department,
            kind=kind,
            from_department=from_department,
            scenario=scenario,
            timezone=timezone,
            received_at=e.timestamp,
            received_position=position,
            ping_pong_position=position if ping_pong else None,
            **starts,
        )
        session.add(fact)
        _mark(session, fact)

    # -- handlers ------------------------------------------------------------

    @handles(Ticket.Opened)
    def opened(
        self, e: Ticket.Opened, position: int, session: ProjectionSession
    ) -> None:
        session.add(
            ScorecardTicket(
                ticket_id=e.originator_id,
                scenario=e.scenario,
                current_stint_id=e.stint_id,
                transfers={},
            )
        )
        self._receive(
            session,
            e,
            position,
            stint_id=e.stint_id,
            kind="opened",
            department=e.department,
            timezone=e.department_timezone,
            scenario=e.scenario,
        )

    @handles(Ticket.HandedOff)
    def handed_off(
        self, e: Ticket.HandedOff, position: int, session: ProjectionSession
    ) -> None:
        state = self._ticket(session, e)
        previous = self._fact(session, e.from_stint_id)
        if previous is not None:
            previous.ended_how = "handed_on"
            previous.ended_at = e.timestamp
            previous.ended_position = position
            previous.handed_to = e.to_department
            if (
                e.to_department == previous.from_department
                and previous.responded_position is None
            ):
                previous.bounced_position = position
        pair = "|".join(sorted((e.from_department, e.to_department)))
        transfers = dict(state.transfers)
        transfers[pair] = transfers.get(pair, 0) + 1
        state.transfers = transfers
        state.current_stint_id = e.handoff_id
        self._receive(
            session,
            e,
            position,
            stint_id=e.handoff_id,
            kind="handoff",
            department=e.to_department,
            timezone=e.to_department_timezone,
            scenario=state.scenario,
            from_department=e.from_department,
            ping_pong=transfers[pair] == 3,
        )

    @handles(Ticket.Responded)
    def responded(
        self, e: Ticket.Responded, position: int, session: ProjectionSession
    ) -> None:
        fact = self._fact(session, e.stint_id)
        if fact is not None and fact.responded_position is None:
            fact.responded_at = e.timestamp
            fact.responded_position = position

    @handles(Ticket.Resolved)
    def resolved(
        self, e: Ticket.Resolved, position: int, session: ProjectionSession
    ) -> None:
        state = self._ticket(session, e)
        state.resolved_stint_id = e.stint_id
        state.current_stint_id = None
        fact = self._fact(session, e.stint_id)
        if fact is not None:
            fact.ended_how = "resolved"
            fact.ended_at = e.timestamp
            fact.ended_position = position
            fact.root_cause = e.root_cause

    @handles(Ticket.Reopened)
    def reopened(
        self, e: Ticket.Reopened, position: int, session: ProjectionSession
    ) -> None:
        state = self._ticket(session, e)
        if state.resolved_stint_id is not None:
            fact = self._fact(session, state.resolved_stint_id)
            if fact is not None and fact.reopened_position is None:
                fact.reopened_position = position
        state.resolved_stint_id = None
        state.current_stint_id = e.stint_id
        self._receive(
            session,
            e,
            position,
            stint_id=e.stint_id,
            kind="reopen",
            department=e.department,
            timezone=e.department_timezone,
            scenario=state.scenario,
        )

    @handles(Ticket.ScenarioChanged)
    def scenario_changed(
        self, e: Ticket.ScenarioChanged, position: int, session: ProjectionSession
    ) -> None:
        """The stint in progress moves to the new scenario (its department
        is working that scenario now); finished stints keep theirs."""
        state = self._ticket(session, e)
        state.scenario = e.scenario
        if state.current_stint_id is not None:
            fact = self._fact(session, state.current_stint_id)  # marks old buckets
            if fact is not None:
                fact.scenario = e.scenario
                _mark(session, fact)

    @handles(Ticket.ClockStarted)
    def clock_started(
        self, e: Ticket.ClockStarted, position: int, session: ProjectionSession
    ) -> None:
        if e.kind == "response" and e.stint_id is not None:
            fact = self._fact(session, e.stint_id)
            if fact is not None:
                fact.response_clock = True

    @handles(Ticket.SLABreached)
    def breached(
        self, e: Ticket.SLABreached, position: int, session: ProjectionSession
    ) -> None:
        if e.kind == "response":
            fact = self._fact(session, e.clock_id)
            if fact is not None and fact.verdict != "breached":
                fact.verdict = "breached"
                fact.verdict_position = position

    @handles(Ticket.ClockStopped)
    def clock_stopped(
        self, e: Ticket.ClockStopped, position: int, session: ProjectionSession
    ) -> None:
        # A stint's response clock has the stint's id; other clocks miss.
        fact = self._fact(session, e.clock_id)
        if fact is None:
            return
        if not e.breached and fact.verdict == "":
            fact.verdict = "met"
            fact.verdict_position = position
        if e.outcome == "responded":
            fact.response_seconds = e.business_seconds_used
            fact.response_seconds_position = position

    @handles(Ticket.HandoffRated)
    def rated(
        self, e: Ticket.HandoffRated, position: int, session: ProjectionSession
    ) -> None:
        fact = self._fact(session, e.handoff_id)
        if fact is not None:
            fact.rating_score = e.score
            fact.rating_comment = e.comment
            fact.rating_position = position

    @handles(Ticket.DisputeOpened, Ticket.DisputeDecided)
    def dispute(
        self,
        e: Ticket.DisputeOpened | Ticket.DisputeDecided,
        position: int,
        session: ProjectionSession,
    ) -> None:
        fact = self._fact(session, e.handoff_id)
        if fact is None:
            return
        decision = getattr(e, "decision", None)
        setattr(fact, f"{e.subject}_dispute", decision or "open")
        # The dispute's reason and the decision's are both kept (the trail).
        kept = "decision_reason" if decision else "dispute_reason"
        setattr(fact, f"{e.subject}_{kept}", e.reason)
        setattr(fact, f"{e.subject}_dispute_position", position)

    # -- the scorecards --------------------------------------------------------

    def finish(self, session: ProjectionSession) -> None:
        """Recompute the scorecards whose facts changed. Rebuild and audit
        fold every fact in memory; a batch re-reads each changed cohort."""
        if session.rebuilding:
            cohorts: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
            for fact in session.rows_of(ScorecardHandoff):
                for key in bucket_keys(fact):
                    cohorts[key].append(fact)
            for key, facts in cohorts.items():
                session.add(_scorecard(key, facts))
            return
        keys = session.marks.pop(self.name, set())
        if not keys:
            return
        # One query per (department, period, start): its scenarios are
        # split in memory.
        periods: dict[tuple[Any, ...], set[str]] = defaultdict(set)
        for department, period, start, scenario in keys:
            periods[(department, period, start)].add(scenario)
        rows = []
        for (department, period, start), scenarios in periods.items():
            facts = list(
                ScorecardHandoff.objects.filter(
                    department=department, **{period: start}
                ).values_list(*FACT_FIELDS, named=True)
            )
            for scenario in scenarios:
                cohort = [
                    f
                    for f in facts
                    if scenario == ALL_SCENARIOS or f.scenario == scenario
                ]
                if cohort:
                    rows.append(
                        _scorecard((department, period, start, scenario), cohort)
                    )
        Scorecard.objects.filter(key__in=[scorecard_key(*key) for key in keys]).delete()
        Scorecard.objects.bulk_create(rows, batch_size=500)


def _mark(session: ProjectionSession, fact: ScorecardHandoff) -> None:
    if not session.rebuilding:
        session.marks[ScorecardProjection.name].update(bucket_keys(fact))


def _scorecard(key: tuple[Any, ...], facts: list[Any]) -> Scorecard:
    department, period, start, scenario = key
    return Scorecard(
        key=scorecard_key(department, period, start, scenario),
        department=department,
        period=period,
        start=start,
        scenario=scenario,
        figures=compute_figures(facts),
    )
