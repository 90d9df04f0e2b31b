"""The timeline: one row per event, in plain language, marked for the
customer or internal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tickets.domain import ActorKind, Ticket
from tickets.durations import format_duration
from tickets.event_format import event_name
from tickets.models import TimelineEntry
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
