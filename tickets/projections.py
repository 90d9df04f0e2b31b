"""Projections of ticket events into the read models the admin, the API
and the customer pages query. Each handler derives rows from the event
alone (no clock, no lookups elsewhere), so replaying the log always gives
the same rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tickets.domain import ActorKind, Status, Ticket
from tickets.durations import format_duration
from tickets.event_format import event_name
from tickets.models import Handoff, SLAClock, TicketSummary, TimelineEntry
from tickets.projection_runner import Projection, ProjectionSession, handles

CHANNEL_WORDS = {
    "phone": "by phone",
    "web": "on the website",
    "app": "in the app",
    "chat": "in chat",
    "email": "by email",
    "social": "on social media",
    "other": "",
}


def _utc(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


ROOT_CAUSE_WORDS = {
    "product_defect": "product defect",
    "process": "process",
    "policy": "policy",
    "customer_error": "customer error",
    "other": "other",
}


class TicketSummaryProjection(Projection):
    """Maintains one :class:`TicketSummary` row per ticket."""

    name = "ticket_summary"
    models = (TicketSummary,)

    @handles(Ticket.Opened)
    def opened(
        self, e: Ticket.Opened, position: int, session: ProjectionSession
    ) -> None:
        session.add(
            TicketSummary(
                ticket_id=e.originator_id,
                subject=e.subject,
                description=e.description,
                customer_ref=e.customer_ref,
                customer_name=e.customer_name,
                customer_contact=e.customer_contact,
                customer_timezone=e.customer_timezone,
                channel=e.channel,
                external_ref=e.external_ref,
                scenario=e.scenario,
                priority=e.priority,
                status=Status.OPEN,
                front_line=e.department,
                owner=e.department,
                owner_name=e.department_name,
                owner_since=e.timestamp,
                current_stint_id=e.stint_id,
                opened_at=e.timestamp,
                updated_at=e.timestamp,
                version=e.originator_version,
                position=position,
            )
        )

    def _touch(
        self, e: Any, position: int, session: ProjectionSession, **changes: Any
    ) -> TicketSummary:
        row = session.require(TicketSummary, e.originator_id)
        for name, value in changes.items():
            setattr(row, name, value)
        row.updated_at = e.timestamp
        row.version = e.originator_version
        row.position = position
        session.changed(row)
        return row

    @handles(
        Ticket.Responded,
        Ticket.NoteAdded,
        Ticket.CustomerReplied,
        Ticket.ClockStarted,
        Ticket.ClockPaused,
        Ticket.ClockResumed,
        Ticket.ClockStopped,
        Ticket.SLAWarningIssued,
        Ticket.SLABreached,
        Ticket.DisputeOpened,
        Ticket.DisputeDecided,
    )
    def touched(
        self,
        e: Ticket.Responded
        | Ticket.NoteAdded
        | Ticket.CustomerReplied
        | Ticket.ClockStarted
        | Ticket.ClockPaused
        | Ticket.ClockResumed
        | Ticket.ClockStopped
        | Ticket.SLAWarningIssued
        | Ticket.SLABreached
        | Ticket.DisputeOpened
        | Ticket.DisputeDecided,
        position: int,
        session: ProjectionSession,
    ) -> None:
        self._touch(e, position, session)

    @handles(Ticket.HandedOff)
    def handed_off(
        self, e: Ticket.HandedOff, position: int, session: ProjectionSession
    ) -> None:
        row = self._touch(
            e,
            position,
            session,
            owner=e.to_department,
            owner_name=e.to_department_name,
            owner_since=e.timestamp,
            current_stint_id=e.handoff_id,
            assignee_id="",
            assignee_name="",
        )
        row.handoff_count += 1

    @handles(Ticket.WaitingOnCustomer)
    def waiting(
        self, e: Ticket.WaitingOnCustomer, position: int, session: ProjectionSession
    ) -> None:
        self._touch(e, position, session, status=Status.WAITING)

    @handles(Ticket.HandoffRated)
    def handoff_rated(
        self, e: Ticket.HandoffRated, position: int, session: ProjectionSession
    ) -> None:
        self._touch(e, position, session)

    @handles(Ticket.ExperienceRated)
    def experience_rated(
        self, e: Ticket.ExperienceRated, position: int, session: ProjectionSession
    ) -> None:
        self._touch(
            e, position, session, experience_score=e.score, experience_comment=e.comment
        )

    @handles(Ticket.WaitingEnded)
    def waiting_ended(
        self, e: Ticket.WaitingEnded, position: int, session: ProjectionSession
    ) -> None:
        self._touch(e, position, session, status=Status.OPEN)

    @handles(Ticket.Resolved)
    def resolved(
        self, e: Ticket.Resolved, position: int, session: ProjectionSession
    ) -> None:
        self._touch(
            e,
            position,
            session,
            status=Status.RESOLVED,
            resolved_at=e.timestamp,
            current_stint_id=None,
        )

    @handles(Ticket.Reopened)
    def reopened(
        self, e: Ticket.Reopened, position: int, session: ProjectionSession
    ) -> None:
        row = self._touch(
            e,
            position,
            session,
            status=Status.OPEN,
            resolved_at=None,
            current_stint_id=e.stint_id,
            owner_since=e.timestamp,
        )
        row.reopen_count += 1

    @handles(Ticket.Closed)
    def closed(
        self, e: Ticket.Closed, position: int, session: ProjectionSession
    ) -> None:
        self._touch(e, position, session, status=Status.CLOSED, closed_at=e.timestamp)

    @handles(Ticket.PriorityChanged)
    def priority(
        self, e: Ticket.PriorityChanged, position: int, session: ProjectionSession
    ) -> None:
        self._touch(e, position, session, priority=e.priority)

    @handles(Ticket.ScenarioChanged)
    def scenario(
        self, e: Ticket.ScenarioChanged, position: int, session: ProjectionSession
    ) -> None:
        self._touch(e, position, session, scenario=e.scenario)

    @handles(Ticket.AgentAssigned)
    def assigned(
        self, e: Ticket.AgentAssigned, position: int, session: ProjectionSession
    ) -> None:
        self._touch(
            e, position, session, assignee_id=e.agent_id, assignee_name=e.agent_name
        )


class HandoffProjection(Projection):
    """Maintains one :class:`Handoff` row per department stint, with the
    log positions of the events that started and ended it."""

    name = "handoff"
    models = (Handoff,)

    def _start(
        self,
        session: ProjectionSession,
        *,
        stint_id: Any,
        e: Any,
        position: int,
        kind: str,
        department: str,
        department_name: str,
        from_department: str = "",
        reason: str = "",
    ) -> None:
        session.add(
            Handoff(
                id=stint_id,
                ticket_id=e.originator_id,
                kind=kind,
                from_department=from_department,
                department=department,
                department_name=department_name,
                reason=reason,
                started_at=e.timestamp,
                started_position=position,
            )
        )

    def _end(
        self,
        session: ProjectionSession,
        stint_id: Any,
        e: Any,
        position: int,
        outcome: str,
    ) -> None:
        stint = session.require(Handoff, stint_id)
        if not stint.outcome:
            stint.outcome = outcome
            stint.outcome_at = e.timestamp
            stint.outcome_position = position
        stint.ended_at = e.timestamp
        stint.ended_position = position
        session.changed(stint)

    @handles(Ticket.Opened)
    def opened(
        self, e: Ticket.Opened, position: int, session: ProjectionSession
    ) -> None:
        self._start(
            session,
            stint_id=e.stint_id,
            e=e,
            position=position,
            kind=Handoff.Kind.OPENED,
            department=e.department,
            department_name=e.department_name,
        )

    @handles(Ticket.HandedOff)
    def handed_off(
        self, e: Ticket.HandedOff, position: int, session: ProjectionSession
    ) -> None:
        self._end(session, e.from_stint_id, e, position, Handoff.Outcome.HANDED_ON)
        self._start(
            session,
            stint_id=e.handoff_id,
            e=e,
            position=position,
            kind=Handoff.Kind.HANDOFF,
            department=e.to_department,
            department_name=e.to_department_name,
            from_department=e.from_department,
            reason=e.reason,
        )

    @handles(Ticket.Reopened)
    def reopened(
        self, e: Ticket.Reopened, position: int, session: ProjectionSession
    ) -> None:
        self._start(
            session,
            stint_id=e.stint_id,
            e=e,
            position=position,
            kind=Handoff.Kind.REOPEN,
            department=e.department,
            department_name=e.department_name,
            reason=e.reason,
        )

    @handles(Ticket.Responded)
    def responded(
        self, e: Ticket.Responded, position: int, session: ProjectionSession
    ) -> None:
        stint = session.require(Handoff, e.stint_id)
        if stint.first_response_at is not None:
            return
        stint.first_response_at = e.timestamp
        if not stint.outcome:
            stint.outcome = Handoff.Outcome.RESPONDED
            stint.outcome_at = e.timestamp
            stint.outcome_position = position
        if not stint.agent_id:
            stint.agent_id = e.actor.id
            stint.agent_name = e.actor.name
        session.changed(stint)

    @handles(Ticket.Resolved)
    def resolved(
        self, e: Ticket.Resolved, position: int, session: ProjectionSession
    ) -> None:
        self._end(session, e.stint_id, e, position, Handoff.Outcome.RESOLVED)

    @handles(Ticket.HandoffRated)
    def rated(
        self, e: Ticket.HandoffRated, position: int, session: ProjectionSession
    ) -> None:
        stint = session.require(Handoff, e.handoff_id)
        stint.rating_score = e.score
        stint.rating_comment = e.comment
        stint.rated_at = e.timestamp
        stint.rating_position = position
        session.changed(stint)

    @handles(Ticket.AgentAssigned)
    def assigned(
        self, e: Ticket.AgentAssigned, position: int, session: ProjectionSession
    ) -> None:
        stint = session.require(Handoff, e.stint_id)
        stint.agent_id = e.agent_id
        stint.agent_name = e.agent_name
        session.changed(stint)


class TimelineProjection(Projection):
    """Writes one :class:`TimelineEntry` per event, in plain language."""

    name = "timeline"
    models = (TimelineEntry,)

    def _entry(
        self,
        e: Any,
        position: int,
        session: ProjectionSession,
        *,
        audience: str,
        text: str,
        body: str = "",
        internal_detail: str = "",
        department: str = "",
        stint_id: Any = None,
    ) -> None:
        actor = e.actor
        session.append(
            TimelineEntry(
                ticket_id=e.originator_id,
                position=position,
                version=e.originator_version,
                occurred_at=e.timestamp,
                event_type=event_name(e),
                audience=audience,
                actor_kind=actor.kind,
                actor_id=actor.id,
                actor_name=actor.name,
                actor_short_name=actor.short_name,
                actor_department=actor.department or "",
                department=department or actor.department or "",
                stint_id=stint_id,
                text=text[:300],
                body=body,
                internal_detail=internal_detail,
            )
        )

    @handles(Ticket.Opened)
    def opened(
        self, e: Ticket.Opened, position: int, session: ProjectionSession
    ) -> None:
        how = CHANNEL_WORDS.get(e.channel, "")
        self._entry(
            e,
            position,
            session,
            audience=TimelineEntry.Audience.CUSTOMER,
            text=f"Request received {how}; {e.department_name} has it.".replace(
                " ;", ";"
            ),
            body=e.description,
            department=e.department,
            stint_id=e.stint_id,
        )

    @handles(Ticket.HandedOff)
    def handed_off(
        self, e: Ticket.HandedOff, position: int, session: ProjectionSession
    ) -> None:
        self._entry(
            e,
            position,
            session,
            audience=TimelineEntry.Audience.CUSTOMER,
            text=f"Passed to {e.to_department_name}, who now handle your request.",
            internal_detail=f"Reason: {e.reason}",
            department=e.to_department,
            stint_id=e.handoff_id,
        )

    @handles(Ticket.Responded)
    def responded(
        self, e: Ticket.Responded, position: int, session: ProjectionSession
    ) -> None:
        self._entry(
            e,
            position,
            session,
            audience=TimelineEntry.Audience.CUSTOMER,
            text="Reply from the team.",
            body=e.body,
            stint_id=e.stint_id,
        )

    @handles(Ticket.NoteAdded)
    def note(
        self, e: Ticket.NoteAdded, position: int, session: ProjectionSession
    ) -> None:
        self._entry(
            e,
            position,
            session,
            audience=TimelineEntry.Audience.INTERNAL,
            text="Internal note.",
            internal_detail=e.body,
        )

    @handles(Ticket.CustomerReplied)
    def customer_replied(
        self, e: Ticket.CustomerReplied, position: int, session: ProjectionSession
    ) -> None:
        self._entry(
            e,
            position,
            session,
            audience=TimelineEntry.Audience.CUSTOMER,
            text="Message from you.",
            body=e.body,
            department="",
        )

    @handles(Ticket.WaitingOnCustomer)
    def waiting(
        self, e: Ticket.WaitingOnCustomer, position: int, session: ProjectionSession
    ) -> None:
        self._entry(
            e,
            position,
            session,
            audience=TimelineEntry.Audience.CUSTOMER,
            text="We are waiting for your reply.",
            internal_detail=e.reason and f"Reason: {e.reason}",
        )

    @handles(Ticket.WaitingEnded)
    def waiting_ended(
        self, e: Ticket.WaitingEnded, position: int, session: ProjectionSession
    ) -> None:
        self._entry(
            e,
            position,
            session,
            audience=TimelineEntry.Audience.CUSTOMER,
            text="No longer waiting for you: we are on it again.",
            internal_detail=f"Cause: {e.cause.replace('_', ' ')}",
        )

    @handles(Ticket.Resolved)
    def resolved(
        self, e: Ticket.Resolved, position: int, session: ProjectionSession
    ) -> None:
        self._entry(
            e,
            position,
            session,
            audience=TimelineEntry.Audience.CUSTOMER,
            text="Your request was resolved.",
            body=e.resolution,
            internal_detail="Root cause: "
            + ROOT_CAUSE_WORDS.get(e.root_cause, e.root_cause),
            stint_id=e.stint_id,
        )

    @handles(Ticket.Reopened)
    def reopened(
        self, e: Ticket.Reopened, position: int, session: ProjectionSession
    ) -> None:
        by_customer = e.actor.kind == ActorKind.CUSTOMER
        self._entry(
            e,
            position,
            session,
            audience=TimelineEntry.Audience.CUSTOMER,
            text="Reopened at your request." if by_customer else "Reopened.",
            body=e.reason if by_customer else "",
            internal_detail="" if by_customer else f"Reason: {e.reason}",
            department=e.department,
            stint_id=e.stint_id,
        )

    @handles(Ticket.Closed)
    def closed(
        self, e: Ticket.Closed, position: int, session: ProjectionSession
    ) -> None:
        self._entry(
            e,
            position,
            session,
            audience=TimelineEntry.Audience.CUSTOMER,
            text="Ticket closed.",
        )

    @handles(Ticket.PriorityChanged)
    def priority(
        self, e: Ticket.PriorityChanged, position: int, session: ProjectionSession
    ) -> None:
        self._entry(
            e,
            position,
            session,
            audience=TimelineEntry.Audience.INTERNAL,
            text=f"Priority changed from {e.previous} to {e.priority}.",
        )

    @handles(Ticket.ScenarioChanged)
    def scenario(
        self, e: Ticket.ScenarioChanged, position: int, session: ProjectionSession
    ) -> None:
        self._entry(
            e,
            position,
            session,
            audience=TimelineEntry.Audience.INTERNAL,
            text=f"Scenario changed from {e.previous or 'none'} to "
            f"{e.scenario or 'none'}.",
        )

    @handles(Ticket.AgentAssigned)
    def assigned(
        self, e: Ticket.AgentAssigned, position: int, session: ProjectionSession
    ) -> None:
        self._entry(
            e,
            position,
            session,
            audience=TimelineEntry.Audience.INTERNAL,
            text=f"Assigned to {e.agent_name}.",
            department=e.department,
            stint_id=e.stint_id,
        )

    def _clock_entry(
        self, e: Any, position: int, session: ProjectionSession, text: str
    ) -> None:
        self._entry(
            e,
            position,
            session,
            audience=TimelineEntry.Audience.INTERNAL,
            text=text,
            department=getattr(e, "department", ""),
        )

    @handles(Ticket.ClockStarted)
    def clock_started(
        self, e: Ticket.ClockStarted, position: int, session: ProjectionSession
    ) -> None:
        scope = "ticket" if e.stint_id is None else "stint"
        self._clock_entry(
            e,
            position,
            session,
            f"{e.department} {e.kind} clock ({scope}) started: "
            f"{format_duration(e.target_seconds)} of business time, "
            f"due {_utc(e.due_at)} "
            f"(policy v{e.policy_version}, calendar v{e.calendar_version}).",
        )

    @handles(Ticket.ClockPaused)
    def clock_paused(
        self, e: Ticket.ClockPaused, position: int, session: ProjectionSession
    ) -> None:
        self._clock_entry(e, position, session, "SLA clock paused while waiting.")

    @handles(Ticket.ClockResumed)
    def clock_resumed(
        self, e: Ticket.ClockResumed, position: int, session: ProjectionSession
    ) -> None:
        self._clock_entry(
            e,
            position,
            session,
            f"SLA clock resumed after {format_duration(e.paused_seconds)} of business "
            f"time; now due {_utc(e.due_at)}.",
        )

    @handles(Ticket.ClockStopped)
    def clock_stopped(
        self, e: Ticket.ClockStopped, position: int, session: ProjectionSession
    ) -> None:
        verdict = "breached" if e.breached else "met"
        self._clock_entry(
            e,
            position,
            session,
            f"SLA clock stopped ({e.outcome.replace('_', ' ')}): {verdict}, "
            f"{format_duration(e.business_seconds_used)} of business time used.",
        )

    @handles(Ticket.SLAWarningIssued)
    def sla_warning(
        self, e: Ticket.SLAWarningIssued, position: int, session: ProjectionSession
    ) -> None:
        self._clock_entry(
            e,
            position,
            session,
            f"{e.department} {e.kind} SLA at risk: due {_utc(e.due_at)}.",
        )

    @handles(Ticket.SLABreached)
    def sla_breached(
        self, e: Ticket.SLABreached, position: int, session: ProjectionSession
    ) -> None:
        self._clock_entry(
            e,
            position,
            session,
            f"{e.department} {e.kind} SLA breached: it was due {_utc(e.due_at)}.",
        )

    @handles(Ticket.HandoffRated)
    def handoff_rated(
        self, e: Ticket.HandoffRated, position: int, session: ProjectionSession
    ) -> None:
        self._entry(
            e,
            position,
            session,
            audience=TimelineEntry.Audience.CUSTOMER,
            text=f"You rated {e.department_name} {e.score} out of 5.",
            body=e.comment,
            department=e.department,
            stint_id=e.handoff_id,
        )

    @handles(Ticket.DisputeOpened, Ticket.DisputeDecided)
    def dispute(
        self,
        e: Ticket.DisputeOpened | Ticket.DisputeDecided,
        position: int,
        session: ProjectionSession,
    ) -> None:
        decision = getattr(e, "decision", None)
        self._entry(
            e,
            position,
            session,
            audience=TimelineEntry.Audience.INTERNAL,
            text=f"The dispute over {e.department}'s {e.subject} was {decision}."
            if decision
            else f"{e.department}'s {e.subject} on this ticket was disputed.",
            internal_detail=e.reason,
            department=e.department,
            stint_id=e.handoff_id,
        )

    @handles(Ticket.ExperienceRated)
    def experience_rated(
        self, e: Ticket.ExperienceRated, position: int, session: ProjectionSession
    ) -> None:
        self._entry(
            e,
            position,
            session,
            audience=TimelineEntry.Audience.CUSTOMER,
            text=f"You rated the whole experience {e.score} out of 5.",
            body=e.comment,
        )


class SLAClockProjection(Projection):
    """One :class:`SLAClock` row per clock, from the ticket's clock events
    only: due times and verdicts are read from the events, never
    recomputed, so a rebuild gives the same rows whatever the policies and
    calendars say today."""

    name = "sla_clock"
    models = (SLAClock,)

    @handles(Ticket.ClockStarted)
    def started(
        self, e: Ticket.ClockStarted, position: int, session: ProjectionSession
    ) -> None:
        session.add(
            SLAClock(
                id=e.clock_id,
                ticket_id=e.originator_id,
                handoff_id=e.stint_id,
                department=e.department,
                kind=e.kind,
                state=SLAClock.State.RUNNING,
                started_at=e.timestamp,
                due_at=e.due_at,
                warn_at=e.warn_at,
                target_seconds=e.target_seconds,
                policy_version=e.policy_version,
                calendar_version=e.calendar_version,
                pauses_on_waiting=e.pauses_on_waiting,
                started_position=position,
            )
        )

    def _clock(self, e: Ticket.Event, session: ProjectionSession) -> SLAClock:
        clock = session.require(SLAClock, e.clock_id)
        session.changed(clock)
        return clock

    @handles(Ticket.ClockPaused)
    def paused(
        self, e: Ticket.ClockPaused, position: int, session: ProjectionSession
    ) -> None:
        clock = self._clock(e, session)
        clock.state = SLAClock.State.PAUSED
        clock.paused_since = e.timestamp

    @handles(Ticket.ClockResumed)
    def resumed(
        self, e: Ticket.ClockResumed, position: int, session: ProjectionSession
    ) -> None:
        clock = self._clock(e, session)
        clock.paused_seconds += e.paused_seconds
        clock.due_at = e.due_at
        clock.warn_at = e.warn_at
        clock.paused_since = None
        clock.stopped_at = None
        clock.stopped_position = None
        clock.outcome = ""
        clock.business_seconds_used = None
        clock.state = (
            SLAClock.State.BREACHED_RUNNING
            if clock.breach_recorded
            else SLAClock.State.RUNNING
        )

    @handles(Ticket.ClockStopped)
    def stopped(
        self, e: Ticket.ClockStopped, position: int, session: ProjectionSession
    ) -> None:
        clock = self._clock(e, session)
        clock.stopped_at = e.timestamp
        clock.stopped_position = position
        clock.outcome = e.outcome
        clock.business_seconds_used = e.business_seconds_used
        clock.paused_since = None
        clock.state = SLAClock.State.BREACHED if e.breached else SLAClock.State.MET

    @handles(Ticket.SLAWarningIssued)
    def warned(
        self, e: Ticket.SLAWarningIssued, position: int, session: ProjectionSession
    ) -> None:
        clock = self._clock(e, session)
        clock.warning_recorded = True
        clock.warning_position = position

    @handles(Ticket.SLABreached)
    def breached(
        self, e: Ticket.SLABreached, position: int, session: ProjectionSession
    ) -> None:
        clock = self._clock(e, session)
        clock.breach_recorded = True
        clock.breach_position = position
        if clock.state == SLAClock.State.RUNNING:
            clock.state = SLAClock.State.BREACHED_RUNNING
