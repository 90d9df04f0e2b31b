"""Who acts, and what the aggregate is told about departments and agents.

:class:`Principal` is who issues a command; :meth:`Principal.actor_for`
turns it into the :class:`Actor` stored in every event.
:func:`register_transcodings` stores actors as plain JSON objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from tickets.domain.vocabulary import ActorKind


@dataclass(frozen=True)
class Actor:
    """Who did something, and for which department.

    ``name`` is the full display name (internal views); ``short_name`` is
    what customers may see (a first name or a role), never a surname.
    """

    kind: str
    id: str
    name: str = ""
    short_name: str = ""
    department: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ActorKind.__members__.values():
            raise ValueError(f"unknown actor kind {self.kind!r}")
        if not self.id:
            raise ValueError("an actor needs an id")

    @classmethod
    def system(cls, name: str = "Baton") -> Actor:
        return cls(kind=ActorKind.SYSTEM, id="system", name=name, short_name=name)


@dataclass(frozen=True)
class Principal:
    """Someone who issues commands, with every department they belong to.

    The application turns a principal into the :class:`Actor` stored in an
    event once it knows the ticket: staff act for the owning department when
    they belong to it, else for the front line, else for their first one.
    """

    kind: str
    id: str
    name: str = ""
    short_name: str = ""
    departments: tuple[str, ...] = ()
    #: The departments this principal leads (a subset of ``departments``).
    leads: tuple[str, ...] = ()

    def actor_for(self, owner: str | None, front_line: str | None = None) -> Actor:
        department: str | None = None
        for preferred in (owner, front_line):
            if preferred is not None and preferred in self.departments:
                department = preferred
                break
        else:
            department = self.departments[0] if self.departments else None
        return Actor(
            kind=self.kind,
            id=self.id,
            name=self.name,
            short_name=self.short_name,
            department=department,
        )


@dataclass(frozen=True)
class DepartmentRef:
    """What the aggregate needs to know about a department it is handed."""

    code: str
    name: str
    active: bool = True
    front_line: bool = False
    #: IANA name; fixed in the events that start the department's stints,
    #: so scorecard periods (days, weeks, months in the department's own
    #: time) never move when the department's settings change later.
    timezone: str = "UTC"


@dataclass(frozen=True)
class AgentRef:
    """A user who may be assigned, with the departments they belong to."""

    id: str
    name: str
    departments: frozenset[str] = frozenset()


class ActorAsDict(Transcoding):
    """Stores :class:`Actor` values as plain JSON objects."""

    type = Actor
    name = "actor"

    def encode(self, obj: Actor) -> dict[str, Any]:
        return {
            "kind": obj.kind,
            "id": obj.id,
            "name": obj.name,
            "short_name": obj.short_name,
            "department": obj.department,
        }

    def decode(self, data: dict[str, Any]) -> Actor:
        return Actor(**data)


def register_transcodings(transcoder: JSONTranscoder) -> None:
    transcoder.register(ActorAsDict())
