"""Problems: the root causes tickets were resolved with, gathered for
Product and the service team.

A *problem* is a root cause in a scenario, optionally narrowed to a
product area (``product_defect`` and ``process`` resolutions may name
one). For a period it has a volume (the resolutions with that cause, and
the distinct tickets behind them), the departments that resolved them, a
weekly trend, example tickets, the customers' comments on those tickets
(dissatisfied first), and the external issue it is linked to
(:class:`sla.models.ProblemLink`). Once the linked fix has shipped, the
problem shows its effect: the scenario's weekly ticket volume and
dissatisfied share in the weeks before and after the shipping date.

Everything is read from the scorecard facts (:class:`ScorecardHandoff`,
one row per stint, each with the log position of the event that decided
it), so every number lists the stints or tickets behind it. A resolution
belongs to the day it happened in the resolving department's timezone,
as a scorecard's handoffs belong to their department's days. The share
dissatisfied is the scorecards' figure (:func:`sla.scorecards.compute_figures`:
ratings of 1-2 over all ratings, raw, as given).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID
from zoneinfo import ZoneInfo

from django.utils.translation import gettext, gettext_lazy

from sla.models import ProblemLink, ScorecardHandoff
from sla.scorecards import compute_figures, figure_rows
from tickets import clock
from tickets.domain import RootCause
from tickets.problems_port import KnownProblem

#: How many example tickets and comments a problem shows in the table.
EXAMPLES = 3
COMMENTS = 3
#: Weeks before and after a fix shipped that its effect compares.
EFFECT_WEEKS = 4
#: The default period: this many ISO weeks, ending with the current one.
DEFAULT_WEEKS = 8

ROOT_CAUSE_LABELS = {
    RootCause.PRODUCT_DEFECT.value: gettext_lazy("Product defect"),
    RootCause.PROCESS.value: gettext_lazy("Process"),
    RootCause.POLICY.value: gettext_lazy("Policy"),
    RootCause.CUSTOMER_ERROR.value: gettext_lazy("Customer error"),
    RootCause.OTHER.value: gettext_lazy("Other"),
}

_FACT_COLUMNS = (
    "id",
    "ticket_id",
    "department",
    "scenario",
    "timezone",
    "root_cause",
    "product_area",
    "root_cause_detail",
    "ended_at",
    "ended_position",
    "rating_score",
    "rating_comment",
    "rating_position",
)


@dataclass(frozen=True)
class ProblemKey:
    scenario: str
    root_cause: str
    product_area: str

    @property
    def scenario_label(self) -> str:
        return self.scenario or gettext("(no scenario)")

    @property
    def root_cause_label(self) -> str:
        return str(ROOT_CAUSE_LABELS.get(self.root_cause, self.root_cause))

    @property
    def label(self) -> str:
        area = f" / {self.product_area}" if self.product_area else ""
        return f"{self.scenario_label}: {self.root_cause_label}{area}"

    @property
    def query(self) -> str:
        """The key as URL parameters (the admin's links)."""
        return urlencode(
            {
                "scenario": self.scenario,
                "root_cause": self.root_cause,
                "product_area": self.product_area,
            }
        )


@dataclass(frozen=True)
class Resolution:
    """One resolved stint: the fact a problem counts."""

    handoff_id: UUID
    ticket_id: UUID
    department: str
    resolved_at: datetime
    resolved_on: date  # in the department's timezone
    position: int  # log position of the Resolved event
    detail: str


@dataclass(frozen=True)
class Comment:
    """A customer's rating comment on one of a problem's tickets."""

    ticket_id: UUID
    handoff_id: UUID
    department: str
    score: int
    comment: str
    position: int  # log position of the rating event

    @property
    def dissatisfied(self) -> bool:
        return self.score <= 2


@dataclass(frozen=True)
class Window:
    """A scenario's figures over some days: the tickets that reached the
    scenario then (the day their first stint in it was received, in its
    department's timezone), and the ratings of those tickets' stints in
    the scenario (the scorecards' figures: ratings, dissatisfied, share)."""

    start: date
    end: date  # exclusive
    ticket_ids: tuple[UUID, ...]
    ratings: int
    dissatisfied: int
    dissatisfied_share: float | None
    #: The stints whose ratings are counted as dissatisfied (for auditing).
    dissatisfied_handoffs: tuple[UUID, ...]
    #: This problem's resolutions in the window.
    problem_resolutions: int

    @property
    def days(self) -> int:
        return max((self.end - self.start).days, 0)

    @property
    def weeks(self) -> float:
        return self.days / 7

    @property
    def tickets(self) -> int:
        return len(self.ticket_ids)

    @property
    def weekly_tickets(self) -> float | None:
        return self.tickets / self.weeks if self.days else None

    @property
    def weekly_problem(self) -> float | None:
        return self.problem_resolutions / self.weeks if self.days else None


@dataclass(frozen=True)
class Effect:
    """What a shipped fix changed: the scenario before and after."""

    shipped_on: date
    weeks: int
    before: Window
    after: Window

    @property
    def complete(self) -> bool:
        """Whether the whole after-window has passed."""
        return self.after.days >= 7 * self.weeks

    @property
    def tickets_saved_weekly(self) -> float | None:
        if self.before.weekly_tickets is None or self.after.weekly_tickets is None:
            return None
        return self.before.weekly_tickets - self.after.weekly_tickets


@dataclass
class Problem:
    key: ProblemKey
    resolutions: list[Resolution]
    weekly: list[int]
    link: ProblemLink | None = None
    effect: Effect | None = None
    comments: list[Comment] = field(default_factory=list)
    #: Resolutions of the period before (same length), for the trend.
    previous: int = 0

    @property
    def volume(self) -> int:
        return len(self.resolutions)

    @property
    def ticket_ids(self) -> list[UUID]:
        """Distinct tickets, most recently resolved first."""
        seen: dict[UUID, None] = {}
        for r in sorted(self.resolutions, key=lambda r: -r.position):
            seen.setdefault(r.ticket_id, None)
        return list(seen)

    @property
    def tickets(self) -> int:
        return len(self.ticket_ids)

    @property
    def departments(self) -> list[tuple[str, int]]:
        counts = Counter(r.department for r in self.resolutions)
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    @property
    def examples(self) -> list[UUID]:
        return self.ticket_ids[:EXAMPLES]

    @property
    def details(self) -> list[str]:
        """The distinct free-text details given, most recent first."""
        seen: dict[str, None] = {}
        for r in sorted(self.resolutions, key=lambda r: -r.position):
            if r.detail:
                seen.setdefault(r.detail, None)
        return list(seen)

    @property
    def change(self) -> int:
        """Resolutions this period minus the period before."""
        return self.volume - self.previous


@dataclass
class ProblemsReport:
    start: date
    end: date  # exclusive
    weeks: list[date]  # the Mondays of the ISO weeks the period touches
    department: str | None
    scenario: str | None
    root_cause: str | None
    problems: list[Problem]
    generated_at: datetime

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def total(self) -> int:
        return sum(p.volume for p in self.problems)


# -- periods -----------------------------------------------------------------------


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def default_period(
    today: date | None = None, weeks: int = DEFAULT_WEEKS
) -> tuple[date, date]:
    """``weeks`` ISO weeks ending with the current one (up to today)."""
    today = today or clock.now().date()
    return monday(today) - timedelta(weeks=weeks - 1), today + timedelta(days=1)


def week_starts(start: date, end: date) -> list[date]:
    weeks = []
    week = monday(start)
    while week < end:
        weeks.append(week)
        week += timedelta(weeks=1)
    return weeks


def _local_day(instant: datetime, timezone: str) -> date:
    return instant.astimezone(ZoneInfo(timezone or "UTC")).date()


def _resolved_between(start: date, end: date, **lookups: Any) -> list[Any]:
    """Resolved stints whose resolution falls on ``start`` to ``end``
    (exclusive) in their department's timezone (queried with a day's
    margin either side, then decided per stint)."""
    low = datetime.combine(start, time(), UTC) - timedelta(days=1)
    high = datetime.combine(end, time(), UTC) + timedelta(days=1)
    rows = ScorecardHandoff.objects.filter(
        ended_how="resolved", ended_at__gte=low, ended_at__lt=high, **lookups
    ).only(*_FACT_COLUMNS)
    return [
        row
        for row in rows
        if row.ended_at is not None
        and start <= _local_day(row.ended_at, row.timezone) < end
    ]


def _key(row: Any) -> ProblemKey:
    return ProblemKey(row.scenario, row.root_cause, row.product_area)


def _resolution(row: Any) -> Resolution:
    return Resolution(
        handoff_id=row.id,
        ticket_id=row.ticket_id,
        department=row.department,
        resolved_at=row.ended_at,
        resolved_on=_local_day(row.ended_at, row.timezone),
        position=int(row.ended_position or 0),
        detail=row.root_cause_detail,
    )


# -- the problems ----------------------------------------------------------------


def links_by_key() -> dict[ProblemKey, ProblemLink]:
    return {
        ProblemKey(link.scenario, link.root_cause, link.product_area): link
        for link in ProblemLink.objects.all()
    }


def problems(
    start: date,
    end: date,
    *,
    department: str | None = None,
    scenario: str | None = None,
    root_cause: str | None = None,
    product_area: str | None = None,
    effect_weeks: int = EFFECT_WEEKS,
    comments: int | None = COMMENTS,
    today: date | None = None,
) -> ProblemsReport:
    """The problems of the resolutions on ``start`` to ``end`` (exclusive),
    optionally only those resolved by ``department``, in ``scenario``,
    with ``root_cause`` or ``product_area``; the largest first. Raises
    ValueError for an empty period or a non-positive ``effect_weeks``."""
    if end <= start:
        raise ValueError("The period must end after it starts.")
    if effect_weeks < 1:
        raise ValueError("The effect compares at least one week.")
    lookups: dict[str, Any] = {}
    if department:
        lookups["department"] = department
    if scenario is not None:
        lookups["scenario"] = scenario
    if root_cause:
        lookups["root_cause"] = root_cause
    if product_area is not None:
        lookups["product_area"] = product_area
    weeks = week_starts(start, end)
    index = {week: i for i, week in enumerate(weeks)}
    grouped: dict[ProblemKey, list[Resolution]] = defaultdict(list)
    for row in _resolved_between(start, end, **lookups):
        grouped[_key(row)].append(_resolution(row))
    span = end - start
    previous = Counter(
        _key(row) for row in _resolved_between(start - span, start, **lookups)
    )
    links = links_by_key()
    today = today or clock.now().date()
    found = []
    for key, resolutions in grouped.items():
        weekly = [0] * len(weeks)
        for r in resolutions:
            weekly[index[monday(r.resolved_on)]] += 1
        link = links.get(key)
        found.append(
            Problem(
                key=key,
                resolutions=sorted(resolutions, key=lambda r: -r.position),
                weekly=weekly,
                link=link,
                effect=effect(key, link.shipped_on, weeks=effect_weeks, today=today)
                if link is not None and link.shipped_on is not None
                else None,
                previous=previous.get(key, 0),
            )
        )
    found.sort(
        key=lambda p: (
            -p.volume,
            -p.tickets,
            p.key.scenario,
            p.key.root_cause,
            p.key.product_area,
        )
    )
    _attach_comments(found, comments)
    return ProblemsReport(
        start=start,
        end=end,
        weeks=weeks,
        department=department or None,
        scenario=scenario,
        root_cause=root_cause or None,
        problems=found,
        generated_at=clock.now(),
    )


def problem(
    key: ProblemKey,
    start: date,
    end: date,
    *,
    department: str | None = None,
    effect_weeks: int = EFFECT_WEEKS,
    today: date | None = None,
) -> Problem:
    """One problem over a period, with all its comments (its page); an
    empty problem (volume 0) when nothing was resolved with it then."""
    report = problems(
        start,
        end,
        department=department,
        scenario=key.scenario,
        root_cause=key.root_cause,
        product_area=key.product_area,
        effect_weeks=effect_weeks,
        comments=None,
        today=today,
    )
    if report.problems:
        return report.problems[0]
    link = links_by_key().get(key)
    return Problem(
        key=key,
        resolutions=[],
        weekly=[0] * len(report.weeks),
        link=link,
        effect=effect(
            key,
            link.shipped_on,
            weeks=effect_weeks,
            today=today or clock.now().date(),
        )
        if link is not None and link.shipped_on is not None
        else None,
    )


def _attach_comments(found: Sequence[Problem], limit: int | None) -> None:
    """The rating comments given on each problem's tickets (any stint of
    them), dissatisfied first, then the most recent."""
    owners: dict[UUID, list[Problem]] = defaultdict(list)
    for p in found:
        for ticket_id in p.ticket_ids:
            owners[ticket_id].append(p)
    if not owners:
        return
    rows = (
        ScorecardHandoff.objects.filter(
            ticket_id__in=list(owners), rating_score__isnull=False
        )
        .exclude(rating_comment="")
        .only(
            "id",
            "ticket_id",
            "department",
            "rating_score",
            "rating_comment",
            "rating_position",
        )
    )
    per: dict[int, list[Comment]] = defaultdict(list)
    for row in rows:
        comment = Comment(
            ticket_id=row.ticket_id,
            handoff_id=row.id,
            department=row.department,
            score=int(row.rating_score or 0),
            comment=row.rating_comment,
            position=int(row.rating_position or 0),
        )
        for p in owners[row.ticket_id]:
            per[id(p)].append(comment)
    for p in found:
        ordered = sorted(per[id(p)], key=lambda c: (c.score, -c.position))
        p.comments = ordered if limit is None else ordered[:limit]


# -- the effect of a shipped fix ---------------------------------------------------


def _window(key: ProblemKey, start: date, end: date) -> Window:
    if end <= start:
        return Window(start, start, (), 0, 0, None, (), 0)
    # A ticket reaches the scenario with its first stint in it (on that
    # stint's department's day).
    candidates = ScorecardHandoff.objects.filter(
        scenario=key.scenario,
        day__gte=start - timedelta(days=1),
        day__lt=end + timedelta(days=1),
    ).values("ticket_id")
    first: dict[UUID, date] = {}
    for ticket_id, day in (
        ScorecardHandoff.objects.filter(scenario=key.scenario, ticket_id__in=candidates)
        .order_by("received_position")
        .values_list("ticket_id", "day")
    ):
        first.setdefault(ticket_id, day)
    reached = sorted(
        (day, str(ticket_id), ticket_id)
        for ticket_id, day in first.items()
        if start <= day < end
    )
    ticket_ids = tuple(ticket_id for _, _, ticket_id in reached)
    # Their stints in the scenario, with the ratings customers gave them.
    facts = list(
        ScorecardHandoff.objects.filter(scenario=key.scenario, ticket_id__in=ticket_ids)
    )
    figures = compute_figures(facts)
    resolved = _resolved_between(
        start,
        end,
        scenario=key.scenario,
        root_cause=key.root_cause,
        product_area=key.product_area,
    )
    return Window(
        start=start,
        end=end,
        ticket_ids=ticket_ids,
        ratings=int(figures["ratings"]),
        dissatisfied=int(figures["dissatisfied"]),
        dissatisfied_share=figures["dissatisfied_share"],
        dissatisfied_handoffs=tuple(f.id for f in figure_rows("dissatisfied", facts)),
        problem_resolutions=len(resolved),
    )


def effect(key: ProblemKey, shipped_on: date, *, weeks: int, today: date) -> Effect:
    """The scenario in the ``weeks`` weeks before ``shipped_on`` and the
    ``weeks`` weeks from it (up to yesterday, while they have not all
    passed): its tickets per week, its share of dissatisfied ratings, and
    this problem's resolutions per week."""
    span = timedelta(weeks=weeks)
    after_end = min(shipped_on + span, max(today, shipped_on))
    return Effect(
        shipped_on=shipped_on,
        weeks=weeks,
        before=_window(key, shipped_on - span, shipped_on),
        after=_window(key, shipped_on, after_end),
    )


# -- the port the ticket page uses ------------------------------------------------


class ProblemLinks:
    """``tickets.problems_port.ProblemLinksPort``: the issue linked to the
    problem a ticket was last resolved with."""

    def for_ticket(self, ticket_id: UUID) -> KnownProblem | None:
        fact = (
            ScorecardHandoff.objects.filter(ticket_id=ticket_id, ended_how="resolved")
            .order_by("-ended_position")
            .only("scenario", "root_cause", "product_area")
            .first()
        )
        if fact is None or not fact.root_cause:
            return None
        link = ProblemLink.objects.filter(
            scenario=fact.scenario,
            root_cause=fact.root_cause,
            product_area=fact.product_area,
        ).first()
        if link is None:
            return None
        return KnownProblem(
            scenario=link.scenario,
            root_cause=link.root_cause,
            product_area=link.product_area,
            url=link.url,
            title=link.title,
            shipped_on=link.shipped_on,
        )
