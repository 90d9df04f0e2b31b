"""The history routing reads: what the stints of one department on one
scenario add up to (:class:`Tally`), from the database for live
suggestions (:func:`history_from_database`) or from rows in memory as the
log stood at a moment, for replays (:func:`history_from_rows`, used by
``manage.py evaluate_routing``); and :func:`shrink`, how a small sample
leans on the figure above it. The ranking itself is in
:mod:`sla.routing` (departments) and :mod:`sla.routing_agents`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from uuid import UUID

from django.db.models import Count, Q, Sum

from sla.models import ScorecardHandoff
from tickets.domain import Status

#: How far back the history reaches.
WINDOW = timedelta(weeks=8)
OPEN_STATUSES = (Status.OPEN.value, Status.WAITING.value)
FINISHED = ("handed_on", "resolved")


def shrink(successes: float, trials: float, prior: float, weight: float) -> float:
    """The rate ``successes / trials`` pulled toward ``prior`` as if
    ``weight`` more trials had gone at the prior rate."""
    return (successes + weight * prior) / (trials + weight)


# ---------------------------------------------------------------------------
# Tallies: what the stints of one department on one scenario add up to
# ---------------------------------------------------------------------------


@dataclass
class Tally:
    """Counts over stints (``received`` etc. count only stints received by
    handoff or reopen; ``final`` counts every stint that resolved a ticket
    for good, the front line's included)."""

    received: int = 0
    finished: int = 0
    resolved: int = 0
    bounced: int = 0
    met: int = 0
    decided: int = 0
    ratings: int = 0
    rating_sum: int = 0
    responses: int = 0
    response_sum: float = 0.0
    final: int = 0

    def __iadd__(self, other: Tally) -> Tally:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self

    @property
    def average_rating(self) -> float | None:
        return self.rating_sum / self.ratings if self.ratings else None


#: (department, scenario) -> its tally.
History = dict[tuple[str, str], Tally]


def history_from_database(since: datetime, until: datetime) -> History:
    """The tallies of the stints received in ``[since, until)``, one
    aggregate query (the live path; :func:`history_from_rows` is the same
    rule over rows in memory, for replays)."""
    got = Q(kind__in=("handoff", "reopen"))
    good = Q(ended_how="resolved", reopened_position__isnull=True)
    rows = (
        ScorecardHandoff.objects.filter(received_at__gte=since, received_at__lt=until)
        .values("department", "scenario")
        .annotate(
            received=Count("id", filter=got),
            finished=Count("id", filter=got & Q(ended_how__in=FINISHED)),
            resolved=Count("id", filter=got & good),
            bounced=Count("id", filter=got & Q(bounced_position__isnull=False)),
            met=Count("id", filter=got & Q(verdict="met")),
            decided=Count("id", filter=got & Q(verdict__in=("met", "breached"))),
            ratings=Count("rating_score", filter=got),
            rating_sum=Sum("rating_score", filter=got),
            responses=Count("response_seconds", filter=got),
            response_sum=Sum("response_seconds", filter=got),
            final=Count("id", filter=good),
        )
    )
    history: History = {}
    for row in rows:
        key = (row.pop("department"), row.pop("scenario"))
        history[key] = Tally(**{k: v or 0 for k, v in row.items()})
    return history


@dataclass(frozen=True)
class FactRow:
    """The fields of a ``ScorecardHandoff`` a replay reads."""

    id: UUID
    ticket_id: UUID
    department: str
    from_department: str
    kind: str
    scenario: str
    received_at: datetime
    ended_how: str
    ended_at: datetime | None
    bounced_position: int | None
    reopened_position: int | None
    verdict: str
    rating_score: int | None
    response_seconds: float | None

    FIELDS = (
        "id",
        "ticket_id",
        "department",
        "from_department",
        "kind",
        "scenario",
        "received_at",
        "ended_how",
        "ended_at",
        "bounced_position",
        "reopened_position",
        "verdict",
        "rating_score",
        "response_seconds",
    )


def load_fact_rows() -> list[FactRow]:
    """Every stint, oldest first (for replays)."""
    return [
        FactRow(*values)
        for values in ScorecardHandoff.objects.order_by("received_position")
        .values_list(*FactRow.FIELDS)
        .iterator(chunk_size=2000)
    ]


def history_from_rows(
    rows: Iterable[FactRow],
    *,
    until: datetime,
    reopened_at: Mapping[UUID, list[datetime]] | None = None,
) -> History:
    """:func:`history_from_database` over rows, as the log stood at
    ``until``: a stint counts once received, its outcome once it ended
    before ``until``, a resolution as "for good" unless the ticket was
    reopened before ``until`` (``reopened_at``: each ticket's reopen times;
    None: use the stored reopen fact). Ratings and verdicts of stints that
    ended are counted as stored (their times are not in the row)."""
    history: History = defaultdict(Tally)
    for row in rows:
        if row.received_at >= until:
            continue
        tally = history[(row.department, row.scenario)]
        ended = row.ended_at is not None and row.ended_at < until
        resolved = ended and row.ended_how == "resolved"
        if resolved and reopened_at is not None:
            good = not any(
                row.ended_at <= t < until  # type: ignore[operator]
                for t in reopened_at.get(row.ticket_id, ())
            )
        else:
            good = resolved and row.reopened_position is None
        if good:
            tally.final += 1
        if row.kind == "opened":
            continue
        tally.received += 1
        if not ended:
            continue
        tally.finished += 1
        tally.resolved += good
        tally.bounced += row.bounced_position is not None
        tally.met += row.verdict == "met"
        tally.decided += row.verdict in ("met", "breached")
        if row.rating_score is not None:
            tally.ratings += 1
            tally.rating_sum += row.rating_score
        if row.response_seconds is not None:
            tally.responses += 1
            tally.response_sum += row.response_seconds
    return dict(history)
