"""The words of the ticket domain: states, choices, limits and topics.

Every value here is stored in events, so changing one is a data migration;
adding one is not.
"""

from __future__ import annotations

import re
from enum import StrEnum

#: Prefix of every stored topic (``baton.tickets:Ticket.<Name>``): pinned,
#: so that moving or renaming classes never orphans stored events.
TOPIC_PREFIX = "baton.tickets:"


def event_topic(name: str) -> str:
    """The stored topic of the Ticket event class called ``name``."""
    return f"{TOPIC_PREFIX}Ticket.{name}"


class Status(StrEnum):
    OPEN = "open"
    WAITING = "waiting"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Channel(StrEnum):
    PHONE = "phone"
    WEB = "web"
    APP = "app"
    CHAT = "chat"
    EMAIL = "email"
    SOCIAL = "social"
    OTHER = "other"


class RootCause(StrEnum):
    PRODUCT_DEFECT = "product_defect"
    PROCESS = "process"
    POLICY = "policy"
    CUSTOMER_ERROR = "customer_error"
    OTHER = "other"


class ActorKind(StrEnum):
    USER = "user"
    INTEGRATION = "integration"
    CUSTOMER = "customer"
    SYSTEM = "system"


class StintOutcome(StrEnum):
    """How a department's response obligation for one stint ended."""

    RESPONDED = "responded"
    HANDED_ON = "handed_on"
    RESOLVED = "resolved"
    #: The ticket waited on the customer past its limit and was closed.
    ABANDONED = "abandoned"


class ClockKind(StrEnum):
    RESPONSE = "response"
    RESOLUTION = "resolution"


class DisputeSubject(StrEnum):
    """What a department's scorecard may be disputed over."""

    BREACH = "breach"
    RATING = "rating"


class DisputeDecision(StrEnum):
    ACCEPTED = "accepted"  # the breach or rating stands
    WAIVED = "waived"  # it no longer counts in adjusted figures


MAX_SUBJECT = 200
MAX_TEXT = 10_000
MAX_REASON = 1_000
MAX_SHORT = 200
MAX_EXTERNAL_REF = 128
MAX_COMMENT = 2_000
#: Files one entry (a reply, a note, a customer message, the opening
#: message) may carry, and what its event records of each.
MAX_ATTACHMENTS = 10
ATTACHMENT_KEYS = ("id", "name", "size", "content_type", "sha256")
# C0 controls other than tab, newline and carriage return, and DEL: a NUL
# cannot even be stored in a PostgreSQL text column.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SCENARIO_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
