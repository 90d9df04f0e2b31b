"""The command table (``tickets.commands``) is the one place a command is
defined: every interface that should offer a command offers it from the
table, and a new entry reaches the API (route, schema, service) with no
further code."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import get_resolver, include, path
from drf_spectacular.generators import SchemaGenerator

from tests.helpers import Org, open_ticket, stored_events
from tests.tickets.api_helpers import token_client
from tests.tickets.test_command_rejections import _routes
from tickets import commands, services
from tickets.api import public_views, urls, views
from tickets.application import Invocation, aggregate
from tickets.commands import TABLE, Command, Who, inputs
from tickets.domain import Principal

TEMPLATES = Path(settings.BASE_DIR) / "tickets" / "templates"
ADMIN_TICKET_PAGE = TEMPLATES / "admin" / "tickets" / "queue" / "ticket.html"
CUSTOMER_PAGE = TEMPLATES / "tickets" / "customer_page.html"
#: Staff commands deliberately not on the admin ticket page: disputes are
#: raised and decided on the scorecard pages (sla.scorecard_admin), and a
#: dissatisfied customer's follow-up is worked on its own page
#: (tickets.admin.followups).
NOT_ON_THE_TICKET_PAGE = {
    "dispute",
    "decide_dispute",
    "follow_up_assign",
    "follow_up_note",
    "follow_up_contact",
    "follow_up_close",
    "follow_up_reopen",
}


def _forms(template: Path) -> dict[str, str]:
    """Each ``<form>`` of a template by the action it posts."""
    forms = re.findall(r"<form\b.*?</form>", template.read_text(), flags=re.S)
    return {
        match.group(1): form
        for form in forms
        if (match := re.search(r'name="action" value="(\w+)"', form))
    }


# --- the table ---------------------------------------------------------------------


def test_names_paths_and_actions_are_unique() -> None:
    for attribute in ("name", "path"):
        values = [getattr(c, attribute) for c in TABLE]
        assert len(values) == len(set(values)), attribute
    admin = [c.admin_action for c in TABLE if c.admin_action]
    customer = [c.customer_action for c in TABLE if c.customer_action]
    assert len(admin) == len(set(admin)) and len(customer) == len(set(customer))


def test_who_matches_the_interfaces() -> None:
    for command in TABLE:
        if command.customer_action:
            assert command.who != Who.STAFF, command.name
        if command.who == Who.CUSTOMER:
            assert not command.admin_action, command.name


# --- every interface that should have a command has it -----------------------------


def test_every_command_has_its_api_route() -> None:
    routed = {
        view.command.name: route
        for route, view in _routes(get_resolver().url_patterns)
        if view is not None and issubclass(view, views.TicketCommandApi)
    }
    assert routed == {
        c.name: f"api/v1/tickets/<uuid:ticket_id>/{c.path}" for c in TABLE
    }


def test_every_command_is_in_the_schema_as_the_table_says() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for command in TABLE:
        operation = schema["paths"][f"/api/v1/tickets/{{ticket_id}}/{command.path}"]
        post = operation["post"]
        assert post["operationId"] == f"tickets_{command.name}"
        assert post["summary"] == command.summary
        assert set(command.refusals) <= set(post["responses"]["400"]["x-problem-codes"])


def test_every_staff_command_is_on_the_admin_ticket_page() -> None:
    forms = _forms(ADMIN_TICKET_PAGE)
    staff = {c.name for c in TABLE if c.who == Who.STAFF}
    on_page = {c.name for c in TABLE if c.admin_action}
    assert staff - on_page == NOT_ON_THE_TICKET_PAGE
    for command in TABLE:
        if command.admin_action:
            form = forms[command.admin_action]
            for name in command.fields:  # posted, or rendered by a Django form
                assert f'name="{name}"' in form or f".{name} }}}}" in form, name
    # and every command form of the page is a table command
    assert set(forms) - {"customer_link"} == {
        c.admin_action for c in TABLE if c.admin_action
    }


def test_the_customer_commands_are_on_the_customer_page_and_api() -> None:
    forms = _forms(CUSTOMER_PAGE)
    offered = {c.customer_action for c in TABLE if c.customer_action}
    assert offered == {"reply", "rate"}
    assert set(forms) == offered
    public = {
        view.command.name
        for _, view in _routes(get_resolver().url_patterns)
        if view is not None and issubclass(view, public_views.PublicCommandApi)
    }
    assert public == {c.name for c in TABLE if c.customer_action}


def test_every_command_has_a_service() -> None:
    for command in TABLE:
        assert command.name in commands.COMMANDS
    assert services.ticket_rate_handoff is services.ticket_rate_experience


# --- the one rating rule -------------------------------------------------------------


@dataclass
class RecordingTicket:
    owner: str = "CS"
    front_line: str = "CS"
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __getattr__(self, method: str) -> Any:
        return lambda **kwargs: self.calls.append((method, kwargs))


def test_no_handoff_id_rates_the_whole_experience() -> None:
    ticket = RecordingTicket()
    customer = Principal(kind="customer", id="C1", name="Dana", short_name="Dana")
    run = Invocation(ticket, customer, datetime(2026, 1, 1, tzinfo=UTC), None)  # type: ignore[arg-type]
    commands.rate(run, score=5)
    commands.rate(run, handoff_id=None, score=4, comment="ok")
    stint = uuid4()
    commands.rate(run, handoff_id=stint, score=3)
    assert [(method, kwargs.get("handoff_id")) for method, kwargs in ticket.calls] == [
        ("rate_experience", None),
        ("rate_experience", None),
        ("rate_handoff", stint),
    ]


# --- a new entry needs no further code ------------------------------------------------

ESCALATE = Command(
    name="escalate",
    call=aggregate("add_note"),
    who=Who.STAFF,
    input=inputs.BodyInputSerializer,
    summary="Escalate (a command that is only in this test)",
    path="escalations/",
    refusals=("ticket_resolved", "no_change"),
)

urlpatterns = [path("api/v1/", include(urls.command_paths([ESCALATE])))]


def test_a_new_entry_is_in_the_schema() -> None:
    generator = SchemaGenerator(patterns=urlpatterns)
    operation = generator.get_schema(request=None, public=True)["paths"][
        "/api/v1/tickets/{ticket_id}/escalations/"
    ]["post"]
    assert operation["operationId"] == "tickets_escalate"
    assert operation["summary"] == ESCALATE.summary
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BodyInputRequest"
    }
    assert {"ticket_resolved", "no_change"} <= set(
        operation["responses"]["400"]["x-problem-codes"]
    )
    assert {"200", "202", "403", "404", "409", "412"} <= set(operation["responses"])


@pytest.fixture
def escalate_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(commands.COMMANDS, ESCALATE.name, ESCALATE)


@pytest.mark.usefixtures("escalate_registered")
@override_settings(ROOT_URLCONF=__name__)
def test_a_new_entry_runs_through_the_api(org: Org) -> None:
    tid: UUID = open_ticket(org)
    response = token_client(org.agents["CS"]).post(
        f"/api/v1/tickets/{tid}/escalations/", {"body": "Urgent"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert type(stored_events(tid)[-1]).__name__ == "NoteAdded"
    refused = token_client(org.agents["CS"]).post(
        f"/api/v1/tickets/{tid}/escalations/", {"body": ""}, format="json"
    )
    assert refused.status_code == 400
