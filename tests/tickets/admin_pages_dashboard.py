"""The lead dashboard's checks for ``test_admin_visibility`` (merged in
through ``admin_pages_more``): who may open it, which departments each
role sees there, and that no page of it shows a word of a ticket the
role may not see (``report.check``)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.test import Client
from django.urls import reverse

WEEK = date(2026, 3, 2)
CODES = ["CS", "FIN", "LOG", "RISK", "PROD"]


def dashboard_scope(role: str) -> set[str] | None:
    """The departments a role compares on the dashboard (None: all; an
    empty set: refused)."""
    if role in ("superuser", "cs_lead"):
        return None
    code, _, kind = role.partition("_")
    return {code.upper()} if kind == "lead" else set()


def check_dashboard(report: Any, client: Client) -> None:
    scope = dashboard_scope(report.role)
    url = f"{reverse('admin:sla_dashboard')}?{urlencode({'start': WEEK.isoformat()})}"
    response = client.get(url)
    report.check(url, response, allowed={403} if scope == set() else {200})
    if response.status_code != 200:
        return
    shown = {row["line"].code for row in response.context["rows"]}
    expected = set(CODES) if scope is None else scope
    if shown != expected:
        report.problem(url, f"compares {shown}, expected {expected}")
    for code in CODES:
        query = urlencode({"start": WEEK.isoformat(), "department": code})
        agents_url = f"{reverse('admin:sla_dashboard')}?{query}"
        mine = scope is None or code in scope
        report.check(agents_url, client.get(agents_url), allowed={200 if mine else 403})


def check_agent_figures(report: Any, client: Client) -> None:
    scope = dashboard_scope(report.role)
    base = reverse("admin:sla_dashboard_agent_figure")
    for code in CODES:
        mine = scope is None or code in scope
        agents = ["-"]
        if mine:
            query = urlencode({"start": WEEK.isoformat(), "department": code})
            board = client.get(f"{reverse('admin:sla_dashboard')}?{query}")
            agents += [
                row["line"].agent_id
                for row in board.context["agent_rows"]
                if row["line"].agent_id
            ]
        for agent in agents:
            for figure in ("received", "breach_rate", "dissatisfied"):
                query = urlencode(
                    {
                        "start": WEEK.isoformat(),
                        "department": code,
                        "agent": agent,
                        "figure": figure,
                    }
                )
                url = f"{base}?{query}"
                expected = {403} if not mine else {200}
                report.check(url, client.get(url), allowed=expected)
