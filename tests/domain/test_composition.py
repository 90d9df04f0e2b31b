"""How the Ticket aggregate is put together from its mixins: one class per
event, each a ``Ticket.Event`` with its pinned topic; one table of error
codes; old event shapes still load (upcasters)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eventsourcing.domain import CanMutateAggregate
from eventsourcing.persistence import (
    DatetimeAsISO,
    JSONTranscoder,
    Mapper,
    UUIDAsHex,
)
from eventsourcing.utils import get_topic, resolve_topic

from tests.domain.support import at, cs_agent, fin_agent
from tickets import domain
from tickets.domain import (
    ERROR_CODES,
    DepartmentRef,
    Ticket,
    TicketError,
    register_transcodings,
)
from tickets.domain.clock_events import ClockKeeping
from tickets.domain.disputes import Disputes
from tickets.domain.followups import FollowUps
from tickets.domain.handoffs import Handoffs
from tickets.domain.journeys import Journeys
from tickets.domain.lifecycle import Lifecycle
from tickets.domain.ratings import Ratings
from tickets.domain.waiting import Waiting

MIXINS = (
    Journeys,
    Lifecycle,
    Handoffs,
    Waiting,
    FollowUps,
    Ratings,
    Disputes,
    ClockKeeping,
)
PARIS_CS = DepartmentRef(
    "CS", "Customer Service", front_line=True, timezone="Europe/Paris"
)
PARIS_FIN = DepartmentRef("FIN", "Finance", timezone="Europe/Paris")


def _history() -> list[Any]:
    """Opened, HandedOff, Resolved, Reopened, in Paris time."""
    ticket = Ticket.open(
        subject="Refund",
        description="",
        customer_ref="C",
        channel="web",
        front_line=PARIS_CS,
        actor=cs_agent,
        at=at(0),
    )
    ticket.hand_off(to=PARIS_FIN, reason="Approval", actor=cs_agent, at=at(1))
    ticket.resolve(resolution="Paid", root_cause="policy", actor=fin_agent, at=at(2))
    ticket.reopen(reason="Not paid", actor=cs_agent, at=at(3))
    return list(ticket.collect_events())


def events_of(cls: type) -> dict[str, type]:
    return {
        name: value
        for name, value in vars(cls).items()
        if isinstance(value, type) and issubclass(value, CanMutateAggregate)
    }


def test_every_event_of_every_mixin_is_the_same_class_on_ticket() -> None:
    seen: dict[str, type] = {}
    for mixin in MIXINS:
        for name, cls in events_of(mixin).items():
            assert name not in seen, f"{name} is defined twice"
            seen[name] = cls
            assert getattr(Ticket, name) is cls
            assert vars(Ticket)[name] is cls
    assert set(seen) | {"Event"} == set(events_of(Ticket))


@pytest.mark.parametrize(
    "name", sorted(set(events_of(Ticket)) - {"Event"}), ids=lambda n: n
)
def test_each_event_is_a_ticket_event_with_a_registered_pinned_topic(
    name: str,
) -> None:
    cls = getattr(Ticket, name)
    assert issubclass(cls, Ticket.Event)
    assert cls.__name__ == name
    assert f"baton.tickets:Ticket.{name}" == cls.TOPIC
    assert get_topic(cls) == cls.TOPIC
    assert resolve_topic(cls.TOPIC) is cls


def test_the_mixins_are_not_aggregates_of_their_own() -> None:
    from eventsourcing.domain import BaseAggregate

    assert issubclass(Ticket, BaseAggregate)
    assert resolve_topic("baton.tickets:Ticket") is Ticket
    for mixin in MIXINS:
        assert not issubclass(mixin, BaseAggregate)


def test_two_mixin_events_with_one_name_are_refused() -> None:
    from eventsourcing.domain import Aggregate

    from tickets.domain.state import TicketEvent, TicketState

    class Other(TicketState):
        class HandedOff(TicketEvent):
            TOPIC = "tests:Other.HandedOff"

    with pytest.raises(TypeError, match="Two ticket events are called HandedOff"):

        class Clash(Other, Handoffs, TicketState, Aggregate):
            TOPIC = "tests:Clash"


def test_the_base_event_cannot_be_triggered() -> None:
    from eventsourcing.domain import ProgrammingError

    [opened, *_] = _history()
    ticket = opened.mutate(None)
    with pytest.raises(ProgrammingError):
        ticket._trigger(Ticket.Event, cs_agent, at(9))


def test_created_events_carry_the_ticket_as_originator() -> None:
    [opened, *_] = _history()
    assert isinstance(opened, Ticket.Opened)
    assert isinstance(opened, Ticket.Event)
    assert opened.originator_topic == "baton.tickets:Ticket"
    assert type(opened.mutate(None)) is Ticket


# --- errors ----------------------------------------------------------------


def all_rules(base: type[TicketError] = TicketError) -> list[type[TicketError]]:
    found: list[type[TicketError]] = []
    for cls in base.__subclasses__():
        found += [cls, *all_rules(cls)]
    return found


def test_error_codes_list_every_rule_of_the_domain_once() -> None:
    # Other layers add their own (tickets.application.VersionMismatch...).
    rules = [c for c in all_rules() if c.__module__.startswith("tickets.domain")]
    assert len(rules) == len(ERROR_CODES) > 20
    for cls in rules:
        assert ERROR_CODES[cls.code] is cls
        assert getattr(domain, cls.__name__) is cls
    assert ERROR_CODES["not_owner"] is domain.NotOwner
    assert ERROR_CODES["version_conflict"] is domain.ConcurrencyConflict
    assert "ticket_error" not in ERROR_CODES


# --- stored shapes -----------------------------------------------------------


def mapper() -> Mapper[Any]:
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DatetimeAsISO())
    register_transcodings(transcoder)
    return Mapper(transcoder=transcoder)


def as_version_1(stored: Any, field: str) -> Any:
    """The stored event as written before departments' timezones were
    fixed in events: no timezone field, no class_version."""
    state = json.loads(stored.state)
    del state[field]
    state.pop("class_version")
    return type(stored)(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=json.dumps(state).encode(),
    )


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("Opened", "department_timezone"),
        ("HandedOff", "to_department_timezone"),
        ("Reopened", "department_timezone"),
    ],
)
def test_events_stored_before_timezones_load_as_utc(name: str, field: str) -> None:
    events = _history()
    [event] = [e for e in events if type(e).__name__ == name]
    assert getattr(event, field) == "Europe/Paris"
    stored = mapper().to_stored_event(event)
    assert stored.topic == f"baton.tickets:Ticket.{name}"
    assert (
        json.loads(stored.state)["class_version"] == getattr(Ticket, name).class_version
    )
    loaded = mapper().to_domain_event(as_version_1(stored, field))
    assert type(loaded) is getattr(Ticket, name)
    assert getattr(loaded, field) == "UTC"
    assert loaded.actor == event.actor
    reloaded = mapper().to_domain_event(stored)
    assert getattr(reloaded, field) == "Europe/Paris"


FILE = {
    "id": "5f0c5a8e-3c61-4bb4-9d7e-6d2f1f7a9c01",
    "name": "proof.pdf",
    "size": 1234,
    "content_type": "application/pdf",
    "sha256": "ab" * 32,
}


@pytest.mark.parametrize(
    "name", ["Opened", "Responded", "NoteAdded", "CustomerReplied"]
)
def test_entries_stored_before_attachments_load_with_none(name: str) -> None:
    ticket = Ticket.open(
        subject="Refund",
        description="",
        customer_ref="C",
        channel="web",
        front_line=PARIS_CS,
        actor=cs_agent,
        at=at(0),
        attachments=[FILE],
    )
    ticket.respond(body="Hello", actor=cs_agent, at=at(1), attachments=[FILE])
    ticket.add_note(body="Internal", actor=cs_agent, at=at(2), attachments=[FILE])
    ticket.record_customer_reply(
        body="Thanks", actor=cs_agent, at=at(3), attachments=[FILE]
    )
    event = next(e for e in ticket.collect_events() if type(e).__name__ == name)
    assert event.attachments == [FILE]
    stored = mapper().to_stored_event(event)
    old = as_version_1(stored, "attachments")
    assert b"attachments" not in old.state
    loaded = mapper().to_domain_event(old)
    assert type(loaded) is getattr(Ticket, name)
    assert loaded.attachments == []
    assert mapper().to_domain_event(stored).attachments == event.attachments


def test_waiting_stored_before_requests_loads_with_none_asked() -> None:
    ticket = Ticket.open(
        subject="Refund",
        description="",
        customer_ref="C",
        channel="web",
        front_line=PARIS_CS,
        actor=cs_agent,
        at=at(0),
    )
    ticket.wait_on_customer(
        reason="why", request="the receipt", actor=cs_agent, at=at(1)
    )
    event = next(
        e for e in ticket.collect_events() if isinstance(e, Ticket.WaitingOnCustomer)
    )
    stored = mapper().to_stored_event(event)
    loaded = mapper().to_domain_event(as_version_1(stored, "request"))
    assert (loaded.reason, loaded.request) == ("why", "")
    assert mapper().to_domain_event(stored).request == "the receipt"
