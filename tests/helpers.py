"""Builders for test state. State is built through services, never by
writing read-model rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.contrib.auth.models import User

from departments.models import Department, Membership
from departments.services import membership_create, scenario_create
from tickets import services
from tickets.application import get_tickets_application
from tickets.domain import Principal

DEPARTMENTS = [
    ("CS", "Customer Service", Department.Kind.FRONT_LINE, "Asia/Shanghai"),
    ("FIN", "Finance", Department.Kind.BACK_OFFICE, "Asia/Shanghai"),
    ("LOG", "Logistics", Department.Kind.BACK_OFFICE, "America/New_York"),
    ("RISK", "Risk Control", Department.Kind.BACK_OFFICE, "Asia/Shanghai"),
    ("PROD", "Product", Department.Kind.BACK_OFFICE, "America/New_York"),
]

#: The scenario catalogue the tests use: (code, name, owner, parent code).
SCENARIOS = [
    ("REFUND", "Refund", "FIN", ""),
    ("DOUBLE_CHARGE", "Double charge", "FIN", "REFUND"),
    ("CHARGEBACK", "Chargeback", "RISK", ""),
    ("FRAUD", "Fraud", "RISK", ""),
    ("ACCOUNT_LOCKED", "Account locked", "RISK", ""),
    ("DELIVERY", "Delivery", "LOG", ""),
    ("LOST", "Lost", "LOG", "DELIVERY"),
    ("LOST_PARCEL", "Lost parcel", "LOG", "DELIVERY"),
    ("LOST-PARCEL", "Lost parcel (old code)", "LOG", "DELIVERY"),
    ("PARCEL", "Parcel", "LOG", "DELIVERY"),
    ("APP_BUG", "App bug", "PROD", ""),
    ("PAYMENT", "Payment", "FIN", ""),
]


@dataclass
class Org:
    departments: dict[str, Department] = field(default_factory=dict)
    agents: dict[str, User] = field(default_factory=dict)
    leads: dict[str, User] = field(default_factory=dict)

    def agent(self, code: str) -> Principal:
        return services.principal_for_user(self.agents[code])

    def lead(self, code: str) -> Principal:
        return services.principal_for_user(self.leads[code])


def make_user(username: str, *, first: str = "", last: str = "", **extra: Any) -> User:
    extra.setdefault("is_staff", True)
    return User.objects.create_user(
        username=username,
        password="pw-" + username,
        first_name=first or username.capitalize(),
        last_name=last,
        email=f"{username}@example.com",
        **extra,
    )


def make_org() -> Org:
    org = Org()
    for code, name, kind, tz in DEPARTMENTS:
        dept = Department.objects.create(code=code, name=name, kind=kind, timezone=tz)
        org.departments[code] = dept
        agent = make_user(
            f"{code.lower()}_agent",
            first=f"{code.title()}agent",
            last="Surnameof" + code.title(),
        )
        lead = make_user(
            f"{code.lower()}_lead",
            first=f"{code.title()}lead",
            last="Leadsurname" + code.title(),
        )
        membership_create(user=agent, department=dept, role=Membership.Role.AGENT)
        membership_create(user=lead, department=dept, role=Membership.Role.LEAD)
        org.agents[code] = agent
        org.leads[code] = lead
    seed_scenarios(org.departments)
    return org


def seed_scenarios(departments: dict[str, Department]) -> None:
    """Put the tests' scenarios in the catalogue (owners that are not in
    ``departments`` are left unset)."""
    created: dict[str, Any] = {}
    for code, name, owner, parent in SCENARIOS:
        created[code] = scenario_create(
            code,
            name,
            owner=departments.get(owner),
            parent=created.get(parent),
        )


def open_ticket(org: Org, **overrides: Any) -> UUID:
    fields: dict[str, Any] = {
        "subject": "Refund not received",
        "description": "I returned the parcel two weeks ago.",
        "customer_ref": "CUST-1",
        "customer_name": "Dana Customer",
        "customer_timezone": "Europe/Paris",
        "channel": "web",
        "scenario": "REFUND",
        "priority": "normal",
    }
    fields.update(overrides)
    return services.ticket_open(principal=org.agent("CS"), **fields).ticket_id


def stored_events(ticket_id: UUID | None = None) -> list[Any]:
    app = get_tickets_application()
    if ticket_id is not None:
        return list(app.events.get(ticket_id))
    return [
        app.mapper.to_domain_event(n)
        for n in app.recorder.select_notifications(start=1, limit=1_000_000)
    ]


def event_count() -> int:
    """Events in the log (not the max position: rejected writes on
    PostgreSQL burn sequence values)."""
    app = get_tickets_application()
    return len(app.recorder.select_notifications(start=1, limit=1_000_000))
