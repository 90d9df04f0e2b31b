"""One JSON shape for a stored event, shared by the API (ticket history,
event log) and webhook payloads, and the one public name of each event.

An event's public name comes from its pinned topic, never from its Python
class: ``baton.tickets:Ticket.HandedOff`` is ``Ticket.HandedOff`` in the
API, webhooks, the timeline and the README, so classes can be renamed or
moved without breaking integrators. Inputs also accept the short form
(``HandedOff``) integrations used before.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any
from uuid import UUID

from tickets.domain import TOPIC_PREFIX, Ticket


def event_name(event: Any) -> str:
    """The public name of an event (or event class): its topic without the
    package prefix, e.g. ``Ticket.HandedOff``."""
    cls = event if isinstance(event, type) else type(event)
    return str(getattr(cls, "TOPIC", "")).removeprefix(TOPIC_PREFIX)


def _event_classes() -> dict[str, type]:
    classes: dict[str, type] = {}
    for attribute in dir(Ticket):
        value = getattr(Ticket, attribute)
        topic = getattr(value, "TOPIC", None)
        if (
            isinstance(value, type)
            and isinstance(topic, str)
            and topic.startswith(TOPIC_PREFIX)
            and issubclass(value, Ticket.Event | Ticket.Opened)
            and value is not Ticket.Created  # the library's; Baton opens
        ):
            classes[event_name(value)] = value
    return classes


#: Every event a ticket can record, by public name.
EVENT_CLASSES: dict[str, type] = _event_classes()
EVENT_NAMES: frozenset[str] = frozenset(EVENT_CLASSES)
#: Their stored topics, by public name.
EVENT_TOPICS: dict[str, str] = {name: TOPIC_PREFIX + name for name in EVENT_NAMES}
_SHORT = {name.removeprefix("Ticket."): name for name in EVENT_NAMES}
#: Every name an input accepts: public names and their short forms.
ACCEPTED_EVENT_NAMES: frozenset[str] = EVENT_NAMES | frozenset(_SHORT)


def canonical_event_name(text: str) -> str | None:
    """``Ticket.HandedOff`` or ``HandedOff`` -> ``Ticket.HandedOff``; None
    for a name that is no event."""
    text = text.strip()
    if text in EVENT_NAMES:
        return text
    return _SHORT.get(text)


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


BASE_FIELDS = {
    "originator_id",
    "originator_version",
    "timestamp",
    "originator_topic",
    "actor",
}


def event_dict(event: Any, position: int | None) -> dict[str, Any]:
    return {
        "position": position,
        "ticket_id": event.originator_id,
        "version": event.originator_version,
        "type": event_name(event),
        "occurred_at": event.timestamp,
        "actor": _jsonable(event.actor),
        "data": {
            k: _jsonable(v) for k, v in vars(event).items() if k not in BASE_FIELDS
        },
    }


def event_names(values: Any) -> list[str]:
    """Public names for ``values`` (either form), sorted and without
    repeats; ``ValidationError`` naming the unknown ones."""
    from rest_framework.exceptions import ValidationError

    texts = [str(v).strip() for v in values if str(v).strip()]
    unknown = sorted(t for t in texts if canonical_event_name(t) is None)
    if unknown:
        raise ValidationError(f"Unknown event types: {', '.join(unknown)}.")
    return sorted({canonical_event_name(t) or t for t in texts})
