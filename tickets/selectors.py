"""Read-side queries over the ticket read models, with visibility.

Who sees a ticket: superusers and front-line leads see every ticket; other
staff see tickets their departments own now or have owned (the front line
owns every ticket's first stint, so it sees what it opened). Everything
else is "not found", so the API never confirms a ticket exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from departments.models import Membership
from departments.selectors import memberships_for_user
from tickets import clock
from tickets.domain import TicketNotFound
from tickets.models import Handoff, TicketSummary


def _sees_everything(user: Any, memberships: list[Membership]) -> bool:
    return bool(user.is_superuser) or any(
        m.department.is_front_line and m.role == Membership.Role.LEAD
        for m in memberships
    )


def sees_everything(user: Any) -> bool:
    """Superusers and front-line leads (service-team supervisors)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return _sees_everything(user, memberships_for_user(user))


def visible_tickets(user: Any) -> QuerySet[TicketSummary]:
    if not getattr(user, "is_authenticated", False):
        return TicketSummary.objects.none()
    memberships = memberships_for_user(user)
    if _sees_everything(user, memberships):
        return TicketSummary.objects.all()
    codes = {m.department.code for m in memberships}
    if not codes:
        return TicketSummary.objects.none()
    owned = Handoff.objects.filter(ticket_id=OuterRef("pk"), department__in=codes)
    return TicketSummary.objects.filter(Q(owner__in=codes) | Exists(owned))


def _with_clocks(queryset: QuerySet[TicketSummary]) -> QuerySet[TicketSummary]:
    from sla.models import SLAClock

    return queryset.prefetch_related(
        Prefetch("clocks", queryset=SLAClock.objects.order_by("started_at", "kind"))
    )


def ticket_get(user: Any, ticket_id: UUID | str) -> TicketSummary:
    """The ticket with its clocks and stints, if ``user`` may see it;
    raises ``TicketNotFound`` otherwise (3 queries)."""
    try:
        pk = UUID(str(ticket_id))
    except ValueError:
        raise TicketNotFound(f"No ticket {ticket_id}.") from None
    ticket = (
        _with_clocks(visible_tickets(user))
        .prefetch_related(
            Prefetch("handoffs", queryset=Handoff.objects.order_by("started_position"))
        )
        .filter(pk=pk)
        .first()
    )
    if ticket is None:
        raise TicketNotFound(f"No ticket {ticket_id}.")
    return ticket


@dataclass(frozen=True)
class TicketFilters:
    status: str = ""
    department: str = ""
    priority: str = ""
    scenario: str = ""
    channel: str = ""
    customer_ref: str = ""
    external_ref: str = ""
    breached: bool | None = None
    at_risk: bool | None = None
    updated_since: datetime | None = None


def ticket_list(user: Any, filters: TicketFilters) -> QuerySet[TicketSummary]:
    """Visible tickets matching ``filters``, clocks prefetched (2 queries
    per page whatever its size)."""
    from sla.models import SLAClock

    queryset = visible_tickets(user)
    exact = {
        "status": filters.status,
        "owner": filters.department.upper(),
        "priority": filters.priority,
        "scenario": filters.scenario.upper(),
        "channel": filters.channel,
        "customer_ref": filters.customer_ref,
        "external_ref": filters.external_ref,
    }
    queryset = queryset.filter(**{k: v for k, v in exact.items() if v})
    if filters.updated_since is not None:
        queryset = queryset.filter(updated_at__gte=filters.updated_since)
    if filters.breached is not None:
        breached = SLAClock.objects.filter(
            ticket_id=OuterRef("pk"), breach_recorded=True
        )
        queryset = queryset.filter(
            Exists(breached) if filters.breached else ~Exists(breached)
        )
    if filters.at_risk is not None:
        risky = SLAClock.objects.filter(
            ticket_id=OuterRef("pk"),
            state=SLAClock.State.RUNNING,
            warn_at__lte=clock.now(),
        )
        queryset = queryset.filter(Exists(risky) if filters.at_risk else ~Exists(risky))
    return _with_clocks(queryset)
