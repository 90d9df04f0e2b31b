"""Stored events read cheaply: what paging through the whole log (a
rebuild of the read models, an audit) spends per event besides decoding
it. Used by the sealing recorders (``tickets.eventstore``) and the
application's transcodings."""

from __future__ import annotations

from typing import Any
from uuid import UUID, SafeUUID

from eventsourcing.persistence import Notification


def notification_of(
    position: int, originator_id: Any, version: int, topic: str, state: bytes
) -> Notification:
    """``Notification(...)``: a frozen dataclass, its fields set without
    its ``__init__`` (a fifth of the cost of reading a row)."""
    notification = object.__new__(Notification)
    notification.__dict__.update(
        originator_id=originator_id,
        originator_version=version,
        topic=topic,
        state=state,
        id=position,
    )
    return notification


def as_uuid(value: Any) -> UUID:
    """``value`` if it is a UUID, else the UUID its text spells."""
    return value if type(value) is UUID else UUID(str(value))


_UNKNOWN_SAFETY = SafeUUID.unknown  # (an enum member: slow to look up)


def uuid_from_hex(text: str) -> UUID:
    """``UUID(text)``, without ``UUID.__init__``'s parsing of every form a
    UUID can be written in when ``text`` is what stores keep: 32 ASCII hex
    digits (``UUID.hex``). Reading ticket ids and stint ids this way is a
    tenth of a rebuild's time."""
    if len(text) == 32 and text.isascii() and text.isalnum() and text[1] not in "xX":
        value = object.__new__(UUID)
        object.__setattr__(value, "int", int(text, 16))  # ValueError if not hex
        object.__setattr__(value, "is_safe", _UNKNOWN_SAFETY)
        return value
    return UUID(text)
