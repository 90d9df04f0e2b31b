"""Reading follow-ups of dissatisfied ratings: who sees which, the inbox
order, the overdue rule, and the counts the lead dashboard shows.

Who (the one rule, :func:`follow_up_scope`):

* the service team (whoever sees every ticket: superusers and front-line
  leads, ``tickets.selectors.sees_everything``) sees every follow-up; its
  front-line leads work them (the domain checks it again), a superuser
  outside the front line reads them;
* a lead of another department sees the follow-ups of ratings of its own
  department, read-only;
* nobody else sees any. On top of that, as everywhere, only follow-ups of
  tickets the viewer may see (``tickets.selectors.ticket_visibility``).

Overdue (:func:`is_overdue`): open, and its due time (fixed when it
opened: ``FOLLOWUP_DUE_HOURS`` after the rating) has passed. The inbox
lists overdue first, then open, then closed; oldest first within each.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import BooleanField, Case, Count, Q, QuerySet, Value, When

from departments.models import Membership
from departments.selectors import memberships_for_user
from tickets import clock
from tickets.models import FollowUp
from tickets.selectors import sees_everything, ticket_visibility


@dataclass(frozen=True)
class FollowUpScope:
    """What one user may do with follow-ups."""

    #: The service team: sees all, works them.
    works: bool
    #: Departments whose follow-ups the user sees; None: every department.
    departments: frozenset[str] | None

    @property
    def sees_any(self) -> bool:
        return self.departments is None or bool(self.departments)


def follow_up_scope(user: Any) -> FollowUpScope:
    """The rule in the module docstring."""
    if not getattr(user, "is_authenticated", False):
        return FollowUpScope(False, frozenset())
    memberships = memberships_for_user(user)
    if sees_everything(user):
        # Working one is a front-line lead's call (the domain checks it
        # again); a superuser outside the front line reads them.
        works = any(
            m.department.is_front_line and m.role == Membership.Role.LEAD
            for m in memberships
        )
        return FollowUpScope(works, None)
    led = frozenset(
        m.department.code for m in memberships if m.role == Membership.Role.LEAD
    )
    return FollowUpScope(False, led)


def is_overdue(row: FollowUp, now: datetime | None = None) -> bool:
    """Open past its due time."""
    moment = now or clock.now()
    return row.status == FollowUp.Status.OPEN and row.due_at < moment


def overdue_q(now: datetime) -> Q:
    """:func:`is_overdue` as a query condition."""
    return Q(status=FollowUp.Status.OPEN, due_at__lt=now)


def visible_follow_ups(user: Any, now: datetime | None = None) -> QuerySet[FollowUp]:
    """The follow-ups ``user`` may see, each annotated ``overdue``, in inbox
    order (overdue, open, closed; oldest first), with their tickets."""
    moment = now or clock.now()
    scope = follow_up_scope(user)
    rows = FollowUp.objects.select_related("ticket")
    if not scope.sees_any:
        rows = rows.none()
    elif scope.departments is not None:
        rows = rows.filter(department__in=scope.departments)
    rows = ticket_visibility(user).rows(rows, "ticket_id")
    return rows.annotate(
        overdue=Case(
            When(overdue_q(moment), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        is_open=Case(
            When(status=FollowUp.Status.OPEN, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
    ).order_by("-overdue", "-is_open", "opened_at", "id")


def follow_up_event_filter(user: Any, ticket_id: Any) -> Callable[[Any], bool]:
    """For a ticket's event list (the events API): whether ``user`` may see
    an event. Follow-up steps hold the service team's internal notes, so an
    event of a follow-up shows only to who sees that follow-up (the rule
    above); every other event passes (the ticket's visibility is checked by
    the caller)."""
    scope = follow_up_scope(user)
    if scope.sees_any and scope.departments is None:
        return lambda event: True
    allowed = set(
        visible_follow_ups(user)
        .filter(ticket_id=ticket_id)
        .values_list("pk", flat=True)
    )

    def shows(event: Any) -> bool:
        follow_up_id = getattr(event, "follow_up_id", None)
        return follow_up_id is None or follow_up_id in allowed

    return shows


def dashboard_counts(
    departments: set[str] | None, now: datetime | None = None
) -> dict[str, Any]:
    """Open and overdue follow-ups of ``departments`` (None: all), for the
    lead dashboard: ``{"open": n, "overdue": n, "by_department": {code:
    {"open": n, "overdue": n}}}`` (departments with none open are left
    out). The caller applies its own scope (the dashboard's)."""
    moment = now or clock.now()
    rows = FollowUp.objects.filter(status=FollowUp.Status.OPEN)
    if departments is not None:
        rows = rows.filter(department__in=departments)
    grouped = rows.values("department").annotate(
        open=Count("id"), overdue=Count("id", filter=Q(due_at__lt=moment))
    )
    by_department: dict[str, dict[str, int]] = defaultdict(dict)
    for group in grouped:
        by_department[group["department"]] = {
            "open": group["open"],
            "overdue": group["overdue"],
        }
    return {
        "open": sum(d["open"] for d in by_department.values()),
        "overdue": sum(d["overdue"] for d in by_department.values()),
        "by_department": dict(by_department),
    }
