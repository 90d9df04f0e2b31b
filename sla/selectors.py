"""Read-side accountability queries: who may read which scorecards, and
their figures, adjustments and drill-down."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet

from departments.models import CODE_PATTERN, Department
from departments.selectors import memberships_for_user
from sla.models import Scorecard, ScorecardHandoff
from sla.scorecards import (
    ALL_SCENARIOS,
    COUNT_WHERE,
    DERIVED,
    FIGURE_NAMES,
    PERIODS,
    SHAPE_FIELDS,
    compute_figures,
    figure_basis,
    period_after,
    period_start,
    tally,
)
from tickets.domain import InvalidInput, NotPermitted, TicketError
from tickets.selectors import sees_everything


class ScorecardNotFound(TicketError):
    """Raised for an unknown department, period, figure or scenario."""

    code = "scorecard_not_found"


def scorecard_departments(user: Any) -> set[str] | None:
    """The departments whose scorecards ``user`` may read: every one for
    superusers and front-line leads (None), else the user's own."""
    if not getattr(user, "is_authenticated", False):
        return set()
    if sees_everything(user):
        return None
    return {m.department.code for m in memberships_for_user(user)}


DEPARTMENT_CODE = re.compile(CODE_PATTERN)


def _require_scorecard_access(user: Any, department: str) -> Department:
    code = department.upper()
    found = (
        Department.objects.filter(code=code).first()
        if DEPARTMENT_CODE.match(code)
        else None
    )
    if found is None:
        raise ScorecardNotFound(
            f"There is no department {department!r}.", field="department"
        )
    allowed = scorecard_departments(user)
    if allowed is not None and found.code not in allowed:
        raise NotPermitted(
            f"Only {found.name} and the service team's leads can read "
            f"{found.name}'s scorecards."
        )
    return found


@dataclass(frozen=True)
class ScorecardPeriod:
    department: Department
    period: str
    start: date
    end: date  # exclusive


def scorecard_period(
    user: Any, department: str, period: str, start: date
) -> ScorecardPeriod:
    """Validate a scorecard address; the start must begin its period (a
    Monday for weeks, the 1st for months) in the department's timezone."""
    found = _require_scorecard_access(user, department)
    if period not in PERIODS:
        raise ScorecardNotFound(
            f"The period must be one of {', '.join(PERIODS)}.", field="period"
        )
    if period_start(period, start) != start:
        raise InvalidInput(
            f"A {period} starts on {period_start(period, start).isoformat()}, "
            f"not {start.isoformat()}.",
            field="start",
            code="invalid_period_start",
        )
    try:
        end = period_after(period, start)
    except OverflowError:
        raise InvalidInput(
            "That period ends after the last date there is.",
            field="start",
            code="invalid_period_start",
        ) from None
    return ScorecardPeriod(found, period, start, end)


def _cohort(address: ScorecardPeriod, scenario: str) -> QuerySet[ScorecardHandoff]:
    cohort = ScorecardHandoff.objects.filter(
        department=address.department.code, **{address.period: address.start}
    )
    if scenario != ALL_SCENARIOS:
        cohort = cohort.filter(scenario=scenario)
    return cohort


def scorecard_rows(address: ScorecardPeriod) -> list[Scorecard]:
    """The stored scorecards of a period: all scenarios first, then each
    scenario (empty list: the department received nothing then)."""
    rows = list(
        Scorecard.objects.filter(
            department=address.department.code,
            period=address.period,
            start=address.start,
        )
    )
    return sorted(rows, key=lambda r: (r.scenario != ALL_SCENARIOS, r.scenario))


def empty_figures() -> dict[str, Any]:
    return compute_figures([])


def scorecard_adjustments(address: ScorecardPeriod) -> list[dict[str, Any]]:
    """Every dispute on the period's handoffs (the adjustment trail)."""
    trail = []
    disputed = _cohort(address, ALL_SCENARIOS).exclude(
        breach_dispute="", rating_dispute=""
    )
    columns = [
        "id",
        "ticket_id",
        "scenario",
        "rating_score",
        *(
            f"{subject}_{name}"
            for subject in ("breach", "rating")
            for name in (
                "dispute",
                "dispute_reason",
                "decision_reason",
                "dispute_position",
            )
        ),
    ]
    disputed = disputed.order_by("received_position").values_list(*columns, named=True)
    for fact in disputed:
        for subject in ("breach", "rating"):
            state = getattr(fact, f"{subject}_dispute")
            if state:
                trail.append(
                    {
                        "handoff_id": fact.id,
                        "ticket_id": fact.ticket_id,
                        "scenario": fact.scenario,
                        "subject": subject,
                        "state": state,
                        "reason": getattr(fact, f"{subject}_dispute_reason"),
                        "decision_reason": getattr(fact, f"{subject}_decision_reason"),
                        "position": getattr(fact, f"{subject}_dispute_position"),
                        "score": fact.rating_score if subject == "rating" else None,
                    }
                )
    return trail


def scorecard_drilldown(
    address: ScorecardPeriod,
    figure: str,
    scenario: str = ALL_SCENARIOS,
    *,
    offset: int = 0,
    limit: int | None = None,
) -> tuple[Any, int, list[ScorecardHandoff]]:
    """The figure's value, how many handoffs are behind it (see
    ``sla.scorecards``) and those handoffs in log order (a page of them:
    ``offset``/``limit``). The database selects, counts and pages the
    handoffs (``COUNT_WHERE``); only the page's rows are loaded whole."""
    if figure not in FIGURE_NAMES:
        raise ScorecardNotFound(f"There is no figure {figure!r}.", field="figure")
    selected = _cohort(address, scenario).filter(COUNT_WHERE[figure_basis(figure).name])
    if figure in DERIVED:
        # A derived figure's numerators are subsets of the handoffs it is
        # computed over, so those rows alone give its value.
        found = tally(selected.values_list(*SHAPE_FIELDS, named=True))
        value, count = found.figures()[figure], len(found)
    else:
        value = count = selected.count()
    ordered = selected.order_by("received_position")
    if limit is None:
        return value, count, list(ordered[offset:])
    if offset >= count:
        return value, count, []
    return value, count, list(ordered[offset : offset + limit])
