"""What a report says: the stored scorecards of one period gathered into a
:class:`ReportData` (department figures, rankings, the worst scenarios,
dissatisfied ratings, trends).

Everything here reads the scorecard read models (:class:`Scorecard` and
:class:`ScorecardHandoff`) and nothing else, so every number in a report
is a stored scorecard figure. Rankings use the raw figures, which never
change; the adjusted figures stand beside them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.utils import dateformat
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from departments.models import Department
from sla.models import Scorecard, ScorecardHandoff
from sla.problems import ProblemsReport, problems
from sla.reports.charts import PERIOD_NOUNS, trend_charts
from sla.scorecards import (
    ALL_SCENARIOS,
    PERIODS,
    compute_figures,
    period_after,
    period_before,
    period_start,
)
from tickets import clock

#: Scenario rows need at least this many decided response promises to be
#: ranked by breach rate (and this many ratings to be ranked by average
#: score), so that one unlucky ticket does not top the list.
MIN_SCENARIO_VOLUME = 3
#: How many scenario rows each "worst" list shows.
WORST_SCENARIOS = 5
#: Ratings at or below this score are listed with their comments.
DISSATISFIED_MAX_SCORE = 2
#: How many problems (root causes) a report lists.
TOP_PROBLEMS = 10


@dataclass(frozen=True)
class ScorecardLine:
    """One stored scorecard: a department's figures for the period, for
    one scenario or all of them (``scenario == "*"``)."""

    department: str
    department_name: str
    scenario: str
    figures: dict[str, Any]

    @property
    def scenario_label(self) -> str:
        return scenario_label(self.scenario)


@dataclass(frozen=True)
class Ranked:
    """A place in a ranking: the ranked figure's raw value (the ranking
    key), its adjusted value, and the volume it was computed over. Lines
    without a value come last, unranked (``rank`` None)."""

    rank: int | None
    line: ScorecardLine
    value: float | None
    adjusted: float | None
    volume: int


#: A dispute's state as people read it.
DISPUTE_STATES = {
    "open": gettext_lazy("open"),
    "accepted": gettext_lazy("accepted"),
    "waived": gettext_lazy("waived"),
}


@dataclass(frozen=True)
class DissatisfiedRating:
    department: str
    department_name: str
    ticket_id: UUID
    handoff_id: UUID
    scenario: str
    score: int
    comment: str
    dispute: str  # "", open, accepted or waived
    position: int  # log position of the rating event

    @property
    def scenario_label(self) -> str:
        return scenario_label(self.scenario)

    @property
    def dispute_label(self) -> str:
        return str(DISPUTE_STATES.get(self.dispute, self.dispute))


@dataclass(frozen=True)
class TrendSeries:
    """One department's figures for each of the report's trend periods
    (0 received and None rates for a period without handoffs)."""

    department: str
    department_name: str
    received: list[int]
    breach_rate: list[float | None]
    average_score: list[float | None]


@dataclass(frozen=True)
class ReportData:
    period: str
    start: date
    end: date  # exclusive
    department: str | None  # None: the service-team summary
    department_name: str
    generated_at: datetime
    min_volume: int
    #: Every stored scorecard of the period in scope ("*" first), the
    #: rows of the CSV.
    scorecards: list[ScorecardLine]
    #: The all-scenario rows, one per department that received handoffs.
    departments: list[ScorecardLine]
    #: Active departments that received nothing in the period.
    idle_departments: list[str]
    by_breach_rate: list[Ranked]
    by_average_score: list[Ranked]
    scenarios: list[ScorecardLine]
    worst_by_breach_rate: list[Ranked]
    worst_by_average_score: list[Ranked]
    dissatisfied: list[DissatisfiedRating]
    #: Dissatisfied ratings of earlier periods' handoffs recorded after
    #: ``since_position`` (the previous report's position): ratings come
    #: after the work, often after that period's report was sent.
    late_dissatisfied: list[DissatisfiedRating]
    trend_starts: list[date]
    trends: list[TrendSeries]
    #: The scorecard projection's log position when the report was made.
    position: int | None = None
    charts: list[tuple[str, SafeString]] = field(default_factory=list)
    #: The period's problems (root causes of the resolutions in it, the
    #: largest first, at most ``TOP_PROBLEMS``), with the period before's
    #: volumes for the trend and their linked issues.
    problems: ProblemsReport | None = None

    @property
    def is_summary(self) -> bool:
        return self.department is None

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.end.toordinal() - 1)

    @property
    def period_noun(self) -> str:
        """The period as a word of the active language ("week")."""
        return str(PERIOD_NOUNS[self.period])

    @property
    def title(self) -> str:
        who = (
            _("Service team summary")
            if self.department is None
            else f"{self.department_name} ({self.department})"
        )
        return _("%(who)s: scorecard report, %(period)s") % {
            "who": who,
            "period": period_title(self.period, self.start),
        }


def scenario_label(scenario: str) -> str:
    if scenario == ALL_SCENARIOS:
        return _("All scenarios")
    return scenario or _("(no scenario)")


def report_date(day: date) -> str:
    """A day as report titles and headers write it, in the active
    language ("Mon 2 Mar 2026")."""
    return dateformat.format(day, pgettext("date in a report", "D j M Y"))


def period_title(period: str, start: date) -> str:
    if period == "day":
        return report_date(start)
    if period == "month":
        return dateformat.format(start, pgettext("a month in a report", "F Y"))
    return _("week of %(day)s") % {"day": report_date(start)}


def trend_starts(period: str, start: date, periods: int) -> list[date]:
    """The ``periods`` period starts ending with ``start``, oldest first."""
    starts = [start]
    while len(starts) < periods:
        starts.append(period_before(period, starts[-1]))
    return starts[::-1]


def _rank(
    lines: Iterable[ScorecardLine],
    name: str,
    *,
    worst_is_high: bool,
    volume: str,
    min_volume: int = 0,
) -> list[Ranked]:
    """Lines ordered worst first by figure ``name`` (None last), ties
    broken by the larger volume, then department and scenario."""
    eligible = [line for line in lines if (line.figures.get(volume) or 0) >= min_volume]

    def key(line: ScorecardLine) -> tuple[Any, ...]:
        value = line.figures.get(name)
        if value is None:
            return (1, 0.0, 0, line.department, line.scenario)
        return (
            0,
            -value if worst_is_high else value,
            -(line.figures.get(volume) or 0),
            line.department,
            line.scenario,
        )

    return [
        Ranked(
            rank=number if line.figures.get(name) is not None else None,
            line=line,
            value=line.figures.get(name),
            adjusted=line.figures.get(f"{name}_adjusted"),
            volume=line.figures.get(volume) or 0,
        )
        for number, line in enumerate(sorted(eligible, key=key), start=1)
    ]


def report_data(
    *,
    period: str = "week",
    start: date,
    department: str | None = None,
    periods: int = 8,
    min_volume: int = MIN_SCENARIO_VOLUME,
    position: int | None = None,
    since_position: int | None = None,
) -> ReportData:
    """Everything one report shows, from the stored scorecards of
    ``period`` starting ``start`` (normalised to the period's first day;
    each department's periods are in its own timezone).

    ``department=None`` is the service-team summary over every
    department; a department code restricts every part to it. Trends
    cover the ``periods`` periods ending with this one. ``position`` is
    the scorecard projection's position the figures are as of; with
    ``since_position``, dissatisfied ratings of earlier periods recorded
    after it are listed too. Raises ValueError for an unknown period or a
    non-positive ``periods``.
    """
    if period not in PERIODS:
        raise ValueError(f"The period must be one of {', '.join(PERIODS)}.")
    if periods < 1:
        raise ValueError("A report needs at least one trend period.")
    start = period_start(period, start)
    names = dict(Department.objects.values_list("code", "name"))

    def name_of(code: str) -> str:
        return names.get(code, code)

    rows = Scorecard.objects.filter(period=period, start=start)
    if department is not None:
        rows = rows.filter(department=department)
    scorecards = sorted(
        (
            ScorecardLine(r.department, name_of(r.department), r.scenario, r.figures)
            for r in rows
        ),
        key=lambda line: (
            line.scenario != ALL_SCENARIOS,
            line.department,
            line.scenario,
        ),
    )
    departments = [s for s in scorecards if s.scenario == ALL_SCENARIOS]
    scenarios = [s for s in scorecards if s.scenario != ALL_SCENARIOS]
    seen = {s.department for s in departments}
    idle = (
        [
            d.name
            for d in Department.objects.active().order_by("name")
            if d.code not in seen
        ]
        if department is None
        else []
    )

    worst_breach = [
        r
        for r in _rank(
            scenarios,
            "breach_rate",
            worst_is_high=True,
            volume="decided",
            min_volume=min_volume,
        )
        if r.value  # a 0% breach rate is nothing to act on
    ][:WORST_SCENARIOS]
    worst_score = _rank(
        scenarios,
        "average_score",
        worst_is_high=False,
        volume="ratings",
        min_volume=min_volume,
    )
    worst_score = [r for r in worst_score if r.value is not None][:WORST_SCENARIOS]

    def unhappy(**lookups: Any) -> list[DissatisfiedRating]:
        facts = ScorecardHandoff.objects.filter(
            rating_score__gte=1, rating_score__lte=DISSATISFIED_MAX_SCORE, **lookups
        )
        if department is not None:
            facts = facts.filter(department=department)
        return [
            DissatisfiedRating(
                department=f.department,
                department_name=name_of(f.department),
                ticket_id=f.ticket_id,
                handoff_id=f.id,
                scenario=f.scenario,
                score=int(f.rating_score or 0),
                comment=f.rating_comment,
                dispute=f.rating_dispute,
                position=int(f.rating_position or 0),
            )
            for f in facts.order_by("rating_position")
        ]

    dissatisfied = unhappy(**{period: start})
    late = (
        unhappy(**{f"{period}__lt": start, "rating_position__gt": since_position})
        if since_position is not None
        else []
    )

    starts = trend_starts(period, start, periods)
    trend_rows = Scorecard.objects.filter(
        period=period, start__in=starts, scenario=ALL_SCENARIOS
    )
    if department is not None:
        trend_rows = trend_rows.filter(department=department)
    by_key = {(r.department, r.start): r.figures for r in trend_rows}
    codes = sorted(
        {code for code, _ in by_key} | ({department} if department else set())
    )
    empty = compute_figures([])
    trends = []
    for code in codes:
        points = [by_key.get((code, s), empty) for s in starts]
        trends.append(
            TrendSeries(
                department=code,
                department_name=name_of(code),
                received=[int(p["received"]) for p in points],
                breach_rate=[p["breach_rate"] for p in points],
                average_score=[p["average_score"] for p in points],
            )
        )

    end = period_after(period, start)
    found = problems(start, end, department=department, comments=1)
    del found.problems[TOP_PROBLEMS:]
    data = ReportData(
        period=period,
        start=start,
        end=end,
        department=department,
        department_name=(
            _("Service team") if department is None else name_of(department)
        ),
        generated_at=clock.now(),
        min_volume=min_volume,
        scorecards=scorecards,
        departments=departments,
        idle_departments=idle,
        by_breach_rate=_rank(
            departments, "breach_rate", worst_is_high=True, volume="decided"
        ),
        by_average_score=_rank(
            departments, "average_score", worst_is_high=False, volume="ratings"
        ),
        scenarios=scenarios,
        worst_by_breach_rate=worst_breach,
        worst_by_average_score=worst_score,
        dissatisfied=dissatisfied,
        late_dissatisfied=late,
        trend_starts=starts,
        trends=trends,
        position=position,
        problems=found,
    )
    data.charts.extend(trend_charts(data))
    return data
