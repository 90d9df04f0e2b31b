"""Classification of admin models and extra views added after
``test_admin_visibility`` reached its size limit: that test merges these
into its own tables. A check takes the test's ``Report`` (``report.world``,
``report.role``, ``report.check(url, response, allowed={...})``) and a
logged-in ``Client``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client

from tests.tickets import admin_pages_dashboard as dashboard
from tests.tickets import admin_pages_disputes as disputes
from tests.tickets import admin_pages_followups as followups

#: Models whose rows name a ticket: label -> the field holding its id.
MORE_SCOPED: dict[str, str] = {}
#: Models whose rows carry no ticket data, and why.
MORE_NO_TICKET_DATA: dict[str, str] = {
    "sla.leaddashboard": "department figures (a proxy of scorecards: leads only)",
}
#: Extra views of model admins (URL name -> check).
MORE_EXTRA_VIEWS: dict[str, Callable[[Any, Client], None]] = {
    "sla_dashboard": dashboard.check_dashboard,
    "sla_dashboard_agent_figure": dashboard.check_agent_figures,
    "sla_disputes": disputes.check_disputes,
    "tickets_followups": followups.check_inbox,
    "tickets_followup": followups.check_follow_up,
}
