"""Routing suggestions: where an open ticket should go next and who should
take it, as the ticket log sees it.

The ranking reads the scorecards, which live above this app, so tickets
defines the port (:class:`RoutingPort`) and the value objects it returns,
and ``settings.BATON_ROUTING_PORT`` names the implementation
(``sla.routing.ScorecardRouting``; ``sla.routing.UsualOwnerRouting`` is the
plain "scenario's usual owner" baseline; empty: no suggestions), as
``BATON_SLA_PORT`` does for business time.

A suggestion is advice: the forms preselect it and the API shows it, no
command is refused for ignoring it, and the handoff event records what
was suggested so its quality can be measured.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol
from uuid import UUID

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AgentSuggestion:
    """A member of a department, ranked for taking the ticket."""

    agent_id: str
    name: str
    score: float
    open_assignments: int
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class DepartmentSuggestion:
    """A department the ticket could go to next, with why."""

    code: str
    name: str
    score: float
    usual_owner: bool
    reasons: tuple[str, ...] = ()
    #: The numbers behind the reasons (machine-readable, for the API).
    figures: dict[str, Any] = field(default_factory=dict)
    #: Its members ranked for the ticket (filled for the top department).
    agents: tuple[AgentSuggestion, ...] = ()


@dataclass(frozen=True)
class Suggestions:
    """The ranking for one ticket at one moment."""

    ticket_id: UUID
    scenario: str
    owner: str
    #: How the ranking was reached: ``history`` (enough of the scenario's
    #: history), ``thin_history`` (few stints: shrunk toward the usual owner
    #: and the departments' overall figures), ``cold_start`` (no history of
    #: the scenario), ``usual_owner`` (the baseline only), ``not_open``.
    basis: str
    #: One plain sentence saying what the basis means for this ticket.
    note: str
    departments: tuple[DepartmentSuggestion, ...] = ()
    #: Members of the department that owns the ticket now, ranked for the
    #: assign form.
    assignees: tuple[AgentSuggestion, ...] = ()

    @property
    def top(self) -> DepartmentSuggestion | None:
        return self.departments[0] if self.departments else None


class RoutingPort(Protocol):
    def suggest(self, ticket_id: UUID, *, agents: bool = True) -> Suggestions | None:
        """The ranking for ``ticket_id`` now (None: no such ticket).
        ``agents=False`` skips ranking people (cheaper)."""
        ...


@lru_cache(maxsize=8)
def _port(path: str) -> RoutingPort | None:
    return import_string(path)() if path else None


def routing_port() -> RoutingPort | None:
    """The port named by ``settings.BATON_ROUTING_PORT`` (None: routing is
    switched off)."""
    return _port(getattr(settings, "BATON_ROUTING_PORT", ""))


def suggest(ticket_id: UUID, *, agents: bool = True) -> Suggestions | None:
    """The configured port's suggestions for ``ticket_id`` (None when
    routing is off or the ticket is unknown)."""
    port = routing_port()
    return port.suggest(ticket_id, agents=agents) if port is not None else None


def advice(ticket_id: UUID, *, agents: bool = True) -> Suggestions | None:
    """:func:`suggest` for callers that must go on without it (a handoff,
    the admin forms): a ranking that fails is logged and reads as no
    advice."""
    try:
        return suggest(ticket_id, agents=agents)
    except Exception:  # advice must never block a command or a page
        logger.exception("No routing suggestion for ticket %s", ticket_id)
        return None


def suggested_department(ticket_id: UUID) -> str:
    """The top suggestion's department code for the handoff event to
    record; empty when there is none. Never fails a handoff: advice that
    cannot be computed is recorded as no advice."""
    found = advice(ticket_id, agents=False)
    top = found.top if found is not None else None
    return top.code if top is not None else ""
