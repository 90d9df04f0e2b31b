"""The lead dashboard's figures: departments side by side for one period
and scenario, ranked, with their trend over the last weeks or months, and
a department's figures per agent.

Everything is read from the scorecard read models (``Scorecard`` rows for
departments, ``ScorecardHandoff`` rows for agents), never recomputed from
events in a request; an agent's figures are computed by the same tally as
a department's (:mod:`sla.scorecards`), so they add up to it and each
equals its drill-down rows.

Who sees what:

* whoever sees every ticket (superusers, front-line leads: the service
  team) sees every active department and any department's agents;
* a department lead sees the departments they lead, and their agents;
* anyone else (agents, staff without a department) is refused.

The ranking rule (best first): breach rate after decided disputes
(``breach_rate_adjusted``, lowest first), then the share of dissatisfied
ratings after decided disputes (lowest first), then handoffs received
(most first), then the department code. A department with nothing to
compute a rate over ranks after those with one, and a department that
received nothing in the period is not ranked.

An agent's stints are those whose ticket-log stint (``tickets.models.
Handoff``) names them as its agent: the agent assigned when the stint
ended, or who first replied (stints with nobody are "not assigned").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from departments.models import Department, Membership
from departments.selectors import memberships_for_user
from sla.charts import ChartData, ChartSeries
from sla.models import Scorecard, ScorecardHandoff
from sla.reports.figures import figure_kind
from sla.scorecards import (
    ALL_SCENARIOS,
    COUNT_WHERE,
    FIGURE_NAMES,
    SHAPE_FIELDS,
    compute_figures,
    figure_basis,
    period_after,
    period_before,
    period_start,
    scorecard_key,
    tally,
)
from sla.scorecards import figure_label as scorecard_figure_label
from tickets import clock
from tickets.domain import InvalidInput, NotPermitted
from tickets.models import Handoff
from tickets.selectors import sees_everything

#: Periods the dashboard compares (days are too noisy to rank).
PERIODS = ("week", "month")
#: How many periods the trend covers, the chosen one last.
TREND_LENGTH = 8

#: The columns, in order, and how each reads.
FIGURES: tuple[tuple[str, str], ...] = (
    ("received", "count"),
    ("breach_rate", "rate"),
    ("median_response_seconds", "duration"),
    ("p90_response_seconds", "duration"),
    ("average_score", "score"),
    ("dissatisfied_share", "rate"),
    ("bounced", "count"),
    ("ping_pong", "count"),
    ("stalled", "count"),
    ("abandoned", "count"),
    ("disputes_open", "count"),
)
KIND = dict(FIGURES)

LABELS = {
    "received": gettext_lazy("Received"),
    "breach_rate": gettext_lazy("Breach rate"),
    "median_response_seconds": gettext_lazy("Median first response"),
    "p90_response_seconds": gettext_lazy("90th percentile first response"),
    "average_score": gettext_lazy("Average rating"),
    "dissatisfied_share": gettext_lazy("Dissatisfied (1-2)"),
    "bounced": gettext_lazy("Bounced"),
    "ping_pong": gettext_lazy("Ping-pong"),
    "stalled": gettext_lazy("Stalled"),
    "abandoned": gettext_lazy("Abandoned"),
    "disputes_open": gettext_lazy("Open disputes"),
    "handled": gettext_lazy("Stints handled"),
}

#: The figures shown per agent, and how each reads.
AGENT_FIGURES: tuple[tuple[str, str], ...] = (
    ("received", "count"),
    ("finished", "count"),
    ("median_response_seconds", "duration"),
    ("breach_rate", "rate"),
    ("average_score", "score"),
    ("dissatisfied", "count"),
)
#: The trend charts below the table.
CHARTS: tuple[tuple[str, str], ...] = (
    ("breach_rate", "rate"),
    ("received", "count"),
    ("median_response_seconds", "duration"),
    ("dissatisfied_share", "rate"),
)

NOT_ASSIGNED = ""


def figure_label(name: str) -> str:
    return str(LABELS.get(name) or scorecard_figure_label(name))


def kind_of(name: str) -> str:
    """How figure ``name`` reads: count, duration, score or rate (the
    reports' rule, :func:`sla.reports.figures.figure_kind`)."""
    kind = figure_kind(name)
    return "rate" if kind == "percent" else kind


# -- who sees what ---------------------------------------------------------------


def led_departments(user: Any) -> set[str]:
    return {
        m.department.code
        for m in memberships_for_user(user)
        if m.role == Membership.Role.LEAD
    }


def dashboard_departments(user: Any) -> set[str] | None:
    """The departments ``user`` may compare (None: every one). Raises
    :class:`NotPermitted` for anyone who leads no department and does not
    see every ticket."""
    if sees_everything(user):
        return None
    led = led_departments(user)
    if not led:
        raise NotPermitted(
            _("The dashboard is for department leads and the service team.")
        )
    return led


def may_see_dashboard(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_staff:
        return False
    return sees_everything(user) or bool(led_departments(user))


def _departments(scope: set[str] | None) -> list[Department]:
    found = Department.objects.active()
    if scope is not None:
        found = found.filter(code__in=scope)
    return list(found.order_by("code"))


# -- the period ------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    kind: str  # week / month
    start: date
    end: date  # exclusive
    previous: date
    following: date | None  # None: it would start after the current one

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


#: The furthest any timezone is ahead of UTC: a department there may
#: already be in the next period.
AHEAD_OF_UTC = timedelta(hours=14)


def current_start(kind: str) -> date:
    """The start of the latest period any department can be in now (each
    cuts its periods in its own timezone)."""
    return period_start(kind, (clock.now() + AHEAD_OF_UTC).date())


def resolve_period(
    kind: str, start: date | None, scope: set[str] | None, scenario: str
) -> Period:
    """The period to show: ``start`` normalised to the start of its week
    or month, or by default the latest period with figures (not after the
    current one; the current one when there are none). Raises
    :class:`InvalidInput` for an unknown period kind."""
    if kind not in PERIODS:
        raise InvalidInput(
            _("The period must be a week or a month."),
            field="period",
            code="invalid_period",
        )
    now = current_start(kind)
    if start is None:
        rows = Scorecard.objects.filter(period=kind, scenario=scenario, start__lte=now)
        if scope is not None:
            rows = rows.filter(department__in=scope)
        start = rows.order_by("-start").values_list("start", flat=True).first() or now
    start = period_start(kind, start)
    following = period_after(kind, start)
    return Period(
        kind=kind,
        start=start,
        end=following,
        previous=period_before(kind, start),
        following=following if following <= now else None,
    )


def trend_starts(period: Period, length: int = TREND_LENGTH) -> list[date]:
    starts = [period.start]
    while len(starts) < length:
        starts.append(period_before(period.kind, starts[-1]))
    return starts[::-1]


def x_label(kind: str, start: date) -> str:
    return start.strftime("%m-%d") if kind == "week" else start.strftime("%Y-%m")


# -- departments side by side ----------------------------------------------------


@dataclass
class DepartmentLine:
    department: Department
    figures: dict[str, Any]
    key: str  # the scorecard's key (its admin page), "" when there is none
    rank: int | None = None
    trend: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return self.department.code


def rank_key(figures: dict[str, Any], code: str) -> tuple[Any, ...]:
    """The ranking rule (see the module docstring) as a sort key."""
    breach = figures.get("breach_rate_adjusted")
    unhappy = figures.get("dissatisfied_share_adjusted")
    return (
        breach is None,
        breach if breach is not None else 0.0,
        unhappy is None,
        unhappy if unhappy is not None else 0.0,
        -int(figures.get("received") or 0),
        code,
    )


def rank(lines: list[DepartmentLine]) -> list[DepartmentLine]:
    """Sort ``lines`` best first and number those that received anything;
    departments that received nothing follow, unranked, by code."""
    active = [line for line in lines if (line.figures.get("received") or 0) > 0]
    idle = [line for line in lines if line not in active]
    active.sort(key=lambda line: rank_key(line.figures, line.code))
    for number, line in enumerate(active, start=1):
        line.rank = number
    idle.sort(key=lambda line: line.code)
    return active + idle


@dataclass
class Dashboard:
    period: Period
    scenario: str
    lines: list[DepartmentLine]
    trend_starts: list[date]
    charts: list[ChartData]

    @property
    def x_labels(self) -> tuple[str, ...]:
        return tuple(x_label(self.period.kind, s) for s in self.trend_starts)


def department_lines(
    scope: set[str] | None,
    period: Period,
    scenario: str,
    *,
    length: int = TREND_LENGTH,
) -> Dashboard:
    """Every department in ``scope`` for the period and scenario, ranked,
    with each figure's trend over ``length`` periods (two queries)."""
    departments = _departments(scope)
    starts = trend_starts(period, length)
    rows = Scorecard.objects.filter(
        period=period.kind,
        start__in=starts,
        scenario=scenario,
        department__in=[d.code for d in departments],
    ).only("key", "department", "start", "figures")
    found: dict[tuple[str, date], Scorecard] = {
        (row.department, row.start): row for row in rows
    }
    empty = compute_figures([])
    lines = []
    for department in departments:
        row = found.get((department.code, period.start))
        line = DepartmentLine(
            department=department,
            figures=dict(row.figures) if row else dict(empty),
            key=row.key if row else "",
        )
        for name, _kind in FIGURES:
            line.trend[name] = [
                _figure(found.get((department.code, s)), name, empty) for s in starts
            ]
        lines.append(line)
    ranked = rank(lines)
    dashboard = Dashboard(period, scenario, ranked, starts, [])
    dashboard.charts = [_chart(dashboard, name, kind) for name, kind in CHARTS]
    return dashboard


def _figure(row: Scorecard | None, name: str, empty: dict[str, Any]) -> Any:
    figures = row.figures if row is not None else empty
    return figures.get(name, empty.get(name))


def _chart(dashboard: Dashboard, name: str, kind: str) -> ChartData:
    noun = _("weeks") if dashboard.period.kind == "week" else _("months")
    label = figure_label(name)
    return ChartData(
        chart_id=f"dashboard-{name.replace('_', '-')}",
        title=_("%(figure)s, last %(count)s %(periods)s")
        % {"figure": label, "count": len(dashboard.trend_starts), "periods": noun},
        description=_(
            "%(figure)s per department for each of the last %(count)s "
            "%(periods)s; the same figures are in the table below the chart."
        )
        % {"figure": label, "count": len(dashboard.trend_starts), "periods": noun},
        kind=kind,
        x_labels=dashboard.x_labels,
        series=tuple(
            ChartSeries(
                key=line.code,
                label=line.department.name,
                values=tuple(None if v is None else float(v) for v in line.trend[name]),
            )
            for line in dashboard.lines
        ),
    )


# -- per agent -------------------------------------------------------------------


@dataclass
class AgentLine:
    agent_id: str  # "" for stints nobody was assigned
    name: str
    figures: dict[str, Any]


def require_department(user: Any, code: str) -> Department:
    """The department whose agents ``user`` may see; :class:`NotPermitted`
    for a department outside the dashboard's scope (or unknown)."""
    scope = dashboard_departments(user)
    found = Department.objects.filter(code=str(code).upper()).first()
    if found is None or (scope is not None and found.code not in scope):
        raise NotPermitted(
            _("Only the department's leads and the service team see its agents.")
        )
    return found


def _cohort(
    department: str, period: Period, scenario: str
) -> QuerySet[ScorecardHandoff]:
    cohort = ScorecardHandoff.objects.filter(
        department=department, **{period.kind: period.start}
    )
    if scenario != ALL_SCENARIOS:
        cohort = cohort.filter(scenario=scenario)
    return cohort


def _agents_of(cohort: QuerySet[ScorecardHandoff]) -> dict[Any, tuple[str, str]]:
    """Stint id -> (agent id, agent name) from the ticket log's stints."""
    return {
        stint_id: (agent_id or NOT_ASSIGNED, name)
        for stint_id, agent_id, name in Handoff.objects.filter(
            id__in=cohort.values("id")
        ).values_list("id", "agent_id", "agent_name")
    }


def agent_lines(department: str, period: Period, scenario: str) -> list[AgentLine]:
    """The department's figures per agent for the period and scenario,
    most stints first ("not assigned" last). Their counts add up to the
    department's."""
    cohort = _cohort(department, period, scenario)
    agents = _agents_of(cohort)
    facts: dict[str, list[Any]] = defaultdict(list)
    names: dict[str, str] = {}
    for fact in cohort.values_list("id", *SHAPE_FIELDS, named=True):
        agent_id, name = agents.get(fact.id, (NOT_ASSIGNED, ""))
        facts[agent_id].append(fact)
        if name:
            names[agent_id] = name
    lines = [
        AgentLine(
            agent_id=agent_id,
            name=names.get(agent_id, agent_id) if agent_id else _("Not assigned"),
            figures=tally(rows).figures(),
        )
        for agent_id, rows in facts.items()
    ]
    lines.sort(
        key=lambda a: (a.agent_id == NOT_ASSIGNED, -a.figures["received"], a.name)
    )
    return lines


def agent_figure_rows(
    department: str, period: Period, scenario: str, agent_id: str, figure: str
) -> tuple[Any, list[ScorecardHandoff]]:
    """An agent's figure and the stints behind it (for a rate, average or
    percentile: the stints it is computed over), in log order. Raises
    :class:`InvalidInput` for an unknown figure."""
    if figure not in FIGURE_NAMES:
        raise InvalidInput(
            _("There is no figure %(figure)s.") % {"figure": figure},
            field="figure",
            code="invalid_figure",
        )
    cohort = _cohort(department, period, scenario)
    assigned = Handoff.objects.exclude(agent_id="")
    if agent_id == NOT_ASSIGNED:
        theirs = cohort.exclude(id__in=assigned.values("id"))
    else:
        theirs = cohort.filter(id__in=assigned.filter(agent_id=agent_id).values("id"))
    value = tally(theirs.values_list(*SHAPE_FIELDS, named=True)).figures()[figure]
    rows = list(
        theirs.filter(COUNT_WHERE[figure_basis(figure).name]).order_by(
            "received_position"
        )
    )
    return value, rows


def scorecard_key_for(department: str, period: Period, scenario: str) -> str:
    return scorecard_key(department, period.kind, period.start, scenario)


def totals(lines: Iterable[AgentLine], name: str) -> int:
    return sum(int(line.figures.get(name) or 0) for line in lines)
