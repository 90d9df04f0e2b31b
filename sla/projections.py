"""Projections of clock events owned by the accountability side: the outbox
of warning and breach notifications, and department scorecards. (The clock
read model itself is ticket-level: ``tickets.projections.SLAClockProjection``.)"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from typing import Any, cast
from weakref import WeakKeyDictionary

from django.db import connections, transaction
from django.db.models import Q

from sla.models import (
    Scorecard,
    ScorecardHandoff,
    ScorecardTicket,
    SLANotification,
)
from sla.scorecards import (
    ALL_SCENARIOS,
    PERIODS,
    SHAPE_FIELDS,
    Tally,
    bucket_keys,
    period_starts,
    scorecard_key,
    shape_from_values,
    shape_of,
)
from tickets.domain import Ticket
from tickets.projection_runner import Projection, ProjectionSession, handles

Key = tuple[str, str, date, str]  # (department, period, start, scenario)


class SLANotificationProjection(Projection):
    """Writes one outbox row per warning or breach, in the same transaction
    as its tracking position (so exactly one), and enqueues the email after
    that transaction commits. The periodic sweep re-sends rows still unsent
    (a lost enqueue, a mail server outage)."""

    name = "sla_notification"
    models = (SLANotification,)
    rebuildable = False

    def _outbox(
        self,
        e: Any,
        position: int,
        session: ProjectionSession,
        kind: str,
        *,
        clock_id: Any = None,
        due_at: Any = None,
    ) -> None:
        session.append(
            SLANotification(
                position=position,
                ticket_id=e.originator_id,
                clock_id=clock_id or e.clock_id,
                kind=kind,
                department=e.department,
                due_at=due_at or e.due_at,
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

    @handles(Ticket.StintStalled)
    def stalled(
        self, e: Ticket.StintStalled, position: int, session: ProjectionSession
    ) -> None:
        """A stall alerts the department: the stint stands in for the clock,
        the instant the quiet period passed the limit for the due time."""
        self._outbox(
            e,
            position,
            session,
            SLANotification.Kind.STALLED,
            clock_id=e.stint_id,
            due_at=e.stalled_at,
        )


class ScorecardProjection(Projection):
    """Department scorecards: one :class:`ScorecardHandoff` row per stint
    with every fact a scorecard counts (and the position of the event that
    decided it), and :class:`Scorecard` rows per department, period and
    scenario recomputed from those facts at the end of each batch. Facts
    come from the events alone: a stint's period is fixed by the
    timezone stored in the event that started it."""

    name = "scorecard"
    models = (ScorecardTicket, ScorecardHandoff, Scorecard)

    def __init__(self) -> None:
        #: An incremental batch's events, handled together in ``finish``.
        self._batches: WeakKeyDictionary[ProjectionSession, list[tuple[Any, int]]] = (
            WeakKeyDictionary()
        )

    def process(self, event: Any, position: int, session: ProjectionSession) -> None:
        """Rebuild and audit fold each event at once (nothing to look up:
        every row is in memory). A batch's events are kept and handled
        together in :meth:`finish`, once the rows they need are loaded in
        a few queries rather than one per handoff."""
        if session.rebuilding:
            super().process(event, position, session)
        elif type(event) in self._handlers:
            self._batches.setdefault(session, []).append((event, position))

    def _prefetch(self, events: list[Any], session: ProjectionSession) -> None:
        """Load every ticket state and handoff fact the events will look up
        (two queries, three when a ticket's state names a stint)."""
        tickets = {e.originator_id for e in events if type(e) in _TICKET_EVENTS}
        session.prefetch(ScorecardTicket, tickets)
        stints = set()
        for e in events:
            for name in _FACT_IDS.get(type(e), ()):
                stints.add(getattr(e, name))
        for ticket_id in tickets:
            state = session.get(ScorecardTicket, ticket_id)
            if state is not None:
                stints.update((state.current_stint_id, state.resolved_stint_id))
        stints.discard(None)
        session.prefetch(ScorecardHandoff, stints)

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
        received = session.get(ScorecardHandoff, e.handoff_id)
        if received is not None:
            received.suggested_department = e.suggested_department

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
            fact.product_area = e.product_area
            fact.root_cause_detail = e.root_cause_detail

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

    @handles(Ticket.StintStalled)
    def stint_stalled(
        self, e: Ticket.StintStalled, position: int, session: ProjectionSession
    ) -> None:
        """A stint counts as stalled once, from its first stall."""
        fact = self._fact(session, e.stint_id)
        if fact is not None and fact.stalled_position is None:
            fact.stalled_position = position

    @handles(Ticket.Closed)
    def closed(
        self, e: Ticket.Closed, position: int, session: ProjectionSession
    ) -> None:
        """Closed as abandoned ends the stint that waited on the customer."""
        if e.stint_id is None:
            return
        state = self._ticket(session, e)
        state.current_stint_id = None
        fact = self._fact(session, e.stint_id)
        if fact is not None:
            fact.ended_how = "abandoned"
            fact.ended_at = e.timestamp
            fact.ended_position = position
            fact.abandoned_position = position

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
        tally every fact in memory; a batch handles its events, writes its
        facts and recomputes every scorecard they touched from one query
        over those cohorts."""
        if session.rebuilding:
            tallies: dict[Key, Tally] = defaultdict(Tally)
            facts = cast(list[ScorecardHandoff], session.rows_of(ScorecardHandoff))
            for fact in facts:
                shape, seconds = shape_of(fact), fact.response_seconds
                for key in bucket_keys(fact):
                    tallies[key].add(shape, seconds)
            for key, found in tallies.items():
                session.add(_scorecard(key, found))
            return
        batch = self._batches.pop(session, [])
        if batch:
            self._prefetch([event for event, _ in batch], session)
            for event, position in batch:
                super().process(event, position, session)
            session.flush()
        keys = session.marks.pop(self.name, set())
        if keys:
            _recompute(keys)


#: Events whose handlers look up the ticket's scorecard state.
_TICKET_EVENTS = frozenset(
    {
        Ticket.HandedOff,
        Ticket.Resolved,
        Ticket.Reopened,
        Ticket.ScenarioChanged,
        Ticket.Closed,
    }
)
#: The attributes naming the handoff (stint) an event's handler looks up.
_FACT_IDS: dict[type, tuple[str, ...]] = {
    Ticket.HandedOff: ("from_stint_id",),
    Ticket.Responded: ("stint_id",),
    Ticket.Resolved: ("stint_id",),
    Ticket.ClockStarted: ("stint_id",),
    Ticket.SLABreached: ("clock_id",),
    Ticket.ClockStopped: ("clock_id",),
    Ticket.HandoffRated: ("handoff_id",),
    Ticket.StintStalled: ("stint_id",),
    Ticket.Closed: ("stint_id",),
    Ticket.DisputeOpened: ("handoff_id",),
    Ticket.DisputeDecided: ("handoff_id",),
}

#: What the recomputation reads of a fact: its cohorts, then its shape.
_COHORT_COLUMNS = ("department", "scenario", *PERIODS)
_SECONDS = len(_COHORT_COLUMNS) + SHAPE_FIELDS.index("response_seconds")


def _recompute(keys: set[Key]) -> None:
    """Recompute the scorecards ``keys`` from their cohorts' facts, read in
    one query (only the columns the figures need), and write them with
    one upsert; a scorecard whose cohort is now empty is deleted (a
    rebuild would not create it)."""
    cohorts = {(department, period, start) for department, period, start, _ in keys}
    starts: dict[tuple[str, str], set[date]] = defaultdict(set)
    for department, period, start in cohorts:
        starts[(department, period)].add(start)
    where = Q()
    for (department, period), dates in starts.items():
        where |= Q(department=department, **{f"{period}__in": sorted(dates)})
    tallies: dict[Key, Tally] = {}
    # The tallies a fact counts in depend only on its department, scenario
    # and day (its week and month follow from the day).
    targets: dict[tuple[str, str, date], list[Tally]] = {}

    def tallies_of(department: str, scenario: str, row: tuple[Any, ...]) -> list[Tally]:
        found = []
        for index, period in enumerate(PERIODS, start=2):
            for which in (scenario, ALL_SCENARIOS):
                key = (department, period, row[index], which)
                if key in keys:
                    if key not in tallies:
                        tallies[key] = Tally()
                    found.append(tallies[key])
        return found

    rows = ScorecardHandoff.objects.filter(where).values_list(
        *_COHORT_COLUMNS, *SHAPE_FIELDS
    )
    first_shape = len(_COHORT_COLUMNS)
    for row in rows.order_by():
        department, scenario, day = row[0], row[1], row[2]
        into = targets.get((department, scenario, day))
        if into is None:
            into = targets[(department, scenario, day)] = tallies_of(
                department, scenario, row
            )
        if into:
            shape, seconds = shape_from_values(row[first_shape:]), row[_SECONDS]
            for found in into:
                found.shapes[shape] += 1
                if seconds is not None:
                    found.response_seconds.append(seconds)
    emptied = [scorecard_key(*key) for key in keys if key not in tallies]
    if emptied:
        Scorecard.objects.filter(key__in=emptied).delete()
    _upsert([(key, found.figures()) for key, found in tallies.items()])


def _upsert(rows: list[tuple[Key, dict[str, Any]]]) -> None:
    """Insert the scorecards, or replace the figures of those stored.

    On PostgreSQL in one statement whose one parameter is every row as
    JSON (``jsonb_to_recordset``): ``bulk_create(update_conflicts=True)``
    passes each column as an array literal instead, and quoting the
    figures' JSON into it cost more than the rest of the batch; one
    statement per row costs a round trip each. Elsewhere (SQLite, in
    process) one ``INSERT ... ON CONFLICT`` per row."""
    if not rows:
        return
    connection = connections[Scorecard.objects.db]
    quote = connection.ops.quote_name
    table, columns = quote(Scorecard._meta.db_table), _SCORECARD_COLUMNS
    names = ", ".join(quote(name) for name in columns)
    conflict = f"ON CONFLICT ({quote('key')}) DO UPDATE SET figures = EXCLUDED.figures"
    # Only quoted identifiers from the model go into the SQL; values are
    # parameters.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} "  # noqa: S608
                "FROM jsonb_to_recordset(%s::jsonb) AS r(key text, "
                "department text, period text, start date, scenario text, "
                f"figures jsonb) {conflict}",
                [
                    json.dumps(
                        [
                            {
                                "key": scorecard_key(*key),
                                "department": key[0],
                                "period": key[1],
                                "start": key[2].isoformat(),
                                "scenario": key[3],
                                "figures": figures,
                            }
                            for key, figures in rows
                        ]
                    )
                ],
            )
            return
        by_name = {field.name: field for field in Scorecard._meta.concrete_fields}
        fields = [by_name[name] for name in columns]
        cursor.executemany(
            f"INSERT INTO {table} ({names}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(fields))}) {conflict}",
            [
                [
                    field.get_db_prep_save(value, connection)
                    for field, value in zip(
                        fields, (scorecard_key(*key), *key, figures), strict=True
                    )
                ]
                for key, figures in rows
            ],
        )


_SCORECARD_COLUMNS = ("key", "department", "period", "start", "scenario", "figures")


def _mark(session: ProjectionSession, fact: ScorecardHandoff) -> None:
    if not session.rebuilding:
        session.marks[ScorecardProjection.name].update(bucket_keys(fact))


def _scorecard(key: Key, found: Tally) -> Scorecard:
    department, period, start, scenario = key
    return Scorecard(
        key=scorecard_key(department, period, start, scenario),
        department=department,
        period=period,
        start=start,
        scenario=scenario,
        figures=found.figures(),
    )
