"""The timeline: one row per event, in plain language, marked for the
customer or internal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from tickets.bulk_insert import new_row
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


CUSTOMER = TimelineEntry.Audience.CUSTOMER
INTERNAL = TimelineEntry.Audience.INTERNAL


@dataclass(frozen=True)
class Line:
    """What one event says on the timeline. ``department`` defaults to the
    actor's."""

    audience: str
    text: str
    body: str = ""
    internal_detail: str = ""
    department: str = ""
    stint_id: UUID | None = None


_E = TypeVar("_E")
#: Event class -> what it says: the one table the projection writes from.
SAYS: dict[type, Callable[[Any], Line]] = {}


def says(*events: type[Any]) -> Callable[[Callable[[_E], Line]], Callable[[_E], Line]]:
    def register(line: Callable[[_E], Line]) -> Callable[[_E], Line]:
        for event in events:
            SAYS[event] = line
        return line

    return register


@says(Ticket.Opened)
def _opened(e: Ticket.Opened) -> Line:
    how = CHANNEL_WORDS.get(e.channel, "")
    text = f"Request received {how}; {e.department_name} has it."
    return Line(
        CUSTOMER,
        text.replace(" ;", ";"),
        body=e.description,
        department=e.department,
        stint_id=e.stint_id,
    )


@says(Ticket.HandedOff)
def _handed_off(e: Ticket.HandedOff) -> Line:
    return Line(
        CUSTOMER,
        f"Passed to {e.to_department_name}, who now handle your request.",
        internal_detail=f"Reason: {e.reason}",
        department=e.to_department,
        stint_id=e.handoff_id,
    )


@says(Ticket.Responded)
def _responded(e: Ticket.Responded) -> Line:
    return Line(CUSTOMER, "Reply from the team.", body=e.body, stint_id=e.stint_id)


@says(Ticket.NoteAdded)
def _note(e: Ticket.NoteAdded) -> Line:
    return Line(INTERNAL, "Internal note.", internal_detail=e.body)


@says(Ticket.CustomerReplied)
def _customer_replied(e: Ticket.CustomerReplied) -> Line:
    return Line(CUSTOMER, "Message from you.", body=e.body)


@says(Ticket.WaitingOnCustomer)
def _waiting(e: Ticket.WaitingOnCustomer) -> Line:
    detail = e.reason and f"Reason: {e.reason}"
    return Line(
        CUSTOMER,
        "We are waiting for your reply.",
        body=e.request,
        internal_detail=detail,
    )


@says(Ticket.WaitingEnded)
def _waiting_ended(e: Ticket.WaitingEnded) -> Line:
    return Line(
        CUSTOMER,
        "No longer waiting for you: we are on it again.",
        internal_detail=f"Cause: {e.cause.replace('_', ' ')}",
    )


@says(Ticket.Resolved)
def _resolved(e: Ticket.Resolved) -> Line:
    cause = ROOT_CAUSE_WORDS.get(e.root_cause, e.root_cause)
    return Line(
        CUSTOMER,
        "Your request was resolved.",
        body=e.resolution,
        internal_detail=f"Root cause: {cause}",
        stint_id=e.stint_id,
    )


@says(Ticket.Reopened)
def _reopened(e: Ticket.Reopened) -> Line:
    if e.actor.kind == ActorKind.CUSTOMER:
        text, body, detail = "Reopened at your request.", e.reason, ""
    else:
        text, body, detail = "Reopened.", "", f"Reason: {e.reason}"
    return Line(
        CUSTOMER,
        text,
        body=body,
        internal_detail=detail,
        department=e.department,
        stint_id=e.stint_id,
    )


@says(Ticket.Closed)
def _closed(e: Ticket.Closed) -> Line:
    if e.reason == "abandoned":
        return Line(CUSTOMER, "Ticket closed: we did not hear back from you.")
    return Line(CUSTOMER, "Ticket closed.")


@says(Ticket.StintStalled)
def _stalled(e: Ticket.StintStalled) -> Line:
    limit = format_duration(e.stall_after_seconds)
    text = (
        f"{e.department} stalled: no public activity since {_utc(e.quiet_since)} "
        f"(limit {limit} business time, passed {_utc(e.stalled_at)})."
    )
    return Line(INTERNAL, text, department=e.department, stint_id=e.stint_id)


@says(Ticket.PriorityChanged)
def _priority(e: Ticket.PriorityChanged) -> Line:
    return Line(INTERNAL, f"Priority changed from {e.previous} to {e.priority}.")


@says(Ticket.ScenarioChanged)
def _scenario(e: Ticket.ScenarioChanged) -> Line:
    before, after = e.previous or "none", e.scenario or "none"
    return Line(INTERNAL, f"Scenario changed from {before} to {after}.")


@says(Ticket.AgentAssigned)
def _assigned(e: Ticket.AgentAssigned) -> Line:
    return Line(
        INTERNAL,
        f"Assigned to {e.agent_name}.",
        department=e.department,
        stint_id=e.stint_id,
    )


@says(Ticket.ClockStarted)
def _clock_started(e: Ticket.ClockStarted) -> Line:
    scope = "ticket" if e.stint_id is None else "stint"
    return Line(
        INTERNAL,
        f"{e.department} {e.kind} clock ({scope}) started: "
        f"{format_duration(e.target_seconds)} of business time, "
        f"due {_utc(e.due_at)} "
        f"(policy v{e.policy_version}, calendar v{e.calendar_version}).",
        department=e.department,
    )


@says(Ticket.ClockPaused)
def _clock_paused(e: Ticket.ClockPaused) -> Line:
    return Line(
        INTERNAL,
        "SLA clock paused while waiting.",
        department=getattr(e, "department", ""),
    )


@says(Ticket.ClockResumed)
def _clock_resumed(e: Ticket.ClockResumed) -> Line:
    return Line(
        INTERNAL,
        f"SLA clock resumed after {format_duration(e.paused_seconds)} of business "
        f"time; now due {_utc(e.due_at)}.",
        department=getattr(e, "department", ""),
    )


@says(Ticket.ClockStopped)
def _clock_stopped(e: Ticket.ClockStopped) -> Line:
    verdict = "breached" if e.breached else "met"
    return Line(
        INTERNAL,
        f"SLA clock stopped ({e.outcome.replace('_', ' ')}): {verdict}, "
        f"{format_duration(e.business_seconds_used)} of business time used.",
        department=getattr(e, "department", ""),
    )


@says(Ticket.SLAWarningIssued)
def _sla_warning(e: Ticket.SLAWarningIssued) -> Line:
    text = f"{e.department} {e.kind} SLA at risk: due {_utc(e.due_at)}."
    return Line(INTERNAL, text, department=e.department)


@says(Ticket.SLABreached)
def _sla_breached(e: Ticket.SLABreached) -> Line:
    text = f"{e.department} {e.kind} SLA breached: it was due {_utc(e.due_at)}."
    return Line(INTERNAL, text, department=e.department)


@says(Ticket.HandoffRated)
def _handoff_rated(e: Ticket.HandoffRated) -> Line:
    return Line(
        CUSTOMER,
        f"You rated {e.department_name} {e.score} out of 5.",
        body=e.comment,
        department=e.department,
        stint_id=e.handoff_id,
    )


@says(Ticket.ExperienceRated)
def _experience_rated(e: Ticket.ExperienceRated) -> Line:
    text = f"You rated the whole experience {e.score} out of 5."
    return Line(CUSTOMER, text, body=e.comment)


@says(Ticket.DisputeOpened, Ticket.DisputeDecided)
def _dispute(e: Ticket.DisputeOpened | Ticket.DisputeDecided) -> Line:
    decision = getattr(e, "decision", None)
    return Line(
        INTERNAL,
        f"The dispute over {e.department}'s {e.subject} was {decision}."
        if decision
        else f"{e.department}'s {e.subject} on this ticket was disputed.",
        internal_detail=e.reason,
        department=e.department,
        stint_id=e.handoff_id,
    )


#: Event class -> its public name (``event_name``), found once per class.
_EVENT_NAMES: dict[type, str] = {}


class TimelineProjection(Projection):
    """Writes one :class:`TimelineEntry` per event, in plain language: what
    the event says (:data:`SAYS`) and who did it."""

    name = "timeline"
    models = (TimelineEntry,)

    @handles(*SAYS)
    def entry(self, e: Ticket.Event, position: int, session: ProjectionSession) -> None:
        kind = type(e)
        line = SAYS[kind](e)
        actor = e.actor
        name = _EVENT_NAMES.get(kind)
        if name is None:
            name = _EVENT_NAMES[kind] = event_name(kind)
        session.append(
            new_row(
                TimelineEntry,
                ticket_id=e.originator_id,
                position=position,
                version=e.originator_version,
                occurred_at=e.timestamp,
                event_type=name,
                audience=line.audience,
                actor_kind=actor.kind,
                actor_id=actor.id,
                actor_name=actor.name,
                actor_short_name=actor.short_name,
                actor_department=actor.department or "",
                department=line.department or actor.department or "",
                stint_id=line.stint_id,
                text=line.text[:300],
                body=line.body,
                internal_detail=line.internal_detail,
            )
        )
