"""Every way a ticket command can be refused.

Each rule has one :class:`TicketError` subclass with a stable ``code``
(the API's machine-readable error code; the class docstring, "Raised
when ...", is its meaning in the OpenAPI description). :data:`ERROR_CODES`
is the one table of those codes, derived from the classes below, so a new
rule is a new class and nothing else. :class:`InvalidInput` is the
exception: each instance carries a field-level code (``field_required``,
``field_too_long``, ``invalid_type``, ``invalid_characters``,
``invalid_choice``, ``invalid_scenario``, ``invalid_timezone``, or one of
the interfaces' own).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import ClassVar


class TicketError(Exception):
    """Base class of every rejected ticket command; ``code`` is stable."""

    code: ClassVar[str] = "ticket_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(TicketError):
    """Raised when a command argument is missing, too long or malformed."""

    code = "invalid_input"

    def __init__(self, message: str, *, field: str, code: str) -> None:
        super().__init__(message, field=field)
        self.code = code  # type: ignore[misc]


class NotOwner(TicketError):
    """Raised when a department that does not own the ticket acts on it."""

    code = "not_owner"


class NotPermitted(TicketError):
    """Raised when the actor's kind or department may not issue a command."""

    code = "not_permitted"


class HandoffToCurrentOwner(TicketError):
    """Raised when a ticket is handed to the department that owns it."""

    code = "handoff_to_current_owner"


class DepartmentInactive(TicketError):
    """Raised when a ticket is handed to an inactive department."""

    code = "department_inactive"


class ReasonRequired(TicketError):
    """Raised when a handoff or reopen gives no reason."""

    code = "reason_required"


class TicketResolved(TicketError):
    """Raised when anything but a reopen is tried on a resolved ticket."""

    code = "ticket_resolved"


class TicketClosed(TicketError):
    """Raised when anything at all is tried on a closed ticket."""

    code = "ticket_closed"


class TicketNotResolved(TicketError):
    """Raised when a ticket that is not resolved is reopened or closed."""

    code = "ticket_not_resolved"


class AlreadyWaiting(TicketError):
    """Raised when waiting starts on a ticket already waiting."""

    code = "already_waiting"


class NotWaiting(TicketError):
    """Raised when waiting ends on a ticket that is not waiting."""

    code = "not_waiting"


class AssigneeNotMember(TicketError):
    """Raised when the assignee is not a member of the owning department."""

    code = "assignee_not_member"


class NoChange(TicketError):
    """Raised when a change command would leave the ticket as it is."""

    code = "no_change"


class UnknownHandoff(TicketError):
    """Raised when a rating names a handoff that is not one of this
    ticket's stints."""

    code = "unknown_handoff"


class HandoffNotFinished(TicketError):
    """Raised when a handoff is rated before its department's part ended."""

    code = "handoff_not_finished"


class AlreadyRated(TicketError):
    """Raised when a handoff (or the ticket) is rated a second time."""

    code = "already_rated"


class InvalidScore(TicketError):
    """Raised when a rating is not a whole number from 1 to 5."""

    code = "invalid_score"


class NothingToDispute(TicketError):
    """Raised when a dispute names a breach or rating that was never
    recorded for that handoff."""

    code = "nothing_to_dispute"


class AlreadyDisputed(TicketError):
    """Raised when the breach or rating is already disputed (each may be
    disputed once; the decision is final)."""

    code = "already_disputed"


class UnknownDispute(TicketError):
    """Raised when a decision names a dispute this ticket does not have."""

    code = "unknown_dispute"


class DisputeAlreadyDecided(TicketError):
    """Raised when a dispute that was already accepted or waived is
    decided again."""

    code = "dispute_already_decided"


class ClockNotFound(TicketError):
    """Raised when a ticket has no clock with the given id."""

    code = "clock_not_found"


class SLAAlreadyRecorded(TicketError):
    """Raised when a clock's warning or breach was already recorded."""

    code = "sla_already_recorded"


class ClockNotDue(TicketError):
    """Raised when a warning or breach is recorded for a clock that is not
    running or has not reached the threshold yet."""

    code = "clock_not_due"


class TicketNotFound(TicketError):
    """Raised when no ticket has the given id."""

    code = "ticket_not_found"


class ConcurrencyConflict(TicketError):
    """Raised when another command changed the ticket after it was loaded;
    nothing from the losing command was stored."""

    code = "version_conflict"


def _rules(base: type[TicketError]) -> Iterator[type[TicketError]]:
    for cls in base.__subclasses__():
        yield cls
        yield from _rules(cls)


def _error_codes() -> Mapping[str, type[TicketError]]:
    table: dict[str, type[TicketError]] = {}
    for cls in _rules(TicketError):
        if cls.code in table:
            raise RuntimeError(
                f"{cls.__name__} and {table[cls.code].__name__} share the "
                f"code {cls.code!r}: every rule needs its own."
            )
        table[cls.code] = cls
    return MappingProxyType(table)


#: Every domain rule's stable code -> the exception raised when it is
#: broken, in the order the rules are defined above. (Other layers may
#: subclass TicketError for their own refusals, e.g.
#: ``tickets.application.VersionMismatch``; those are not domain rules.)
ERROR_CODES: Mapping[str, type[TicketError]] = _error_codes()
