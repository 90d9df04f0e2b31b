"""Known problems: a ticket resolved with a root cause that (in its
scenario, with its product area) is linked to an issue in Product's tracker shows
that link, and when the fix shipped.

The links are kept by the accountability side above this app (the
Problems view, ``sla.problems``), so tickets defines the port
(:class:`ProblemLinksPort`) and the value it returns, and
``settings.BATON_PROBLEM_LINKS_PORT`` names the implementation
(``sla.problems.ProblemLinks``; empty: no links shown), as
``BATON_SLA_PORT`` does for business time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Protocol
from uuid import UUID

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class KnownProblem:
    """The external issue a problem is linked to."""

    scenario: str
    root_cause: str
    product_area: str
    url: str
    title: str
    shipped_on: date | None


class ProblemLinksPort(Protocol):
    def for_ticket(self, ticket_id: UUID) -> KnownProblem | None:
        """The issue linked to the problem ``ticket_id`` was last resolved
        with (its scenario, root cause and product area), if any."""
        ...


@lru_cache(maxsize=8)
def _port(path: str) -> ProblemLinksPort | None:
    return import_string(path)() if path else None


def problem_links_port() -> ProblemLinksPort | None:
    """The port named by ``settings.BATON_PROBLEM_LINKS_PORT`` (None: off)."""
    return _port(getattr(settings, "BATON_PROBLEM_LINKS_PORT", ""))


def known_problem(ticket_id: UUID) -> KnownProblem | None:
    """The linked issue of the problem a ticket was resolved with; None
    when there is none, the ticket was never resolved, or the port is off.
    Never fails the page that asks: a link that cannot be read is shown as
    no link."""
    port = problem_links_port()
    if port is None:
        return None
    try:
        return port.for_ticket(ticket_id)
    except Exception:  # a side panel must never break the ticket page
        logger.exception("No problem link for ticket %s", ticket_id)
        return None
