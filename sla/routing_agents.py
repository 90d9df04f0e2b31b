"""Who in a department should take a ticket: its active members ranked by
their own stints of the scenario (from the ticket log's stint read model,
``tickets.models.Handoff``, whose ``agent_id`` is the agent assigned when
the stint ended, joined to the scorecard facts), shrunk toward the
department's figures, minus their open assignments. The departments'
ranking, which supplies those figures, is :mod:`sla.routing`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Count
from django.utils.translation import gettext as _

from sla.models import ScorecardHandoff
from sla.routing_history import FINISHED, OPEN_STATUSES, shrink
from tickets.models import Handoff, TicketSummary
from tickets.routing import AgentSuggestion

#: Pseudo stints of the department's figure an agent's is shrunk toward.
AGENT_PRIOR_STINTS = 5


@dataclass
class AgentTally:
    finished: int = 0
    resolved: int = 0
    ratings: int = 0
    rating_sum: int = 0


@dataclass(frozen=True)
class Member:
    agent_id: str
    name: str


def rank_agents(
    members: list[Member],
    *,
    scenario: str,
    stints: Mapping[str, AgentTally],
    open_assignments: Mapping[str, int],
    department_success: float,
    department_rating: float,
) -> list[AgentSuggestion]:
    """The members best first: their resolution and ratings on the
    scenario shrunk toward the department's, minus their open work."""
    ranked = []
    for member in members:
        tally = stints.get(member.agent_id, AgentTally())
        success = shrink(
            tally.resolved, tally.finished, department_success, AGENT_PRIOR_STINTS
        )
        rating = shrink(
            (tally.rating_sum - tally.ratings) / 4,
            tally.ratings,
            department_rating,
            AGENT_PRIOR_STINTS,
        )
        busy = open_assignments.get(member.agent_id, 0)
        score = 0.6 * success + 0.4 * rating - min(0.5, 0.05 * busy)
        if tally.finished:
            reasons = [
                _("%(name)s resolved %(resolved)s of %(finished)s %(scenario)s stints.")
                % {
                    "name": member.name,
                    "resolved": tally.resolved,
                    "finished": tally.finished,
                    "scenario": scenario,
                }
            ]
        else:
            reasons = [
                _(
                    "No %(scenario)s stints of %(name)s yet: the department's "
                    "figures stand in."
                )
                % {"scenario": scenario or "-", "name": member.name}
            ]
        if tally.ratings:
            reasons.append(
                _("Average rating %(average).1f (%(count)s ratings).")
                % {"average": tally.rating_sum / tally.ratings, "count": tally.ratings}
            )
        reasons.append(_("%(count)s open assignments now.") % {"count": busy})
        ranked.append(
            AgentSuggestion(
                agent_id=member.agent_id,
                name=member.name,
                score=round(score, 4),
                open_assignments=busy,
                reasons=tuple(reasons),
            )
        )
    ranked.sort(key=lambda a: (-a.score, a.open_assignments, a.name))
    return ranked


def members_of(department: str) -> list[Member]:
    user_model = get_user_model()
    users = user_model.objects.filter(
        memberships__department__code=department, is_active=True
    ).order_by("pk")
    return [
        Member(str(user.pk), user.get_full_name() or user.get_username())
        for user in users
    ]


def agent_stints(
    department: str, scenario: str, since: datetime
) -> dict[str, AgentTally]:
    """Each agent's finished stints of ``scenario`` in ``department``
    received since ``since`` (stints without an agent are left out)."""
    stint_rows = ScorecardHandoff.objects.filter(
        department=department,
        scenario=scenario,
        received_at__gte=since,
        ended_how__in=FINISHED,
    ).exclude(kind="opened")
    facts = {
        row["id"]: row
        for row in stint_rows.values(
            "id", "ended_how", "reopened_position", "rating_score"
        )
    }
    stints: dict[str, AgentTally] = defaultdict(AgentTally)
    for stint_id, agent_id in Handoff.objects.filter(
        id__in=list(facts), agent_id__gt=""
    ).values_list("id", "agent_id"):
        row, tally = facts[stint_id], stints[agent_id]
        tally.finished += 1
        tally.resolved += (
            row["ended_how"] == "resolved" and row["reopened_position"] is None
        )
        if row["rating_score"] is not None:
            tally.ratings += 1
            tally.rating_sum += row["rating_score"]
    return dict(stints)


def agents_for(
    department: str,
    scenario: str,
    *,
    since: datetime,
    department_success: float,
    department_rating: float,
) -> list[AgentSuggestion]:
    """The active members of ``department`` best first for a ticket of
    ``scenario`` (none when it has no active members)."""
    members = members_of(department)
    if not members:
        return []
    busy = dict(
        TicketSummary.objects.filter(
            owner=department,
            status__in=OPEN_STATUSES,
            assignee_id__in=[m.agent_id for m in members],
        )
        .values_list("assignee_id")
        .annotate(n=Count("pk"))
    )
    return rank_agents(
        members,
        scenario=scenario,
        stints=agent_stints(department, scenario, since),
        open_assignments=busy,
        department_success=department_success,
        department_rating=department_rating,
    )
