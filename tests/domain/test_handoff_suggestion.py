"""HandedOff carries the routing suggestion (class_version 3); handoffs
stored before it load with none."""

from __future__ import annotations

import json
from typing import Any

from tests.domain.support import CS, LOG, at, cs_agent
from tests.domain.test_composition import mapper
from tickets.domain import Ticket


def handed_off(suggested: str = "") -> Ticket.HandedOff:
    ticket = Ticket.open(
        subject="Refund",
        description="",
        customer_ref="C",
        channel="web",
        front_line=CS,
        actor=cs_agent,
        at=at(0),
    )
    ticket.hand_off(
        to=LOG,
        reason="parcel",
        actor=cs_agent,
        at=at(1),
        suggested_department=suggested,
    )
    return next(e for e in ticket.collect_events() if isinstance(e, Ticket.HandedOff))


def test_the_suggestion_is_stored_and_acting_against_it_is_allowed() -> None:
    event = handed_off("fin")
    assert event.suggested_department == "FIN"
    assert event.to_department == "LOG"
    stored = mapper().to_stored_event(event)
    state = json.loads(stored.state)
    assert state["class_version"] == 3 == Ticket.HandedOff.class_version
    reloaded: Any = mapper().to_domain_event(stored)
    assert reloaded.suggested_department == "FIN"


def test_handoffs_stored_before_suggestions_load_with_none() -> None:
    stored = mapper().to_stored_event(handed_off("FIN"))
    state = json.loads(stored.state)
    del state["suggested_department"]
    state["class_version"] = 2
    old = type(stored)(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=json.dumps(state).encode(),
    )
    loaded: Any = mapper().to_domain_event(old)
    assert type(loaded) is Ticket.HandedOff
    assert loaded.suggested_department == ""
    assert loaded.to_department_timezone == state["to_department_timezone"]
