"""Resolving names a root cause (never a default one) and, for the causes
Product or a process owner acts on, optionally a product area and a
free-text detail; resolutions stored before that load with both empty."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.domain.support import CS, FIN, at, cs_agent, fin_agent
from tests.domain.test_composition import mapper
from tickets.domain import InvalidInput, Ticket


def _ticket() -> Ticket:
    ticket = Ticket.open(
        subject="Invoice PDF is blank",
        description="",
        customer_ref="C-1",
        channel="web",
        front_line=CS,
        actor=cs_agent,
        at=at(0),
    )
    ticket.hand_off(to=FIN, reason="Billing", actor=cs_agent, at=at(1))
    return ticket


def _resolved(ticket: Ticket) -> Any:
    return [e for e in ticket.collect_events() if isinstance(e, Ticket.Resolved)][-1]


@pytest.mark.parametrize("cause", ["product_defect", "process"])
def test_a_product_area_and_detail_are_recorded_for_product_and_process(
    cause: str,
) -> None:
    ticket = _ticket()
    ticket.resolve(
        resolution="Regenerated the PDF.",
        root_cause=cause,
        product_area="  Billing   /  invoices ",
        root_cause_detail=" Template misses the VAT block. ",
        actor=fin_agent,
        at=at(2),
    )
    event = _resolved(ticket)
    assert event.root_cause == cause
    # Surrounding and repeated inner spaces are dropped, so that the same
    # area typed twice groups as one problem.
    assert event.product_area == "Billing / invoices"
    assert event.root_cause_detail == "Template misses the VAT block."


def test_both_are_optional() -> None:
    ticket = _ticket()
    ticket.resolve(
        resolution="Fixed.", root_cause="product_defect", actor=fin_agent, at=at(2)
    )
    event = _resolved(ticket)
    assert (event.product_area, event.root_cause_detail) == ("", "")


@pytest.mark.parametrize("cause", ["policy", "customer_error", "other"])
@pytest.mark.parametrize("field", ["product_area", "root_cause_detail"])
def test_other_causes_refuse_a_product_area_or_detail(cause: str, field: str) -> None:
    ticket: Any = _ticket()
    before = len(ticket.pending_events)
    with pytest.raises(InvalidInput) as caught:
        ticket.resolve(
            resolution="Explained.",
            root_cause=cause,
            actor=fin_agent,
            at=at(2),
            **{field: "Checkout"},
        )
    assert caught.value.code == "root_cause_detail_not_allowed"
    assert caught.value.field == field
    assert len(ticket.pending_events) == before
    # Blank text is no detail at all.
    ticket.resolve(
        resolution="Explained.",
        root_cause=cause,
        actor=fin_agent,
        at=at(2),
        **{field: "   "},
    )
    assert getattr(_resolved(ticket), field) == ""


@pytest.mark.parametrize("cause", ["", None, "Product_Defect"])
def test_there_is_no_default_root_cause(cause: Any) -> None:
    ticket = _ticket()
    with pytest.raises(InvalidInput) as caught:
        ticket.resolve(resolution="Done.", root_cause=cause, actor=fin_agent, at=at(2))
    assert (caught.value.code, caught.value.field) == ("invalid_choice", "root_cause")


@pytest.mark.parametrize(
    ("field", "length"), [("product_area", 101), ("root_cause_detail", 1001)]
)
def test_text_limits(field: str, length: int) -> None:
    ticket: Any = _ticket()
    with pytest.raises(InvalidInput) as caught:
        ticket.resolve(
            resolution="Done.",
            root_cause="process",
            actor=fin_agent,
            at=at(2),
            **{field: "x" * length},
        )
    assert (caught.value.code, caught.value.field) == ("field_too_long", field)
    with pytest.raises(InvalidInput) as caught:
        ticket.resolve(
            resolution="Done.",
            root_cause="process",
            actor=fin_agent,
            at=at(2),
            **{field: "bad\x00text"},
        )
    assert caught.value.code == "invalid_characters"


def test_resolutions_stored_before_details_load_with_empty_ones() -> None:
    ticket = _ticket()
    ticket.resolve(
        resolution="Fixed.",
        root_cause="product_defect",
        product_area="Billing",
        root_cause_detail="VAT block",
        actor=fin_agent,
        at=at(2),
    )
    event = _resolved(ticket)
    stored = mapper().to_stored_event(event)
    assert stored.topic == "baton.tickets:Ticket.Resolved"
    state = json.loads(stored.state)
    assert state["class_version"] == Ticket.Resolved.class_version == 2
    del state["product_area"], state["root_cause_detail"], state["class_version"]
    old = type(stored)(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=json.dumps(state).encode(),
    )
    loaded: Any = mapper().to_domain_event(old)
    assert type(loaded) is Ticket.Resolved
    assert (loaded.product_area, loaded.root_cause_detail) == ("", "")
    assert (loaded.root_cause, loaded.resolution) == ("product_defect", "Fixed.")
    again: Any = mapper().to_domain_event(stored)
    assert (again.product_area, again.root_cause_detail) == ("Billing", "VAT block")
