"""Routing suggestions: where an open ticket should go next, and who in
that department should take it, ranked from the scorecard facts.

For the ticket's scenario, each candidate department's stints of the last
:data:`WINDOW` (``ScorecardHandoff`` rows it received by handoff) give:

* **fit**: its share of the scenario's final resolutions (stints that
  resolved a ticket that was not reopened) among the candidates;
* **success**: of its finished stints, the share it resolved for good
  (not handed on, not bounced, not reopened);
* **met**: the share of its response promises kept;
* **rating**: its customers' average rating (1-5, scaled to 0-1).

Small samples are shrunk (empirical Bayes, :data:`PRIOR_STINTS` pseudo
stints) toward the figure one level up: the scenario's toward its parent
scenario family's, that toward the department's overall figure, that
toward everyone's. The fit's prior is the catalogue's usual owner
(``departments.Scenario.owner``, inherited from the parent), so with
little history the suggestion *is* the usual owner, and says so.

Load is a penalty: open tickets per member against
:data:`CAPACITY_PER_AGENT`, and a small one when the department is outside
its working hours now (its business calendar).

The current owner, inactive departments and (for tickets the front line
owns) nobody else is excluded: every active department but the owner is a
candidate. Who in the department should take it is
:mod:`sla.routing_agents`; the tallies and their replay are
:mod:`sla.routing_history`.

``manage.py evaluate_routing`` replays the history to measure the
suggestion against the usual-owner baseline (:class:`UsualOwnerRouting`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db.models import Count
from django.utils.translation import gettext as _

from departments.models import Department, Membership, Scenario
from sla.routing_agents import agents_for
from sla.routing_history import (
    OPEN_STATUSES,
    WINDOW,
    History,
    Tally,
    history_from_database,
    shrink,
)
from sla.scorecards import format_rate
from sla.terms import PolicySLAPort, Versions
from tickets import clock
from tickets.durations import format_duration
from tickets.models import TicketSummary
from tickets.routing import (
    AgentSuggestion,
    DepartmentSuggestion,
    Suggestions,
)

#: Pseudo stints of the level above that a figure is shrunk toward.
PRIOR_STINTS = 10
#: Below this many finished stints of the scenario the basis is "thin".
THIN_HISTORY = 20
#: Open tickets per member a department carries without a load penalty.
CAPACITY_PER_AGENT = 8
#: Weights of the score's terms (fit, success, met, rating).
WEIGHTS = {"fit": 0.45, "success": 0.30, "met": 0.15, "rating": 0.10}
#: Largest load penalty (a department at twice its capacity or more).
MAX_LOAD_PENALTY = 0.25
#: Penalty when no member can take it (no active members).
NO_MEMBERS_PENALTY = 0.5
#: Penalty when the department is outside its working hours now.
CLOSED_PENALTY = 0.03
#: Scores this close are a tie (broken by load, then code).
TIE = 0.005


# ---------------------------------------------------------------------------
# The ranking (pure: tallies, candidates and loads in, suggestions out)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    code: str
    name: str


@dataclass(frozen=True)
class Load:
    """A department's load now: open tickets it owns, active members, and
    whether it is in working hours (``opens_in``: time until it is)."""

    open_tickets: int = 0
    members: int = 1
    working_now: bool = True
    opens_in: timedelta | None = None

    @property
    def per_agent(self) -> float:
        return self.open_tickets / self.members if self.members else float("inf")


@dataclass(frozen=True)
class Catalogue:
    """What the scenario catalogue says about one scenario: its usual owner
    (inherited from the parent), and the codes of its family (the parent
    and the parent's children) for the level above it."""

    usual_owner: str = ""
    parent: str = ""
    family: frozenset[str] = frozenset()


def _sum(history: History, department: str | None, scenarios: Any = None) -> Tally:
    total = Tally()
    for (code, scenario), tally in history.items():
        if (department is None or code == department) and (
            scenarios is None or scenario in scenarios
        ):
            total += tally
    return total


def _rating_points(tally: Tally) -> float:
    """The ratings' sum on a 0-1 scale (1 star: 0, 5 stars: 1)."""
    return (tally.rating_sum - tally.ratings) / 4


@dataclass
class _Levels:
    """A department's tallies at each level, most specific first."""

    scenario: Tally
    family: Tally | None
    overall: Tally

    def rate(self, hits: str, trials: str, everyone: float) -> float:
        prior = shrink(
            self._get(self.overall, hits),
            getattr(self.overall, trials),
            everyone,
            PRIOR_STINTS,
        )
        if self.family is not None:
            prior = shrink(
                self._get(self.family, hits),
                getattr(self.family, trials),
                prior,
                PRIOR_STINTS,
            )
        return shrink(
            self._get(self.scenario, hits),
            getattr(self.scenario, trials),
            prior,
            PRIOR_STINTS,
        )

    @staticmethod
    def _get(tally: Tally, name: str) -> float:
        return (
            _rating_points(tally) if name == "rating_points" else getattr(tally, name)
        )


def _everyone(history: History) -> dict[str, float]:
    total = _sum(history, None)
    return {
        "success": total.resolved / total.finished if total.finished else 0.5,
        "met": total.met / total.decided if total.decided else 0.5,
        "rating": _rating_points(total) / total.ratings if total.ratings else 0.5,
    }


def rank_departments(
    history: History,
    *,
    scenario: str,
    candidates: list[Candidate],
    catalogue: Catalogue,
    loads: Mapping[str, Load],
    weeks: int,
) -> tuple[str, str, list[DepartmentSuggestion]]:
    """(basis, note, the candidates best first) for a ticket of
    ``scenario``. Pure: everything it reads is passed in."""
    if not candidates:
        return "cold_start", _("No other active department can receive it."), []
    everyone = _everyone(history)
    codes = [c.code for c in candidates]
    owner = catalogue.usual_owner if catalogue.usual_owner in codes else ""
    finals = {c: history.get((c, scenario), Tally()).final for c in codes}
    family_finals = {
        c: _sum(history, c, catalogue.family).final if catalogue.family else 0
        for c in codes
    }
    uniform = 1 / len(codes)
    seen = sum(history.get((c, scenario), Tally()).finished for c in codes)
    suggestions = []
    for candidate in candidates:
        code = candidate.code
        levels = _Levels(
            scenario=history.get((code, scenario), Tally()),
            family=_sum(history, code, catalogue.family) if catalogue.family else None,
            overall=_sum(history, code),
        )
        base = shrink(
            family_finals[code], sum(family_finals.values()), uniform, PRIOR_STINTS
        )
        prior = 0.5 * (code == owner) + 0.5 * base if owner else base
        terms = {
            "fit": shrink(finals[code], sum(finals.values()), prior, PRIOR_STINTS),
            "success": levels.rate("resolved", "finished", everyone["success"]),
            "met": levels.rate("met", "decided", everyone["met"]),
            "rating": levels.rate("rating_points", "ratings", everyone["rating"]),
        }
        load = loads.get(code, Load())
        penalty = _load_penalty(load)
        score = sum(WEIGHTS[name] * value for name, value in terms.items()) - penalty
        suggestions.append(
            DepartmentSuggestion(
                code=code,
                name=candidate.name,
                score=round(score, 4),
                usual_owner=code == owner,
                reasons=tuple(
                    _department_reasons(
                        candidate, scenario, levels, finals, load, weeks, code == owner
                    )
                ),
                figures={
                    **{name: round(value, 4) for name, value in terms.items()},
                    "load_penalty": round(penalty, 4),
                    "scenario_stints": levels.scenario.finished,
                    "scenario_resolved": levels.scenario.resolved,
                    "open_tickets": load.open_tickets,
                    "members": load.members,
                    "working_now": load.working_now,
                },
            )
        )
    suggestions.sort(
        key=lambda s: (-s.score, loads.get(s.code, Load()).per_agent, s.code)
    )
    _explain_tie(suggestions, loads)
    basis, note = _basis(scenario, seen, owner, candidates, weeks)
    return basis, note, suggestions


def _load_penalty(load: Load) -> float:
    if load.members <= 0:
        return NO_MEMBERS_PENALTY
    over = load.per_agent / CAPACITY_PER_AGENT - 1
    penalty = MAX_LOAD_PENALTY * min(1.0, max(0.0, over))
    return penalty + (0 if load.working_now else CLOSED_PENALTY)


def _basis(
    scenario: str, seen: int, owner: str, candidates: list[Candidate], weeks: int
) -> tuple[str, str]:
    owner_name = next((c.name for c in candidates if c.code == owner), "")
    if seen == 0:
        if owner_name:
            return "cold_start", _(
                "No %(scenario)s stints in the last %(weeks)s weeks yet: "
                "suggesting the usual owner, %(owner)s."
            ) % {"scenario": scenario or "-", "weeks": weeks, "owner": owner_name}
        return "cold_start", _(
            "No %(scenario)s stints in the last %(weeks)s weeks and no usual "
            "owner in the catalogue: ranked on the departments' overall figures."
        ) % {"scenario": scenario or "-", "weeks": weeks}
    if seen < THIN_HISTORY:
        tail = (
            _(" and the usual owner, %(owner)s") % {"owner": owner_name}
            if owner_name
            else ""
        )
        return "thin_history", _(
            "Few %(scenario)s stints yet (%(count)s in %(weeks)s weeks): the "
            "figures lean on each department's overall figures%(tail)s."
        ) % {"scenario": scenario, "count": seen, "weeks": weeks, "tail": tail}
    return "history", _(
        "Ranked on %(count)s finished %(scenario)s stints of the last %(weeks)s weeks."
    ) % {"count": seen, "scenario": scenario, "weeks": weeks}


def _department_reasons(
    candidate: Candidate,
    scenario: str,
    levels: _Levels,
    finals: Mapping[str, int],
    load: Load,
    weeks: int,
    usual_owner: bool,
) -> list[str]:
    reasons = []
    if usual_owner:
        reasons.append(
            _("Usual owner of %(scenario)s in the scenario catalogue.")
            % {"scenario": scenario}
        )
    tally = levels.scenario
    if tally.finished:
        clean = 1 - tally.bounced / tally.finished
        reasons.append(
            _(
                "%(name)s resolved %(resolved)s of %(finished)s %(scenario)s "
                "stints in %(weeks)s weeks, %(clean)s without a bounce."
            )
            % {
                "name": candidate.name,
                "resolved": tally.resolved,
                "finished": tally.finished,
                "scenario": scenario,
                "weeks": weeks,
                "clean": format_rate(clean),
            }
        )
        total = sum(finals.values())
        if total:
            reasons.append(
                _(
                    "It resolved %(share)s of the %(scenario)s tickets resolved "
                    "for good."
                )
                % {
                    "share": format_rate(finals[candidate.code] / total),
                    "scenario": scenario,
                }
            )
    else:
        overall = levels.overall
        reasons.append(
            _(
                "No %(scenario)s stints in %(weeks)s weeks: using its overall "
                "figures (%(resolved)s of %(finished)s stints resolved)."
            )
            % {
                "scenario": scenario or "-",
                "weeks": weeks,
                "resolved": overall.resolved,
                "finished": overall.finished,
            }
        )
        tally = overall
    if tally.ratings:
        reasons.append(
            _("Average rating %(average).1f (%(count)s ratings).")
            % {"average": tally.average_rating, "count": tally.ratings}
        )
    if tally.decided:
        reasons.append(
            _("Response promise met %(rate)s of %(count)s times.")
            % {"rate": format_rate(tally.met / tally.decided), "count": tally.decided}
        )
    if tally.responses:
        reasons.append(
            _("Average first response %(duration)s of business time.")
            % {"duration": format_duration(tally.response_sum / tally.responses)}
        )
    reasons.extend(_load_reasons(load))
    return reasons


def _load_reasons(load: Load) -> list[str]:
    if load.members <= 0:
        return [_("No active members to take it.")]
    reasons = [
        _(
            "%(per_agent).1f open tickets per agent now (%(open)s open, "
            "%(members)s members; capacity %(capacity)s each)."
        )
        % {
            "per_agent": load.per_agent,
            "open": load.open_tickets,
            "members": load.members,
            "capacity": CAPACITY_PER_AGENT,
        }
    ]
    if not load.working_now:
        reasons.append(
            _("Outside its working hours now (opens in %(duration)s).")
            % {"duration": format_duration(load.opens_in)}
        )
    return reasons


def _explain_tie(
    suggestions: list[DepartmentSuggestion], loads: Mapping[str, Load]
) -> None:
    if len(suggestions) < 2 or suggestions[0].score - suggestions[1].score > TIE:
        return
    first, second = suggestions[0], suggestions[1]
    lighter = (
        loads.get(first.code, Load()).per_agent
        < loads.get(second.code, Load()).per_agent
    )
    why = (
        _("it has fewer open tickets per agent")
        if lighter
        else _("by code, as nothing else tells them apart")
    )
    note = _("Level with %(other)s on these figures; first because %(why)s.") % {
        "other": second.name,
        "why": why,
    }
    suggestions[0] = DepartmentSuggestion(
        **{**first.__dict__, "reasons": (*first.reasons, note)}
    )


# ---------------------------------------------------------------------------
# The ports
# ---------------------------------------------------------------------------


def catalogue_for(scenario: str) -> Catalogue:
    """The usual owner (the nearest ancestor's when the scenario has none)
    and the family of ``scenario``; empty when it is not catalogued."""
    found = Scenario.objects.filter(code=scenario).select_related("parent").first()
    if found is None:
        return Catalogue()
    owner = ""
    node: Scenario | None = found
    seen: set[int] = set()
    while node is not None and node.pk not in seen:
        seen.add(node.pk)
        if node.owner_id is not None:
            owner = (
                Department.objects.filter(pk=node.owner_id)
                .values_list("code", flat=True)
                .first()
                or ""
            )
            break
        node = node.parent
    if found.parent is None:
        return Catalogue(usual_owner=owner)
    family = set(
        Scenario.objects.filter(parent=found.parent).values_list("code", flat=True)
    )
    family.add(found.parent.code)
    return Catalogue(
        usual_owner=owner, parent=found.parent.code, family=frozenset(family)
    )


def department_loads(codes: Iterable[str], at: datetime) -> dict[str, Load]:
    """Open tickets owned, active members and working hours, per department."""
    codes = list(codes)
    open_counts = dict(
        TicketSummary.objects.filter(owner__in=codes, status__in=OPEN_STATUSES)
        .values_list("owner")
        .annotate(n=Count("pk"))
    )
    members = dict(
        Membership.objects.filter(department__code__in=codes, user__is_active=True)
        .values_list("department__code")
        .annotate(n=Count("pk"))
    )
    versions = PolicySLAPort().versions()  # one shared-cache read for all
    return {
        code: Load(
            open_tickets=open_counts.get(code, 0),
            members=members.get(code, 0),
            **working_hours(code, at, versions),
        )
        for code in codes
    }


def working_hours(
    department: str, at: datetime, versions: Versions | None = None
) -> dict[str, Any]:
    """Whether ``department`` works at ``at`` and, if not, how long until
    it does (its calendar in force then; none: round the clock).
    ``versions``: the policy and calendar versions already read."""
    port = PolicySLAPort()
    row = (versions or port.versions()).calendar_at(department, at)
    calendar = port.calendar(department, row.version if row else 0, row)
    if calendar.is_working_time(at):
        return {"working_now": True, "opens_in": None}
    upcoming = calendar.working_intervals(at, at + timedelta(days=14))
    return {
        "working_now": False,
        "opens_in": upcoming[0][0] - at if upcoming else None,
    }


def candidates_for(owner: str) -> list[Candidate]:
    return [
        Candidate(code, name)
        for code, name in Department.objects.active()
        .exclude(code=owner)
        .order_by("code")
        .values_list("code", "name")
    ]


class ScorecardRouting:
    """The ranking above, on the live read models (``BATON_ROUTING_PORT``)."""

    def suggest(self, ticket_id: UUID, *, agents: bool = True) -> Suggestions | None:
        ticket = TicketSummary.objects.filter(pk=ticket_id).first()
        if ticket is None:
            return None
        now = clock.now()
        weeks = WINDOW.days // 7
        assignees: tuple[AgentSuggestion, ...] = ()
        if ticket.status not in OPEN_STATUSES:
            return Suggestions(
                ticket_id=ticket.pk,
                scenario=ticket.scenario,
                owner=ticket.owner,
                basis="not_open",
                note=_("Only open tickets are routed."),
            )
        history = history_from_database(now - WINDOW, now)
        candidates = candidates_for(ticket.owner)
        catalogue = catalogue_for(ticket.scenario)
        basis, note, ranked = self.rank(
            history,
            scenario=ticket.scenario,
            candidates=candidates,
            catalogue=catalogue,
            loads=department_loads([c.code for c in candidates], now),
            weeks=weeks,
        )
        if agents and ranked:
            top = ranked[0]
            ranked[0] = DepartmentSuggestion(
                **{
                    **top.__dict__,
                    "agents": tuple(
                        self._agents(history, top.code, ticket.scenario, now)
                    ),
                }
            )
        if agents:
            assignees = tuple(self._agents(history, ticket.owner, ticket.scenario, now))
        return Suggestions(
            ticket_id=ticket.pk,
            scenario=ticket.scenario,
            owner=ticket.owner,
            basis=basis,
            note=note,
            departments=tuple(ranked),
            assignees=assignees,
        )

    def rank(
        self, history: History, **context: Any
    ) -> tuple[str, str, list[DepartmentSuggestion]]:
        return rank_departments(history, **context)

    def _agents(
        self, history: History, department: str, scenario: str, now: datetime
    ) -> list[AgentSuggestion]:
        everyone = _everyone(history)
        levels = _Levels(
            scenario=history.get((department, scenario), Tally()),
            family=None,
            overall=_sum(history, department),
        )
        return agents_for(
            department,
            scenario,
            since=now - WINDOW,
            department_success=levels.rate("resolved", "finished", everyone["success"]),
            department_rating=levels.rate(
                "rating_points", "ratings", everyone["rating"]
            ),
        )


def usual_owner(
    history: History, scenario: str, catalogue: Catalogue, candidates: list[str]
) -> str:
    """The baseline: the catalogue's usual owner, else the candidate that
    resolved the scenario for good most often (ties: by code); empty when
    neither says anything."""
    if catalogue.usual_owner in candidates:
        return catalogue.usual_owner
    finals = {c: history.get((c, scenario), Tally()).final for c in candidates}
    best = max(sorted(finals), key=lambda c: finals[c], default="")
    return best if best and finals[best] else ""


class UsualOwnerRouting(ScorecardRouting):
    """The baseline as a port: the scenario's usual owner first, the rest
    as :class:`ScorecardRouting` ranks them (what the port falls back to
    when ``evaluate_routing`` finds the ranking no better)."""

    def rank(
        self, history: History, **context: Any
    ) -> tuple[str, str, list[DepartmentSuggestion]]:
        basis, note, ranked = rank_departments(history, **context)
        codes = [c.code for c in context["candidates"]]
        owner = usual_owner(history, context["scenario"], context["catalogue"], codes)
        if not owner:
            return basis, note, ranked
        ranked.sort(key=lambda s: s.code != owner)
        top = ranked[0]
        ranked[0] = DepartmentSuggestion(
            **{
                **top.__dict__,
                "reasons": (
                    _("The usual owner of %(scenario)s.")
                    % {"scenario": context["scenario"]},
                    *top.reasons,
                ),
            }
        )
        return "usual_owner", note, ranked
