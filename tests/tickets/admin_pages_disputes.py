"""The disputes inbox's check for ``test_admin_visibility`` (merged in
through ``admin_pages_more``).

The world has no dispute of its own, so the first check raises one on
every breached stint, by an agent of the stint's department, with a
reason marked as that ticket's (``zq<key>dispute``): from then on a page
showing another role's dispute reason fails ``report.check`` as any
leaked word does. Each role then sees exactly the open disputes of the
departments whose scorecards it reads (every department for superusers
and front-line leads, its own for department staff), and staff in no
department are refused."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from sla.models import ScorecardHandoff
from tickets import services
from tickets.application import get_tickets_application
from tickets.projection_runner import catch_up, projection_group


def _raise_disputes(world: Any) -> set[tuple[str, str]]:
    """Dispute every breached stint once; the (ticket key, department)
    pairs disputed."""
    breached = list(ScorecardHandoff.objects.filter(verdict="breached"))
    for fact in breached:
        if fact.breach_dispute:
            continue
        key = world.key_of(fact.ticket_id)
        reason = f"zq{key}dispute"
        services.ticket_dispute(
            principal=world.org.agent(fact.department),
            ticket_id=fact.ticket_id,
            handoff_id=fact.id,
            subject="breach",
            reason=reason,
        )
        world.markers[key].append(reason)
    catch_up(get_tickets_application(), projection_group("scorecards"))
    return {(world.key_of(f.ticket_id), f.department) for f in breached}


def _scope(role: str) -> set[str] | None:
    """The departments whose disputes a role sees (None: every one)."""
    if role in ("superuser", "cs_lead"):
        return None
    if role == "nobody":
        return set()
    return {role.partition("_")[0].upper()}


def check_disputes(report: Any, client: Client) -> None:
    world, role = report.world, report.role
    disputed = _raise_disputes(world)
    if not disputed:
        report.problem("disputes", "the world has no breach to dispute")
    url = reverse("admin:sla_disputes")
    response = client.get(url)
    scope = _scope(role)
    report.check(url, response, allowed={403} if scope == set() else {200})
    if response.status_code != 200:
        return
    shown = {
        (world.key_of(row["fact"].ticket_id), row["department"])
        for row in response.context["rows"]
    }
    expected = {(key, code) for key, code in disputed if scope is None or code in scope}
    if shown != expected:
        report.problem(url, f"lists disputes {shown}, expected {expected}")
