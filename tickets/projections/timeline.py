"""The timeline: one row per event, in plain language, marked for the
customer or internal. Rows store English; pages show them in the reader's
language through :func:`entry_text`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, TypeVar
from uuid import UUID

from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from tickets.bulk_insert import new_row
from tickets.domain import ActorKind, Ticket
from tickets.durations import format_duration
from tickets.event_format import event_name
from tickets.models import TimelineEntry
from tickets.projection_runner import Projection, ProjectionSession, handles

# The texts are stored in English (the msgids), so that the staff API's
# ``text`` stays stable whatever language a request ran in; pages translate
# them when they show them (:func:`entry_text`).
CHANNEL_WORDS = {
    "phone": gettext_noop("by phone"),
    "web": gettext_noop("on the website"),
    "app": gettext_noop("in the app"),
    "chat": gettext_noop("in chat"),
    "email": gettext_noop("by email"),
    "social": gettext_noop("on social media"),
    "other": "",
}


def _utc(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


ROOT_CAUSE_WORDS = {
    "product_defect": gettext_noop("product defect"),
    "process": gettext_noop("process"),
    "policy": gettext_noop("policy"),
    "customer_error": gettext_noop("customer error"),
    "other": gettext_noop("other"),
}

#: Other words a line names (clock kinds and scopes, verdicts, outcomes,
#: causes, priorities, dispute subjects and decisions): marked here so the
#: catalogue has them; :func:`entry_text` translates them in place.
WORDS = (
    gettext_noop("response"),
    gettext_noop("resolution"),
    gettext_noop("ticket"),
    gettext_noop("stint"),
    gettext_noop("met"),
    gettext_noop("breached"),
    gettext_noop("responded"),
    gettext_noop("handed on"),
    gettext_noop("resolved"),
    gettext_noop("abandoned"),
    gettext_noop("handed off"),
    gettext_noop("customer replied"),
    gettext_noop("ended by staff"),
    gettext_noop("none"),
    gettext_noop("low"),
    gettext_noop("normal"),
    gettext_noop("high"),
    gettext_noop("urgent"),
    gettext_noop("breach"),
    gettext_noop("rating"),
    gettext_noop("accepted"),
    gettext_noop("waived"),
)


@dataclass(frozen=True)
class Phrase:
    """A line's text: an English msgid with named ``%(...)s`` parts. The
    line stores it filled in English; :func:`entry_text` finds the phrase
    again from the stored text and says it in the active language, with
    the parts named in ``words`` translated too (the others are names,
    codes, amounts and instants, shown as they are)."""

    msgid: str
    words: tuple[str, ...] = ()

    def __call__(self, **parts: Any) -> str:
        return self.msgid % parts

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        pieces = re.split(r"%\((\w+)\)s", self.msgid)
        regex = "".join(
            re.escape(piece) if index % 2 == 0 else f"(?P<{piece}>.*?)"
            for index, piece in enumerate(pieces)
        )
        return re.compile(regex, re.DOTALL)

    def translated(self, text: str) -> str | None:
        found = self.pattern.fullmatch(text)
        if found is None:
            return None
        parts = {
            name: gettext(value) if name in self.words and value else value
            for name, value in found.groupdict().items()
        }
        return gettext(self.msgid) % parts


PHRASES: list[Phrase] = []


def phrase(msgid: str, *words: str) -> Phrase:
    made = Phrase(msgid, words)
    PHRASES.append(made)
    return made


RECEIVED_HOW = phrase(
    gettext_noop("Request received %(how)s; %(department)s has it."), "how"
)
RECEIVED = phrase(gettext_noop("Request received; %(department)s has it."))
PASSED = phrase(gettext_noop("Passed to %(department)s, who now handle your request."))
REASON = phrase(gettext_noop("Reason: %(reason)s"))
REPLY = phrase(gettext_noop("Reply from the team."))
NOTE = phrase(gettext_noop("Internal note."))
FROM_YOU = phrase(gettext_noop("Message from you."))
WAITING = phrase(gettext_noop("We are waiting for your reply."))
NOT_WAITING = phrase(gettext_noop("No longer waiting for you: we are on it again."))
CAUSE = phrase(gettext_noop("Cause: %(cause)s"), "cause")
RESOLVED = phrase(gettext_noop("Your request was resolved."))
ROOT_CAUSE = phrase(gettext_noop("Root cause: %(cause)s"), "cause")
REOPENED_BY_YOU = phrase(gettext_noop("Reopened at your request."))
REOPENED = phrase(gettext_noop("Reopened."))
ABANDONED = phrase(gettext_noop("Ticket closed: we did not hear back from you."))
CLOSED = phrase(gettext_noop("Ticket closed."))
STALLED = phrase(
    gettext_noop(
        "%(department)s stalled: no public activity since %(since)s "
        "(limit %(limit)s business time, passed %(at)s)."
    )
)
PRIORITY = phrase(
    gettext_noop("Priority changed from %(before)s to %(after)s."), "before", "after"
)
SCENARIO = phrase(
    gettext_noop("Scenario changed from %(before)s to %(after)s."), "before", "after"
)
ASSIGNED = phrase(gettext_noop("Assigned to %(agent)s."))
CLOCK_STARTED = phrase(
    gettext_noop(
        "%(department)s %(kind)s clock (%(scope)s) started: %(target)s of "
        "business time, due %(due)s (policy v%(policy)s, calendar v%(calendar)s)."
    ),
    "kind",
    "scope",
)
CLOCK_PAUSED = phrase(gettext_noop("SLA clock paused while waiting."))
CLOCK_RESUMED = phrase(
    gettext_noop(
        "SLA clock resumed after %(paused)s of business time; now due %(due)s."
    )
)
CLOCK_STOPPED = phrase(
    gettext_noop(
        "SLA clock stopped (%(outcome)s): %(verdict)s, %(used)s of business time used."
    ),
    "outcome",
    "verdict",
)
AT_RISK = phrase(
    gettext_noop("%(department)s %(kind)s SLA at risk: due %(due)s."), "kind"
)
BREACHED = phrase(
    gettext_noop("%(department)s %(kind)s SLA breached: it was due %(due)s."), "kind"
)
RATED = phrase(gettext_noop("You rated %(department)s %(score)s out of 5."))
RATED_ALL = phrase(gettext_noop("You rated the whole experience %(score)s out of 5."))
DECIDED = phrase(
    gettext_noop("The dispute over %(department)s's %(subject)s was %(decision)s."),
    "subject",
    "decision",
)
DISPUTED = phrase(
    gettext_noop("%(department)s's %(subject)s on this ticket was disputed."), "subject"
)


def translated_text(text: str) -> str:
    """A stored line text (English) in the active language; a text no
    phrase says (an old wording, or cut at 300 characters) as stored."""
    for candidate in PHRASES:
        said = candidate.translated(text)
        if said is not None:
            return said
    return text


def entry_text(entry: TimelineEntry) -> str:
    """What a timeline entry says, in the active language."""
    return translated_text(entry.text)


def entry_detail(entry: TimelineEntry) -> str:
    """An entry's internal detail ("Reason: ...") in the active language."""
    return translated_text(entry.internal_detail)


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
    department = e.department_name
    return Line(
        CUSTOMER,
        RECEIVED_HOW(how=how, department=department)
        if how
        else RECEIVED(department=department),
        body=e.description,
        department=e.department,
        stint_id=e.stint_id,
    )


@says(Ticket.HandedOff)
def _handed_off(e: Ticket.HandedOff) -> Line:
    return Line(
        CUSTOMER,
        PASSED(department=e.to_department_name),
        internal_detail=REASON(reason=e.reason),
        department=e.to_department,
        stint_id=e.handoff_id,
    )


@says(Ticket.Responded)
def _responded(e: Ticket.Responded) -> Line:
    return Line(CUSTOMER, REPLY(), body=e.body, stint_id=e.stint_id)


@says(Ticket.NoteAdded)
def _note(e: Ticket.NoteAdded) -> Line:
    return Line(INTERNAL, NOTE(), internal_detail=e.body)


@says(Ticket.CustomerReplied)
def _customer_replied(e: Ticket.CustomerReplied) -> Line:
    return Line(CUSTOMER, FROM_YOU(), body=e.body)


@says(Ticket.WaitingOnCustomer)
def _waiting(e: Ticket.WaitingOnCustomer) -> Line:
    detail = e.reason and REASON(reason=e.reason)
    return Line(CUSTOMER, WAITING(), body=e.request, internal_detail=detail)


@says(Ticket.WaitingEnded)
def _waiting_ended(e: Ticket.WaitingEnded) -> Line:
    return Line(
        CUSTOMER,
        NOT_WAITING(),
        internal_detail=CAUSE(cause=e.cause.replace("_", " ")),
    )


@says(Ticket.Resolved)
def _resolved(e: Ticket.Resolved) -> Line:
    cause = ROOT_CAUSE_WORDS.get(e.root_cause, e.root_cause)
    return Line(
        CUSTOMER,
        RESOLVED(),
        body=e.resolution,
        internal_detail=ROOT_CAUSE(cause=cause),
        stint_id=e.stint_id,
    )


@says(Ticket.Reopened)
def _reopened(e: Ticket.Reopened) -> Line:
    if e.actor.kind == ActorKind.CUSTOMER:
        text, body, detail = REOPENED_BY_YOU(), e.reason, ""
    else:
        text, body, detail = REOPENED(), "", REASON(reason=e.reason)
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
        return Line(CUSTOMER, ABANDONED())
    return Line(CUSTOMER, CLOSED())


@says(Ticket.StintStalled)
def _stalled(e: Ticket.StintStalled) -> Line:
    text = STALLED(
        department=e.department,
        since=_utc(e.quiet_since),
        limit=format_duration(e.stall_after_seconds),
        at=_utc(e.stalled_at),
    )
    return Line(INTERNAL, text, department=e.department, stint_id=e.stint_id)


@says(Ticket.PriorityChanged)
def _priority(e: Ticket.PriorityChanged) -> Line:
    return Line(INTERNAL, PRIORITY(before=e.previous, after=e.priority))


@says(Ticket.ScenarioChanged)
def _scenario(e: Ticket.ScenarioChanged) -> Line:
    before, after = e.previous or "none", e.scenario or "none"
    return Line(INTERNAL, SCENARIO(before=before, after=after))


@says(Ticket.AgentAssigned)
def _assigned(e: Ticket.AgentAssigned) -> Line:
    return Line(
        INTERNAL,
        ASSIGNED(agent=e.agent_name),
        department=e.department,
        stint_id=e.stint_id,
    )


@says(Ticket.ClockStarted)
def _clock_started(e: Ticket.ClockStarted) -> Line:
    return Line(
        INTERNAL,
        CLOCK_STARTED(
            department=e.department,
            kind=e.kind,
            scope="ticket" if e.stint_id is None else "stint",
            target=format_duration(e.target_seconds),
            due=_utc(e.due_at),
            policy=e.policy_version,
            calendar=e.calendar_version,
        ),
        department=e.department,
    )


@says(Ticket.ClockPaused)
def _clock_paused(e: Ticket.ClockPaused) -> Line:
    return Line(INTERNAL, CLOCK_PAUSED(), department=getattr(e, "department", ""))


@says(Ticket.ClockResumed)
def _clock_resumed(e: Ticket.ClockResumed) -> Line:
    return Line(
        INTERNAL,
        CLOCK_RESUMED(paused=format_duration(e.paused_seconds), due=_utc(e.due_at)),
        department=getattr(e, "department", ""),
    )


@says(Ticket.ClockStopped)
def _clock_stopped(e: Ticket.ClockStopped) -> Line:
    return Line(
        INTERNAL,
        CLOCK_STOPPED(
            outcome=e.outcome.replace("_", " "),
            verdict="breached" if e.breached else "met",
            used=format_duration(e.business_seconds_used),
        ),
        department=getattr(e, "department", ""),
    )


@says(Ticket.SLAWarningIssued)
def _sla_warning(e: Ticket.SLAWarningIssued) -> Line:
    text = AT_RISK(department=e.department, kind=e.kind, due=_utc(e.due_at))
    return Line(INTERNAL, text, department=e.department)


@says(Ticket.SLABreached)
def _sla_breached(e: Ticket.SLABreached) -> Line:
    text = BREACHED(department=e.department, kind=e.kind, due=_utc(e.due_at))
    return Line(INTERNAL, text, department=e.department)


@says(Ticket.HandoffRated)
def _handoff_rated(e: Ticket.HandoffRated) -> Line:
    return Line(
        CUSTOMER,
        RATED(department=e.department_name, score=e.score),
        body=e.comment,
        department=e.department,
        stint_id=e.handoff_id,
    )


@says(Ticket.ExperienceRated)
def _experience_rated(e: Ticket.ExperienceRated) -> Line:
    return Line(CUSTOMER, RATED_ALL(score=e.score), body=e.comment)


@says(Ticket.DisputeOpened, Ticket.DisputeDecided)
def _dispute(e: Ticket.DisputeOpened | Ticket.DisputeDecided) -> Line:
    decision = getattr(e, "decision", None)
    return Line(
        INTERNAL,
        DECIDED(department=e.department, subject=e.subject, decision=decision)
        if decision
        else DISPUTED(department=e.department, subject=e.subject),
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
        with translation.override("en"):  # stored in English: see Phrase
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
