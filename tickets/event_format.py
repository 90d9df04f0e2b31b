"""One JSON shape for a stored event, shared by the API (ticket history,
event log) and webhook payloads."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any
from uuid import UUID


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
        "type": type(event).__name__,
        "occurred_at": event.timestamp,
        "actor": _jsonable(event.actor),
        "data": {
            k: _jsonable(v) for k, v in vars(event).items() if k not in BASE_FIELDS
        },
    }
