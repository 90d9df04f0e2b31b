"""Read-side queries over the ticket read models, with visibility.

Who sees a ticket: superusers and front-line leads see every ticket; other
staff see tickets their departments own now or have owned (the front line
owns every ticket's first stint, so it sees what it opened). Everything
else is "not found", so the API never confirms a ticket exists.

The rule lives in ``ticket_visibility``; ``visible_tickets`` and
``visible_rows`` apply it to tickets and to any rows that name a ticket
(clocks, handoffs, notifications, deliveries...), for the API and the admin
alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from django.db.models import Exists, Model, OuterRef, Prefetch, Q, QuerySet

from departments.models import Membership
from departments.selectors import memberships_for_user
from tickets import clock
from tickets.domain import TicketNotFound
from tickets.models import Handoff, SLAClock, TicketSummary
from tickets.sla_clocks import clock_state_conditions


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


_M = TypeVar("_M", bound=Model)


def ticket_lookup(model: type[Model]) -> str | None:
    """How rows of ``model`` name the ticket they are about, as a queryset
    lookup: ``"pk"`` for ticket summaries (and their proxies), the foreign
    key to a ticket or a ``ticket_id`` column, else a path through one
    foreign key to such a model (``"handoff__ticket"``). None when its rows
    name no ticket. The admin's check uses it to find every page that shows
    ticket data."""
    return _ticket_lookup(model, hops=1)


def _ticket_lookup(model: type[Model], *, hops: int) -> str | None:
    if issubclass(model, TicketSummary):
        return "pk"
    relations = [
        f
        for f in model._meta.get_fields()
        if f.concrete
        and (f.many_to_one or f.one_to_one)
        and isinstance(f.related_model, type)
    ]
    for field in relations:
        if issubclass(field.related_model, TicketSummary):  # type: ignore[arg-type]
            return field.name
    if any(f.name == "ticket_id" and f.concrete for f in model._meta.get_fields()):
        return "ticket_id"
    if hops > 0:
        for field in relations:
            if field.related_model is model:
                continue
            inner = _ticket_lookup(field.related_model, hops=hops - 1)  # type: ignore[arg-type]
            if inner is not None:
                return f"{field.name}__{inner}"
    return None


@dataclass(frozen=True)
class TicketVisibility:
    """The tickets one user may see. Computing it reads the user's
    memberships once; keep it for the rest of a request."""

    everything: bool
    tickets: QuerySet[TicketSummary]

    def rows(self, queryset: QuerySet[_M], lookup: str | None = None) -> QuerySet[_M]:
        """``queryset`` narrowed to rows about visible tickets. ``lookup``
        names each row's ticket (default: ``ticket_lookup`` of the model);
        raises ``TypeError`` for a model whose rows name no ticket."""
        lookup = lookup or ticket_lookup(queryset.model)
        if lookup is None:
            raise TypeError(f"{queryset.model.__name__} rows name no ticket.")
        if self.everything:
            return queryset
        return queryset.filter(**{f"{lookup}__in": self.tickets.values("pk")})

    def ticket_ids(self, ticket_ids: Iterable[UUID]) -> set[UUID]:
        """The visible ones among ``ticket_ids`` (one query at most)."""
        wanted = set(ticket_ids)
        if self.everything or not wanted:
            return wanted
        return set(self.tickets.filter(pk__in=wanted).values_list("pk", flat=True))


def ticket_visibility(user: Any) -> TicketVisibility:
    """The visibility rule (see the module docstring)."""
    if not getattr(user, "is_authenticated", False):
        return TicketVisibility(False, TicketSummary.objects.none())
    memberships = memberships_for_user(user)
    if _sees_everything(user, memberships):
        return TicketVisibility(True, TicketSummary.objects.all())
    codes = {m.department.code for m in memberships}
    if not codes:
        return TicketVisibility(False, TicketSummary.objects.none())
    owned = Handoff.objects.filter(ticket_id=OuterRef("pk"), department__in=codes)
    return TicketVisibility(
        False, TicketSummary.objects.filter(Q(owner__in=codes) | Exists(owned))
    )


def visible_tickets(user: Any) -> QuerySet[TicketSummary]:
    """The tickets ``user`` may see."""
    return ticket_visibility(user).tickets


def visible_rows(
    user: Any, queryset: QuerySet[_M], lookup: str | None = None
) -> QuerySet[_M]:
    """Rows of ``queryset`` about tickets ``user`` may see (see
    ``TicketVisibility.rows``)."""
    return ticket_visibility(user).rows(queryset, lookup)


def visible_clocks(user: Any) -> QuerySet[SLAClock]:
    """SLA clocks of the tickets ``user`` may see."""
    return SLAClock.objects.filter(ticket__in=visible_tickets(user))


def _with_clocks(queryset: QuerySet[TicketSummary]) -> QuerySet[TicketSummary]:
    return queryset.prefetch_related(
        Prefetch("clocks", queryset=SLAClock.objects.order_by("started_at", "kind"))
    )


def _ticket_pk(ticket_id: UUID | str) -> UUID:
    try:
        return UUID(str(ticket_id))
    except ValueError:
        raise TicketNotFound(f"No ticket {ticket_id}.") from None


def require_visible(user: Any, ticket_id: UUID | str) -> UUID:
    """``ticket_id`` if ``user`` may see that ticket (one query at most);
    raises ``TicketNotFound`` otherwise."""
    pk = _ticket_pk(ticket_id)
    visibility = ticket_visibility(user)
    if visibility.everything:
        found = TicketSummary.objects.filter(pk=pk).exists()
    else:
        found = bool(visibility.ticket_ids([pk]))
    if not found:
        raise TicketNotFound(f"No ticket {ticket_id}.")
    return pk


def ticket_get(user: Any, ticket_id: UUID | str) -> TicketSummary:
    """The ticket with its clocks and stints, if ``user`` may see it;
    raises ``TicketNotFound`` otherwise (3 queries)."""
    pk = _ticket_pk(ticket_id)
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
    states = clock_state_conditions(clock.now())
    if filters.breached is not None:
        # Any clock breached: recorded by a sweep, or running past due.
        breached = SLAClock.objects.filter(
            Q(breach_recorded=True) | states["breached"], ticket_id=OuterRef("pk")
        )
        queryset = queryset.filter(
            Exists(breached) if filters.breached else ~Exists(breached)
        )
    if filters.at_risk is not None:
        risky = SLAClock.objects.filter(states["at_risk"], ticket_id=OuterRef("pk"))
        queryset = queryset.filter(Exists(risky) if filters.at_risk else ~Exists(risky))
    return _with_clocks(queryset)
