"""What a department scorecard counts, defined once.

Every figure is computed from the handoffs (stints) a department received
in a period (the cohort), and every count figure is a predicate over those
handoffs: the drill-down lists exactly the handoffs the predicate selects,
so the number and the list behind it cannot disagree. Each figure also
names the fact whose log position decided it ("the event behind the
number"). Derived figures (rates, averages, percentiles) name the count
figure they are computed over.

Definitions (all per cohort: the handoffs received by the department in
the period, in its own timezone):

* received: every stint (opening, handoff or reopen);
* responded: stints with a public reply; handed_on / resolved: how the
  stint ended; finished: handed_on + resolved + abandoned;
* met / breached: the verdict of the stint's response clock (stints of
  departments without a response target have none);
  breach_rate = breached / (met + breached);
* median / p90 response: business seconds from receipt to the first
  reply, nearest-rank percentiles (so each is a real handoff's time);
* ratings: finished stints the customer rated; rating_rate = ratings /
  finished; satisfied = 4-5, dissatisfied = 1-2;
* reopened: stints that resolved the ticket which was later reopened;
* bounced: stints handed straight back to the department they came from
  without a public reply;
* ping_pong: handoffs that were the third transfer of the ticket between
  the same two departments (each ticket counts once per pair);
* stalled: stints that went without public activity (a reply to or from
  the customer) past the department's ``stall_after`` in business time
  (each stint counts once, from its first stall);
* abandoned: stints that ended with the ticket closed because the
  customer never answered while it waited on them past the department's
  ``abandon_after`` (they also count as finished: ended_how
  ``abandoned``);
* root causes: stints that resolved the ticket, by root cause;
* adjusted figures leave out breaches and ratings a front-line lead
  waived after a dispute; raw figures never change.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple, Protocol
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils.translation import gettext_noop

from tickets.domain import DisputeDecision, RootCause

PERIODS = ("day", "week", "month")
ALL_SCENARIOS = "*"
WAIVED = DisputeDecision.WAIVED.value


class Fact(Protocol):
    """The attributes of a ScorecardHandoff row the figures read."""

    department: str
    scenario: str
    responded_position: int | None
    response_seconds: float | None
    verdict: str
    ended_how: str
    root_cause: str
    bounced_position: int | None
    ping_pong_position: int | None
    reopened_position: int | None
    rating_score: int | None
    breach_dispute: str
    rating_dispute: str
    stalled_position: int | None
    abandoned_position: int | None


def period_starts(instant: datetime, timezone: str) -> dict[str, date]:
    """The day, ISO week (its Monday) and month (its first day) that
    contain ``instant`` in ``timezone``."""
    local = instant.astimezone(ZoneInfo(timezone)).date()
    return {
        "day": local,
        "week": local - timedelta(days=local.weekday()),
        "month": local.replace(day=1),
    }


def period_start(period: str, day: date) -> date:
    """Normalise ``day`` to the start of the ``period`` containing it."""
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def period_after(period: str, start: date) -> date:
    """The start of the next period."""
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def period_before(period: str, start: date) -> date:
    if period == "day":
        return start - timedelta(days=1)
    if period == "week":
        return start - timedelta(days=7)
    return (start - timedelta(days=1)).replace(day=1)


def scorecard_key(department: str, period: str, start: date, scenario: str) -> str:
    return f"{department}|{period}|{start.isoformat()}|{scenario}"


def bucket_keys(fact: Any) -> list[tuple[str, str, date, str]]:
    """The (department, period, start, scenario) scorecards a fact counts
    in: each period, for its scenario and for all scenarios."""
    keys = []
    for period in PERIODS:
        start = getattr(fact, period)
        keys.append((fact.department, period, start, fact.scenario))
        keys.append((fact.department, period, start, ALL_SCENARIOS))
    return keys


# ---------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------


def _breached(f: Fact) -> bool:
    return f.verdict == "breached"


def _rated(f: Fact) -> bool:
    return f.rating_score is not None


def _rating_counts(f: Fact) -> bool:
    return _rated(f) and f.rating_dispute != WAIVED


def _breach_counts(f: Fact) -> bool:
    return _breached(f) and f.breach_dispute != WAIVED


@dataclass(frozen=True)
class CountFigure:
    """A figure that counts the handoffs matching ``test``; ``position``
    names the fact field holding the log position that decided it.
    ``test`` reads only the :class:`Shape` fields, and log positions and
    the response time only for being there (it is also run on shapes)."""

    name: str
    label: str
    test: Callable[[Any], bool]
    position: str


def _score(low: int, high: int, counts: Callable[[Any], bool]) -> Callable[..., bool]:
    return lambda f: counts(f) and low <= f.rating_score <= high


COUNT_FIGURES: tuple[CountFigure, ...] = (
    CountFigure(
        "received",
        gettext_noop("Handoffs received"),
        lambda f: True,
        "received_position",
    ),
    CountFigure(
        "responded",
        gettext_noop("Responded"),
        lambda f: f.responded_position is not None,
        "responded_position",
    ),
    CountFigure(
        "handed_on",
        gettext_noop("Handed on"),
        lambda f: f.ended_how == "handed_on",
        "ended_position",
    ),
    CountFigure(
        "resolved",
        gettext_noop("Resolved"),
        lambda f: f.ended_how == "resolved",
        "ended_position",
    ),
    CountFigure(
        "finished",
        gettext_noop("Finished"),
        lambda f: f.ended_how != "",
        "ended_position",
    ),
    CountFigure(
        "met",
        gettext_noop("Response promise met"),
        lambda f: f.verdict == "met",
        "verdict_position",
    ),
    CountFigure(
        "breached",
        gettext_noop("Response promise breached"),
        _breached,
        "verdict_position",
    ),
    CountFigure(
        "decided",
        gettext_noop("Response promise decided (met or breached)"),
        lambda f: f.verdict != "",
        "verdict_position",
    ),
    CountFigure(
        "timed_responses",
        gettext_noop("First responses timed in business hours"),
        lambda f: f.response_seconds is not None,
        "response_seconds_position",
    ),
    CountFigure("ratings", gettext_noop("Ratings received"), _rated, "rating_position"),
    CountFigure(
        "satisfied",
        gettext_noop("Satisfied (4-5)"),
        _score(4, 5, _rated),
        "rating_position",
    ),
    CountFigure(
        "dissatisfied",
        gettext_noop("Dissatisfied (1-2)"),
        _score(1, 2, _rated),
        "rating_position",
    ),
    CountFigure(
        "reopened",
        gettext_noop("Reopened after this department resolved"),
        lambda f: f.reopened_position is not None,
        "reopened_position",
    ),
    CountFigure(
        "bounced",
        gettext_noop("Bounced back without a reply"),
        lambda f: f.bounced_position is not None,
        "bounced_position",
    ),
    CountFigure(
        "ping_pong",
        gettext_noop("Ping-pong (third transfer between the same two departments)"),
        lambda f: f.ping_pong_position is not None,
        "ping_pong_position",
    ),
    CountFigure(
        "stalled",
        gettext_noop("Stalled (no public activity past the limit)"),
        lambda f: f.stalled_position is not None,
        "stalled_position",
    ),
    CountFigure(
        "abandoned",
        gettext_noop("Abandoned (the customer never answered)"),
        lambda f: f.abandoned_position is not None,
        "abandoned_position",
    ),
    *(
        CountFigure(
            f"root_cause_{cause.value}",
            f"Resolved, root cause: {cause.value.replace('_', ' ')}",
            (lambda c: lambda f: f.ended_how == "resolved" and f.root_cause == c)(
                cause.value
            ),
            "ended_position",
        )
        for cause in RootCause
    ),
    # Disputes and the adjusted figures.
    CountFigure(
        "disputes_open",
        gettext_noop("Disputes awaiting a decision"),
        lambda f: "open" in (f.breach_dispute, f.rating_dispute),
        "dispute_position",
    ),
    CountFigure(
        "breaches_waived",
        gettext_noop("Breaches waived after a dispute"),
        lambda f: _breached(f) and f.breach_dispute == WAIVED,
        "breach_dispute_position",
    ),
    CountFigure(
        "ratings_waived",
        gettext_noop("Ratings waived after a dispute"),
        lambda f: _rated(f) and f.rating_dispute == WAIVED,
        "rating_dispute_position",
    ),
    CountFigure(
        "breached_adjusted",
        gettext_noop("Breached (adjusted)"),
        _breach_counts,
        "verdict_position",
    ),
    CountFigure(
        "decided_adjusted",
        gettext_noop("Decided (adjusted)"),
        lambda f: f.verdict == "met" or _breach_counts(f),
        "verdict_position",
    ),
    CountFigure(
        "ratings_adjusted",
        gettext_noop("Ratings (adjusted)"),
        _rating_counts,
        "rating_position",
    ),
    CountFigure(
        "satisfied_adjusted",
        gettext_noop("Satisfied (adjusted)"),
        _score(4, 5, _rating_counts),
        "rating_position",
    ),
    CountFigure(
        "dissatisfied_adjusted",
        gettext_noop("Dissatisfied (adjusted)"),
        _score(1, 2, _rating_counts),
        "rating_position",
    ),
)
COUNTS = {f.name: f for f in COUNT_FIGURES}


def _present(field: str) -> Q:
    return Q(**{f"{field}__isnull": False})


_RATED = _present("rating_score")
_RATING_COUNTS = _RATED & ~Q(rating_dispute=WAIVED)
_BREACH_COUNTS = Q(verdict="breached") & ~Q(breach_dispute=WAIVED)


def _score_where(low: int, high: int, counts: Q) -> Q:
    return counts & Q(rating_score__gte=low, rating_score__lte=high)


#: Each count figure's ``test`` as a database filter on the handoffs (the
#: same handoffs: ``tests/sla/test_scorecard_tally.py`` checks every
#: figure), so that a drill-down counts and pages in the database.
COUNT_WHERE: dict[str, Q] = {
    "received": Q(),
    "responded": _present("responded_position"),
    "handed_on": Q(ended_how="handed_on"),
    "resolved": Q(ended_how="resolved"),
    "finished": ~Q(ended_how=""),
    "met": Q(verdict="met"),
    "breached": Q(verdict="breached"),
    "decided": ~Q(verdict=""),
    "timed_responses": _present("response_seconds"),
    "ratings": _RATED,
    "satisfied": _score_where(4, 5, _RATED),
    "dissatisfied": _score_where(1, 2, _RATED),
    "reopened": _present("reopened_position"),
    "bounced": _present("bounced_position"),
    "ping_pong": _present("ping_pong_position"),
    "stalled": _present("stalled_position"),
    "abandoned": _present("abandoned_position"),
    **{
        f"root_cause_{cause.value}": Q(ended_how="resolved", root_cause=cause.value)
        for cause in RootCause
    },
    "disputes_open": Q(breach_dispute="open") | Q(rating_dispute="open"),
    "breaches_waived": Q(verdict="breached", breach_dispute=WAIVED),
    "ratings_waived": _RATED & Q(rating_dispute=WAIVED),
    "breached_adjusted": _BREACH_COUNTS,
    "decided_adjusted": Q(verdict="met") | _BREACH_COUNTS,
    "ratings_adjusted": _RATING_COUNTS,
    "satisfied_adjusted": _score_where(4, 5, _RATING_COUNTS),
    "dissatisfied_adjusted": _score_where(1, 2, _RATING_COUNTS),
}


@dataclass(frozen=True)
class DerivedFigure:
    """A rate, average or percentile computed over the handoffs of the
    count figure ``over`` (its drill-down lists those handoffs): from the
    counts, and from the values of the fact attribute ``reads`` (if any)
    of those handoffs."""

    name: str
    label: str
    over: str
    compute: Callable[[dict[str, int], list[Any]], float | None]
    reads: str = ""


def ratio(numerator: int, denominator: int) -> float | None:
    """A rate to four places; None when there is nothing to divide by."""
    return round(numerator / denominator, 4) if denominator else None


def format_rate(rate: float | None) -> str:
    """``0.6667`` -> ``"66.7%"``; None (nothing to compute it over) -> ``"-"``."""
    return "-" if rate is None else f"{rate * 100:.1f}%"


def _ratio(numerator: str, denominator: str) -> Callable[..., float | None]:
    def compute(counts: dict[str, int], values: list[Any]) -> float | None:
        return ratio(counts[numerator], counts[denominator])

    return compute


def nearest_rank(values: list[float], percent: int) -> float | None:
    """The nearest-rank percentile: the smallest value with at least
    ``percent``% of the values at or below it (always an observed value)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(percent * len(ordered) / 100)) - 1]


def _percentile(percent: int) -> Callable[..., float | None]:
    def compute(counts: dict[str, int], values: list[float]) -> float | None:
        value = nearest_rank(values, percent)
        return None if value is None else round(value, 3)

    return compute


def _average(counts: dict[str, int], values: list[int]) -> float | None:
    if not values:
        return None
    total: int = sum(values)
    return round(total / len(values), 4)


DERIVED_FIGURES: tuple[DerivedFigure, ...] = (
    DerivedFigure(
        "breach_rate",
        gettext_noop("Breach rate"),
        "decided",
        _ratio("breached", "decided"),
    ),
    DerivedFigure(
        "median_response_seconds",
        gettext_noop("Median business time to first response (s)"),
        "timed_responses",
        _percentile(50),
        reads="response_seconds",
    ),
    DerivedFigure(
        "p90_response_seconds",
        gettext_noop("90th percentile business time to first response (s)"),
        "timed_responses",
        _percentile(90),
        reads="response_seconds",
    ),
    DerivedFigure(
        "rating_rate",
        gettext_noop("Rating rate"),
        "finished",
        _ratio("ratings", "finished"),
    ),
    DerivedFigure(
        "average_score",
        gettext_noop("Average score"),
        "ratings",
        _average,
        reads="rating_score",
    ),
    DerivedFigure(
        "satisfied_share",
        gettext_noop("Share satisfied"),
        "ratings",
        _ratio("satisfied", "ratings"),
    ),
    DerivedFigure(
        "dissatisfied_share",
        gettext_noop("Share dissatisfied"),
        "ratings",
        _ratio("dissatisfied", "ratings"),
    ),
    DerivedFigure(
        "breach_rate_adjusted",
        gettext_noop("Breach rate (adjusted)"),
        "decided_adjusted",
        _ratio("breached_adjusted", "decided_adjusted"),
    ),
    DerivedFigure(
        "average_score_adjusted",
        gettext_noop("Average score (adjusted)"),
        "ratings_adjusted",
        _average,
        reads="rating_score",
    ),
    DerivedFigure(
        "satisfied_share_adjusted",
        gettext_noop("Share satisfied (adjusted)"),
        "ratings_adjusted",
        _ratio("satisfied_adjusted", "ratings_adjusted"),
    ),
    DerivedFigure(
        "dissatisfied_share_adjusted",
        gettext_noop("Share dissatisfied (adjusted)"),
        "ratings_adjusted",
        _ratio("dissatisfied_adjusted", "ratings_adjusted"),
    ),
)
DERIVED = {f.name: f for f in DERIVED_FIGURES}
FIGURE_NAMES = tuple(COUNTS) + tuple(DERIVED)


# ---------------------------------------------------------------------------
# Tallies: a cohort summarised so that the figures are computed once per
# kind of handoff rather than once per handoff, and cohorts add up
# ---------------------------------------------------------------------------


class Shape(NamedTuple):
    """What the count figures test about a handoff. Log positions and the
    response time are only ever tested for being there (``True`` or
    ``None`` here); the response times themselves are kept apart (a
    :class:`Tally`'s ``response_seconds``)."""

    responded_position: bool | None
    response_seconds: bool | None
    verdict: str
    ended_how: str
    root_cause: str
    bounced_position: bool | None
    ping_pong_position: bool | None
    reopened_position: bool | None
    rating_score: int | None
    breach_dispute: str
    rating_dispute: str
    stalled_position: bool | None
    abandoned_position: bool | None


#: The fact columns a :class:`Shape` and a tally read, in ``Shape`` order.
SHAPE_FIELDS = Shape._fields


def shape_of(fact: Any) -> Shape:
    return shape_from_values(tuple(getattr(fact, name) for name in SHAPE_FIELDS))


def shape_from_values(values: tuple[Any, ...]) -> Shape:
    """The shape of a handoff from its ``SHAPE_FIELDS`` values, in order
    (``x is not None or None``: True when there, else None)."""
    (
        responded,
        seconds,
        verdict,
        ended_how,
        root_cause,
        bounced,
        ping_pong,
        reopened,
        rating_score,
        breach_dispute,
        rating_dispute,
        stalled,
        abandoned,
    ) = values
    return Shape(
        responded is not None or None,
        seconds is not None or None,
        verdict,
        ended_how,
        root_cause,
        bounced is not None or None,
        ping_pong is not None or None,
        reopened is not None or None,
        rating_score,
        breach_dispute,
        rating_dispute,
        stalled is not None or None,
        abandoned is not None or None,
    )


@lru_cache(maxsize=4096)
def _members(shape: Shape) -> tuple[int, ...]:
    """The indexes (in ``COUNT_FIGURES``) of the count figures counting
    a handoff of this shape."""
    return tuple(i for i, figure in enumerate(COUNT_FIGURES) if figure.test(shape))


_TIMED = COUNTS["timed_responses"].test


class Tally:
    """A cohort of handoffs as the figures need it: how many of each
    :class:`Shape`, and the business times to first response of those
    with one (the percentiles are computed over them). Tallies add up: a
    month's is the sum of its days'."""

    __slots__ = ("response_seconds", "shapes")

    def __init__(self) -> None:
        self.shapes: Counter[Shape] = Counter()
        self.response_seconds: list[float] = []

    def add(self, shape: Shape, response_seconds: float | None) -> None:
        self.shapes[shape] += 1
        if _TIMED(shape):
            self.response_seconds.append(response_seconds)  # type: ignore[arg-type]

    def add_fact(self, fact: Any) -> None:
        self.add(shape_of(fact), fact.response_seconds)

    def merge(self, other: Tally) -> None:
        self.shapes.update(other.shapes)
        self.response_seconds.extend(other.response_seconds)

    def __len__(self) -> int:
        return self.shapes.total()

    def figures(self) -> dict[str, Any]:
        """Every figure of the cohort (what :func:`compute_figures` gives
        for its handoffs)."""
        totals = [0] * len(COUNT_FIGURES)
        for shape, n in self.shapes.items():
            for index in _members(shape):
                totals[index] += n
        counts = dict(zip(COUNTS, totals, strict=True))
        figures: dict[str, Any] = dict(counts)
        read: dict[tuple[str, str], list[Any]] = {}
        for derived in DERIVED_FIGURES:
            values: list[Any] = []
            if derived.reads:
                pair = (derived.over, derived.reads)
                if pair not in read:
                    read[pair] = self._values(*pair)
                values = read[pair]
            figures[derived.name] = derived.compute(counts, values)
        return figures

    def _values(self, over: str, reads: str) -> list[Any]:
        """The values of fact attribute ``reads`` of the handoffs in count
        figure ``over``."""
        if reads == "response_seconds":
            if over != "timed_responses":  # pragma: no cover
                raise ValueError("Response times are kept for timed responses only.")
            return self.response_seconds
        test = COUNTS[over].test
        values: list[Any] = []
        for shape, n in self.shapes.items():
            if test(shape):
                values.extend([getattr(shape, reads)] * n)
        return values


def tally(facts: Iterable[Any]) -> Tally:
    found = Tally()
    for fact in facts:
        found.add_fact(fact)
    return found


def compute_figures(facts: Iterable[Any]) -> dict[str, Any]:
    """Every figure of one scorecard from its cohort's facts."""
    return tally(facts).figures()


def figure_basis(name: str) -> CountFigure:
    """The count figure whose handoffs are behind figure ``name``: itself,
    or the one a derived figure is computed over."""
    return COUNTS[DERIVED[name].over if name in DERIVED else name]


def figure_rows(name: str, facts: Iterable[Any]) -> list[Any]:
    """The handoffs behind figure ``name``: those a count figure counts,
    or those a derived figure is computed over."""
    test = figure_basis(name).test
    return [f for f in facts if test(f)]


def deciding_position(name: str, fact: Any) -> int | None:
    """The log position of the event that put ``fact`` into figure
    ``name`` (for derived figures, into the figure they are computed
    over)."""
    field = figure_basis(name).position
    if field == "dispute_position":
        positions = [
            p
            for state, p in (
                (fact.breach_dispute, fact.breach_dispute_position),
                (fact.rating_dispute, fact.rating_dispute_position),
            )
            if state == "open" and p is not None
        ]
        return max(positions) if positions else None
    value = getattr(fact, field)
    return int(value) if value is not None else None


def figure_label(name: str) -> str:
    return COUNTS[name].label if name in COUNTS else DERIVED[name].label
