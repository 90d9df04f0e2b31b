"""The dissatisfied few, followed up, through the services: the read model,
the alert, the overdue rule, the inbox's scope and order, and refusals that
store nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail

from tests.helpers import Org, event_count, open_ticket
from tickets import services
from tickets.application import get_tickets_application
from tickets.domain import TicketError
from tickets.followups import dashboard_counts, is_overdue, visible_follow_ups
from tickets.mail.notifications import send_due
from tickets.models import EmailNotification, FollowUp, FollowUpEntry, Handoff
from tickets.projection_runner import catch_up, projection_group, rebuild

T0 = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
FOLLOW_UP = "tickets.projections.FollowUpProjection"


def test_the_follow_up_read_model_is_a_core_projection() -> None:
    """Caught up inline with the ticket: the inbox shows a low rating's
    follow-up as soon as the rating is stored."""
    assert FOLLOW_UP in django_settings.BATON_PROJECTION_GROUPS["core"]


def customer(ref: str = "CUST-1") -> Any:
    return services.principal_for_customer(customer_ref=ref)


def handed_to(org: Org, *codes: str, ref: str = "CUST-1", subject: str = "") -> UUID:
    """A ticket the front line handed along ``codes``; the stints before
    the last are finished, so they can be rated."""
    tid = open_ticket(org, customer_ref=ref, subject=subject or f"Refund {ref}")
    holder = "CS"
    for code in codes:
        services.ticket_hand_off(
            principal=org.agent(holder), ticket_id=tid, to_department=code, reason="x"
        )
        holder = code
    return tid


def stint(tid: UUID, department: str) -> UUID:
    return Handoff.objects.get(ticket_id=tid, department=department).id


def rate(tid: UUID, department: str, score: int, ref: str = "CUST-1") -> None:
    services.ticket_rate_handoff(
        principal=customer(ref),
        ticket_id=tid,
        handoff_id=stint(tid, department),
        score=score,
        comment=f"{department} never called",
    )


def step(org: Org, tid: UUID, follow_up: FollowUp, name: str, **inputs: Any) -> Any:
    return services.ticket_command(
        f"follow_up_{name}",
        principal=org.lead("CS"),
        ticket_id=tid,
        follow_up_id=follow_up.pk,
        **inputs,
    )


@pytest.fixture
def rated(org: Org) -> tuple[UUID, FollowUp]:
    with time_machine.travel(T0, tick=False):
        tid = handed_to(org, "FIN", "LOG")
        rate(tid, "FIN", 2)
    return tid, FollowUp.objects.get()


def test_a_low_rating_opens_a_follow_up_at_once(
    org: Org, rated: tuple[UUID, FollowUp]
) -> None:
    tid, follow_up = rated
    assert (follow_up.ticket_id, follow_up.department, follow_up.score) == (
        tid,
        "FIN",
        2,
    )
    assert follow_up.comment == "FIN never called"
    assert follow_up.status == "open" and follow_up.opened_at == T0
    assert follow_up.due_at == T0 + timedelta(hours=24)
    assert list(follow_up.entries.values_list("step", flat=True)) == ["opened"]


@pytest.mark.parametrize("score", [3, 5])
def test_a_fair_rating_opens_none(org: Org, score: int) -> None:
    tid = handed_to(org, "FIN", "LOG")
    rate(tid, "FIN", score)
    assert not FollowUp.objects.exists()


def test_the_due_time_follows_the_setting(org: Org, settings: Any) -> None:
    settings.FOLLOWUP_DUE_HOURS = 4
    with time_machine.travel(T0, tick=False):
        tid = handed_to(org, "FIN", "LOG")
        rate(tid, "FIN", 1)
    assert FollowUp.objects.get().due_at == T0 + timedelta(hours=4)


def test_each_step_shows_in_the_read_model_and_its_history(
    org: Org, rated: tuple[UUID, FollowUp]
) -> None:
    tid, follow_up = rated
    lead = org.leads["CS"]
    step(org, tid, follow_up, "assign", owner_id=lead.pk)
    step(org, tid, follow_up, "contact", method="phone", note="Apologised")
    step(org, tid, follow_up, "note", note="Finance refunds today")
    step(org, tid, follow_up, "close", outcome="product_fix", problem_ref="P-9")
    follow_up.refresh_from_db()
    assert follow_up.owner_id == str(lead.pk)
    assert follow_up.owner_name == lead.get_full_name()
    assert follow_up.contact_method == "phone" and follow_up.contacted_at
    assert (follow_up.status, follow_up.outcome, follow_up.problem_ref) == (
        "closed",
        "product_fix",
        "P-9",
    )
    steps = list(
        FollowUpEntry.objects.filter(follow_up=follow_up).values_list(
            "step", "actor_name"
        )
    )
    name = lead.get_full_name()
    assert steps == [
        ("opened", "Customer"),
        ("assign", name),
        ("contact", name),
        ("note", name),
        ("close", name),
    ]
    step(org, tid, follow_up, "reopen", reason="Refund bounced")
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.outcome, follow_up.closed_at) == (
        "open",
        "",
        None,
    )


def rows() -> dict[str, list[dict[str, Any]]]:
    return {
        "follow_ups": [dict(r) for r in FollowUp.objects.order_by("pk").values()],
        "entries": [
            {k: v for k, v in r.items() if k != "id"}
            for r in FollowUpEntry.objects.order_by("position").values()
        ],
    }


def test_the_rebuilt_read_model_equals_the_incremental_one(
    org: Org, rated: tuple[UUID, FollowUp]
) -> None:
    tid, follow_up = rated
    other = handed_to(org, "RISK", "LOG", ref="CUST-2")
    rate(other, "RISK", 1, ref="CUST-2")
    step(org, tid, follow_up, "note", note="Looking")
    step(org, tid, follow_up, "close", outcome="resolved")
    step(org, tid, follow_up, "reopen", reason="Again")
    incremental = rows()
    assert len(incremental["follow_ups"]) == 2 and len(incremental["entries"]) == 5
    rebuild(get_tickets_application(), projection_group("core"))
    assert rows() == incremental


@pytest.mark.parametrize(
    ("principal", "command", "inputs", "code"),
    [
        ("fin_lead", "note", {"note": "x"}, "not_permitted"),
        ("cs_agent", "note", {"note": "x"}, "not_permitted"),
        ("cs_lead", "note", {"note": " "}, "field_required"),
        ("cs_lead", "assign", {"owner_id": 99999}, "unknown_agent"),
        ("cs_lead", "contact", {"method": "pigeon"}, "invalid_choice"),
        ("cs_lead", "close", {"outcome": "meh"}, "invalid_choice"),
        ("cs_lead", "reopen", {"reason": "x"}, "no_change"),
        ("cs_lead", "reopen", {"reason": ""}, "no_change"),
        ("cs_lead", "note", {"note": "x", "follow_up_id": "new"}, None),
    ],
)
def test_refused_steps_store_nothing(
    org: Org,
    rated: tuple[UUID, FollowUp],
    principal: str,
    command: str,
    inputs: dict[str, Any],
    code: str | None,
) -> None:
    tid, follow_up = rated
    department, role = principal.split("_")
    who = getattr(org, role)(department.upper())
    follow_up_id = uuid4() if inputs.pop("follow_up_id", None) else follow_up.pk
    before, read_model = event_count(), rows()
    with pytest.raises(TicketError) as refused:
        services.ticket_command(
            f"follow_up_{command}",
            principal=who,
            ticket_id=tid,
            follow_up_id=follow_up_id,
            **inputs,
        )
    assert refused.value.code == (code or "unknown_follow_up")
    assert event_count() == before
    assert rows() == read_model


def test_a_closed_follow_up_is_not_closed_twice(
    org: Org, rated: tuple[UUID, FollowUp]
) -> None:
    tid, follow_up = rated
    step(org, tid, follow_up, "close", outcome="no_action")
    before = event_count()
    with pytest.raises(TicketError) as refused:
        step(org, tid, follow_up, "close", outcome="resolved")
    assert refused.value.code == "follow_up_closed"
    assert event_count() == before


def test_the_rated_department_is_alerted_once(
    org: Org, rated: tuple[UUID, FollowUp]
) -> None:
    org.departments["FIN"].email = "finance@example.com"
    org.departments["FIN"].save()
    tid = handed_to(org, "FIN", "LOG", ref="CUST-3")
    rate(tid, "FIN", 1, ref="CUST-3")
    app = get_tickets_application()
    catch_up(app, projection_group("mail"))
    catch_up(app, projection_group("mail"))  # a second run adds nothing
    alerts = EmailNotification.objects.filter(kind="dissatisfied")
    # The first rating's alert went before the mailbox was set: its lead only.
    by_ticket = sorted((str(r.ticket_id), r.recipient) for r in alerts)
    assert [r for t, r in by_ticket if t == str(tid)] == sorted(
        ["finance@example.com", org.leads["FIN"].email]
    )
    assert len(alerts) == 3
    row = alerts.filter(ticket_id=tid, recipient="finance@example.com").get()
    assert row.audience == "staff"
    assert "1/5" in row.subject and "FIN never called" in row.text
    assert "/admin/tickets/ticketsummary/follow-ups/" in row.text
    assert org.agents["FIN"].email not in {a.recipient for a in alerts}
    # Never the customer, and no customer link.
    assert "[[baton-link" not in row.text
    send_due()
    sent = {m.to[0]: m for m in mail.outbox if m.subject == row.subject}
    assert set(sent) == {"finance@example.com", org.leads["FIN"].email}
    assert not sent["finance@example.com"].reply_to


def test_overdue_once_the_due_time_passes(
    org: Org, rated: tuple[UUID, FollowUp]
) -> None:
    _, follow_up = rated
    assert not is_overdue(follow_up, T0 + timedelta(hours=24))
    assert is_overdue(follow_up, T0 + timedelta(hours=24, seconds=1))
    with time_machine.travel(T0 + timedelta(hours=25), tick=False):
        assert is_overdue(follow_up)
        assert dashboard_counts(None) == {
            "open": 1,
            "overdue": 1,
            "by_department": {"FIN": {"open": 1, "overdue": 1}},
        }
        assert dashboard_counts({"LOG"})["open"] == 0


def test_the_inbox_lists_overdue_first_then_the_oldest(org: Org) -> None:
    made: dict[str, UUID] = {}
    for hours, ref, code in ((0, "A", "FIN"), (10, "B", "RISK"), (30, "C", "FIN")):
        with time_machine.travel(T0 + timedelta(hours=hours), tick=False):
            tid = handed_to(org, code, "LOG", ref=ref)
            rate(tid, code, 1, ref=ref)
            made[ref] = tid
    closed = FollowUp.objects.get(ticket_id=made["A"])
    step(org, made["A"], closed, "close", outcome="resolved")
    now = T0 + timedelta(hours=36)  # B is overdue; C is not yet
    listed = [r.ticket_id for r in visible_follow_ups(org.leads["CS"], now)]
    assert listed == [made["B"], made["C"], made["A"]]
    # The rated department's lead sees its own only; agents none.
    assert [r.ticket_id for r in visible_follow_ups(org.leads["FIN"], now)] == [
        made["C"],
        made["A"],
    ]
    assert not visible_follow_ups(org.agents["CS"], now).exists()
    assert not visible_follow_ups(org.leads["LOG"], now).exists()
