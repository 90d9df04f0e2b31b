"""Public event names come from the pinned topics, never from class names."""

from __future__ import annotations

import pytest

from tickets.domain import TOPIC_PREFIX, Ticket
from tickets.event_format import (
    ACCEPTED_EVENT_NAMES,
    EVENT_CLASSES,
    EVENT_NAMES,
    EVENT_TOPICS,
    canonical_event_name,
    event_name,
)


def test_every_event_is_named_by_its_topic() -> None:
    assert "Ticket.HandedOff" in EVENT_NAMES
    assert "Ticket.Created" not in EVENT_NAMES  # the library's, never stored
    for name, cls in EVENT_CLASSES.items():
        assert cls.TOPIC == EVENT_TOPICS[name] == TOPIC_PREFIX + name  # type: ignore[attr-defined]
        assert event_name(cls) == name


def test_a_renamed_class_keeps_its_public_name() -> None:
    renamed = type("TicketWasPassedOn", (Ticket.HandedOff,), {})
    assert renamed.__name__ != "HandedOff"
    assert event_name(renamed) == "Ticket.HandedOff"


@pytest.mark.parametrize(
    ("given", "public"),
    [
        ("Ticket.HandedOff", "Ticket.HandedOff"),
        ("HandedOff", "Ticket.HandedOff"),
        (" SLABreached ", "Ticket.SLABreached"),
        ("Ticket.Created", None),
        ("Event", None),
        ("handedoff", None),
        ("Ticket.", None),
    ],
)
def test_inputs_accept_both_forms(given: str, public: str | None) -> None:
    assert canonical_event_name(given) == public
    assert (given.strip() in ACCEPTED_EVENT_NAMES) is (public is not None)
