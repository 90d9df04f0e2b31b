"""Visibility checks of the Dissatisfied inbox's pages (extra views of the
ticket admin), for ``test_admin_visibility`` through ``admin_pages_more``.

Who sees what, worked out by hand: the service team (superusers, the
front line's lead) sees every follow-up; a department's lead sees those of
its own department's ratings (read-only); agents and people in no
department have no inbox (403). A follow-up the viewer may not see answers
404. Every answer is checked for words of tickets the role may not see.
"""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from tickets.models import FollowUp

SERVICE_TEAM = {"superuser", "cs_lead"}


def _has_inbox(role: str) -> bool:
    return role in SERVICE_TEAM or role.endswith("_lead")


def _sees(role: str, row: FollowUp) -> bool:
    return role in SERVICE_TEAM or role == f"{row.department.lower()}_lead"


def check_inbox(report: Any, client: Client) -> None:
    role = report.role
    for query in ("", "?status=all", "?status=overdue", "?status=closed"):
        url = reverse("admin:tickets_followups") + query
        response = client.get(url)
        report.check(url, response, allowed={200} if _has_inbox(role) else {403})
        if response.status_code != 200 or query != "?status=all":
            continue
        shown = {r["obj"].pk for r in response.context["rows"]}
        expected = {r.pk for r in FollowUp.objects.all() if _sees(role, r)}
        if shown != expected:
            report.problem(url, f"lists {len(shown)} follow-ups, expected {expected}")


def check_follow_up(report: Any, client: Client) -> None:
    role = report.role
    rows = list(FollowUp.objects.all())
    if not rows:
        report.problem("follow-ups", "the world has no follow-up to check")
    for row in rows:
        url = reverse("admin:tickets_followup", args=[row.pk])
        if not _has_inbox(role):
            expected = {403}
        else:
            expected = {200} if _sees(role, row) else {404}
        report.check(url, client.get(url), allowed=expected)
