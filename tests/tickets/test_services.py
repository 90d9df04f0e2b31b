"""Services: the one write path. Each command is stored as events and the
read models show it as soon as the service returns; a rejected command
stores nothing and changes no row."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
import time_machine
from django.contrib.auth.models import User
from django.forms.models import model_to_dict

from tests.helpers import Org, event_count, make_user, open_ticket, stored_events
from tickets import services
from tickets.domain import ConcurrencyConflict, Ticket, TicketError, TicketNotFound
from tickets.models import Handoff, TicketSummary, TimelineEntry


def snapshot() -> dict[str, Any]:
    return {
        "events": event_count(),
        "tickets": [model_to_dict(t) for t in TicketSummary.objects.order_by("pk")],
        "handoffs": [model_to_dict(h) for h in Handoff.objects.order_by("pk")],
        "timeline": list(TimelineEntry.objects.order_by("position").values()),
    }


def assert_rejected(code: str, call: Any) -> TicketError:
    """The call raises a TicketError with ``code`` and leaves the event log
    and every read model exactly as they were."""
    before = snapshot()
    with pytest.raises(TicketError) as info:
        call()
    assert info.value.code == code, info.value.message
    assert snapshot() == before
    return info.value


@time_machine.travel("2026-03-02 09:00Z", tick=False)
def test_opening_a_ticket_shows_it_at_once_in_every_read_model(org: Org) -> None:
    ticket_id = open_ticket(org, external_ref="CRM-77")

    summary = TicketSummary.objects.get(pk=ticket_id)
    assert (summary.owner, summary.owner_name, summary.status) == (
        "CS",
        "Customer Service",
        "open",
    )
    assert (summary.customer_ref, summary.external_ref, summary.scenario) == (
        "CUST-1",
        "CRM-77",
        "REFUND",
    )
    assert summary.version == 1
    assert summary.opened_at.isoformat() == "2026-03-02T09:00:00+00:00"
    [stint] = Handoff.objects.filter(ticket_id=ticket_id)
    assert (stint.kind, stint.department, stint.from_department) == ("opened", "CS", "")
    [entry] = TimelineEntry.objects.filter(ticket_id=ticket_id)
    assert entry.audience == "customer"
    assert entry.text == "Request received on the website; Customer Service has it."
    assert (entry.actor_name, entry.actor_short_name) == (
        "Csagent SurnameofCs",
        "Csagent",
    )
    assert (entry.actor_kind, entry.actor_department) == ("user", "CS")


def test_a_journey_across_departments_is_recorded_stint_by_stint(org: Org) -> None:
    tid = open_ticket(org)
    cs, fin, log = org.agent("CS"), org.agent("FIN"), org.agent("LOG")
    with time_machine.travel("2026-03-02 09:05Z", tick=False):
        services.ticket_hand_off(
            principal=cs, ticket_id=tid, to_department="FIN", reason="Refund approval"
        )
    with time_machine.travel("2026-03-02 10:00Z", tick=False):
        services.ticket_respond(
            principal=fin, ticket_id=tid, body="Checking the refund"
        )
        services.ticket_assign(
            principal=fin, ticket_id=tid, agent_id=org.agents["FIN"].pk
        )
    with time_machine.travel("2026-03-02 11:00Z", tick=False):
        services.ticket_hand_off(
            principal=fin,
            ticket_id=tid,
            to_department="log",
            reason="Parcel never came back",
        )
        services.ticket_wait_on_customer(
            principal=log, ticket_id=tid, reason="Tracking number"
        )
    with time_machine.travel("2026-03-02 12:00Z", tick=False):
        services.ticket_record_customer_reply(
            principal=services.principal_for_customer(
                customer_ref="CUST-1", name="Dana Customer"
            ),
            ticket_id=tid,
            body="It is LX123",
        )
        services.ticket_add_note(principal=log, ticket_id=tid, body="Carrier lost it")
    with time_machine.travel("2026-03-02 13:00Z", tick=False):
        result = services.ticket_resolve(
            principal=log,
            ticket_id=tid,
            resolution="Refund issued",
            root_cause="process",
        )

    assert result.version == 10
    summary = TicketSummary.objects.get(pk=tid)
    assert (summary.owner, summary.status, summary.handoff_count) == (
        "LOG",
        "resolved",
        2,
    )
    assert summary.version == 10 and summary.position == result.position
    assert summary.resolved_at is not None

    stints = list(Handoff.objects.filter(ticket_id=tid).order_by("started_position"))
    assert [(s.department, s.outcome) for s in stints] == [
        ("CS", "handed_on"),
        ("FIN", "responded"),
        ("LOG", "resolved"),
    ]
    fin_stint = stints[1]
    assert fin_stint.reason == "Refund approval"
    assert fin_stint.first_response_at.isoformat() == "2026-03-02T10:00:00+00:00"
    assert fin_stint.ended_at.isoformat() == "2026-03-02T11:00:00+00:00"
    assert fin_stint.agent_id == str(org.agents["FIN"].pk)
    assert stints[2].first_response_at is None

    types = list(
        TimelineEntry.objects.filter(ticket_id=tid)
        .order_by("version")
        .values_list("event_type", "audience")
    )
    assert types == [
        ("Ticket.Opened", "customer"),
        ("Ticket.HandedOff", "customer"),
        ("Ticket.Responded", "customer"),
        ("Ticket.AgentAssigned", "internal"),
        ("Ticket.HandedOff", "customer"),
        ("Ticket.WaitingOnCustomer", "customer"),
        ("Ticket.CustomerReplied", "customer"),
        ("Ticket.WaitingEnded", "customer"),
        ("Ticket.NoteAdded", "internal"),
        ("Ticket.Resolved", "customer"),
    ]


def test_customer_visible_entries_never_carry_internal_reasons_or_surnames(
    org: Org,
) -> None:
    tid = open_ticket(org)
    services.ticket_hand_off(
        principal=org.agent("CS"),
        ticket_id=tid,
        to_department="FIN",
        reason="SECRET-REASON-123",
    )
    services.ticket_add_note(
        principal=org.agent("FIN"), ticket_id=tid, body="SECRET-NOTE-456"
    )
    services.ticket_respond(principal=org.agent("FIN"), ticket_id=tid, body="Hello!")
    for entry in TimelineEntry.objects.filter(ticket_id=tid, audience="customer"):
        public = " ".join([entry.text, entry.body, entry.actor_short_name])
        assert "SECRET" not in public
        assert "Surnameof" not in public
    internal = TimelineEntry.objects.filter(ticket_id=tid).exclude(audience="customer")
    assert [e.internal_detail for e in internal] == ["SECRET-NOTE-456"]


def test_a_rejected_command_stores_no_event_and_changes_no_row(org: Org) -> None:
    tid = open_ticket(org)
    # Finance does not own the ticket yet.
    assert_rejected(
        "not_owner",
        lambda: services.ticket_respond(
            principal=org.agent("FIN"), ticket_id=tid, body="hi"
        ),
    )
    assert_rejected(
        "reason_required",
        lambda: services.ticket_hand_off(
            principal=org.agent("CS"), ticket_id=tid, to_department="FIN", reason=" "
        ),
    )
    assert_rejected(
        "handoff_to_current_owner",
        lambda: services.ticket_hand_off(
            principal=org.agent("CS"), ticket_id=tid, to_department="CS", reason="x"
        ),
    )
    assert_rejected(
        "unknown_department",
        lambda: services.ticket_hand_off(
            principal=org.agent("CS"), ticket_id=tid, to_department="NOPE", reason="x"
        ),
    )
    assert_rejected(
        "unknown_agent",
        lambda: services.ticket_assign(
            principal=org.agent("CS"), ticket_id=tid, agent_id="not-a-number"
        ),
    )
    assert_rejected(
        "assignee_not_member",
        lambda: services.ticket_assign(
            principal=org.agent("CS"), ticket_id=tid, agent_id=org.agents["FIN"].pk
        ),
    )
    org.departments["RISK"].is_active = False
    org.departments["RISK"].save()
    assert_rejected(
        "department_inactive",
        lambda: services.ticket_hand_off(
            principal=org.agent("CS"), ticket_id=tid, to_department="RISK", reason="x"
        ),
    )
    assert_rejected(
        "field_too_long",
        lambda: services.ticket_respond(
            principal=org.agent("CS"), ticket_id=tid, body="x" * 10_001
        ),
    )


def test_opening_with_invalid_input_stores_nothing(org: Org) -> None:
    assert_rejected("invalid_choice", lambda: open_ticket(org, channel="fax"))
    assert_rejected("field_required", lambda: open_ticket(org, subject=""))


def test_a_user_without_a_department_cannot_work_tickets(org: Org) -> None:
    tid = open_ticket(org)
    loner = services.principal_for_user(make_user("loner"))
    assert_rejected(
        "not_permitted",
        lambda: services.ticket_add_note(principal=loner, ticket_id=tid, body="hi"),
    )
    assert_rejected(
        "not_permitted",
        lambda: services.ticket_open(
            principal=loner, subject="x", customer_ref="C", channel="web"
        ),
    )


def test_a_non_front_line_caller_opens_with_the_only_front_line(
    org: Org,
) -> None:
    result = services.ticket_open(
        principal=org.agent("FIN"),
        subject="From the CRM",
        customer_ref="C9",
        channel="app",
    )
    assert TicketSummary.objects.get(pk=result.ticket_id).owner == "CS"


def test_commands_on_an_unknown_ticket_raise_not_found(org: Org) -> None:
    with pytest.raises(TicketNotFound):
        services.ticket_respond(principal=org.agent("CS"), ticket_id=uuid4(), body="hi")


def test_a_stale_expected_version_is_rejected_and_stores_nothing(org: Org) -> None:
    tid = open_ticket(org)
    services.ticket_add_note(principal=org.agent("CS"), ticket_id=tid, body="first")
    error = assert_rejected(
        "version_mismatch",
        lambda: services.ticket_add_note(
            principal=org.agent("CS"), ticket_id=tid, body="second", expected_version=1
        ),
    )
    assert "version 2" in error.message
    services.ticket_add_note(
        principal=org.agent("CS"), ticket_id=tid, body="ok", expected_version=2
    )
    assert [type(e) for e in stored_events(tid)][-1] is Ticket.NoteAdded


def test_a_concurrent_save_surfaces_as_one_conflict_error(org: Org) -> None:
    """Two commands loaded the same version; the second save is refused."""
    from tickets.application import get_tickets_application

    tid = open_ticket(org)
    app = get_tickets_application()
    first, second = app.get_ticket(tid), app.get_ticket(tid)
    cs = org.agent("CS").actor_for("CS")
    first.add_note(body="one", actor=cs, at=first.modified_on)
    second.add_note(body="two", actor=cs, at=second.modified_on)
    app._save(first)
    with pytest.raises(ConcurrencyConflict) as info:
        app._save(second)
    assert info.value.code == "version_conflict"
    assert [e.body for e in stored_events(tid) if isinstance(e, Ticket.NoteAdded)] == [
        "one"
    ]


def test_principal_for_user_uses_first_name_never_the_surname(org: Org) -> None:
    principal = services.principal_for_user(org.agents["FIN"])
    assert principal.short_name == "Finagent"
    assert principal.departments == ("FIN",)
    nameless = User.objects.create_user("nameless", is_staff=True)
    from departments.models import Membership

    Membership.objects.create(user=nameless, department=org.departments["LOG"])
    assert services.principal_for_user(nameless).short_name == "Logistics agent"
