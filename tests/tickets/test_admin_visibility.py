"""The visibility rule holds on every admin page, generated from the admin
registry: every registered model x every demo role.

Four tickets, each marked with words found nowhere else, go through
departments as follows (every ticket is opened by the front line, CS):

=========  ==================  =============================================
ticket     departments         visible to
=========  ==================  =============================================
cs         CS                  CS staff, superuser
fin        CS -> FIN           CS staff, Finance, superuser
risk       CS -> RISK          CS staff, Risk, superuser
logprod    CS -> LOG -> PROD   CS staff, Logistics, Product, superuser
=========  ==================  =============================================

A staff user in no department sees none. For each registered model the test
requests, as each role: the list (plain, searched for another ticket, filtered
by each list filter, through the date hierarchy), the change, history and
delete pages of a row of an invisible ticket (answered as a missing row is:
404) and of a visible one, the autocomplete endpoint where the model can be
searched from a relation, and every extra view the model admin adds (exports,
downloads, drill-downs). No answer may contain a word of a
ticket the role may not see; lists show exactly the visible rows.

A model registered later fails ``test_every_registered_model_is_classified``
until classified here or in admin_pages_more (and ``tickets.E001`` until its
admin applies the rule, when its rows name a ticket).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID, uuid4

import pytest
import time_machine
from django.apps import apps
from django.contrib import admin
from django.contrib.admin import filters as dj_admin_filters
from django.contrib.admin.utils import quote
from django.contrib.auth.models import Permission, User
from django.core import checks
from django.db.models import Model
from django.test import Client, RequestFactory
from django.urls import reverse

from sla import services as sla_services
from sla.models import Scorecard, ScorecardReport
from sla.report_services import reports_generate
from tests.helpers import Org, make_org, make_user, open_ticket
from tests.tickets import admin_pages_more as more
from tickets import attachments, selectors, services
from tickets.admin import ReadOnlyTicketDataAdmin, TicketDataAdmin
from tickets.admin.visibility import unscoped_ticket_admins
from tickets.application import get_tickets_application
from tickets.models import (
    Attachment,
    Handoff,
    InboundEmail,
    TicketSummary,
    TimelineEntry,
    WebhookSubscription,
)
from tickets.projection_runner import catch_up, projection_group

T0 = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # Tue 10:00 Shanghai, Mon 21:00 NY
WEEK = date(2026, 3, 2)
T_END = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # the week is over everywhere
WORKDAY = dict.fromkeys(
    ["monday", "tuesday", "wednesday", "thursday", "friday"], "09:00-18:00"
)
CODES = ["CS", "FIN", "LOG", "RISK", "PROD"]
TICKETS = {"cs": [], "fin": ["FIN"], "risk": ["RISK"], "logprod": ["LOG", "PROD"]}
EVERY = set(TICKETS)

# -- who sees what (worked out by hand from the table above) -------------------

ROLES = [
    "superuser",
    *(f"{code.lower()}_{kind}" for code in CODES for kind in ("agent", "lead")),
    "nobody",
]
VISIBLE: dict[str, set[str]] = {
    "superuser": EVERY,
    "cs_agent": EVERY,  # the front line owned the first stint of each
    "cs_lead": EVERY,
    "fin_agent": {"fin"},
    "fin_lead": {"fin"},
    "risk_agent": {"risk"},
    "risk_lead": {"risk"},
    "log_agent": {"logprod"},
    "log_lead": {"logprod"},
    "prod_agent": {"logprod"},
    "prod_lead": {"logprod"},
    "nobody": set(),
}
#: Departments whose scorecards and reports a role reads (None: all, and
#: the service team's summary).
SCORECARDS: dict[str, set[str] | None] = {
    "superuser": None,
    "cs_lead": None,
    "nobody": set(),
    **{
        f"{code.lower()}_{kind}": {code}
        for code in CODES
        for kind in ("agent", "lead")
        if (code, kind) != ("CS", "lead")
    },
}

# -- every registered model, classified ----------------------------------------

#: Rows that name a ticket: shown only for visible tickets. The value says
#: how the test finds a row's ticket.
SCOPED = {
    "tickets.ticketsummary": "pk",
    "tickets.queueticket": "pk",
    "tickets.handoff": "ticket_id",
    "tickets.slaclock": "ticket_id",
    "sla.slanotification": "ticket_id",
    "tickets.webhookdelivery": "ticket_id",
    "tickets.emailnotification": "ticket_id",
    "tickets.inboundemail": "ticket_id",
} | more.MORE_SCOPED
#: A department's own figures and reports: they count and list only the
#: department's stints, whose tickets its members see; the service team's
#: summary is for those who see every ticket.
BY_DEPARTMENT = {"sla.scorecard", "sla.scorecardreport"}
#: Models whose rows carry no ticket data, and why.
NO_TICKET_DATA = {
    "auth.user": "staff accounts",
    "auth.group": "permission groups",
    "departments.department": "reference data",
    "departments.membership": "who works where",
    "departments.scenario": "reference data (the scenario catalogue)",
    "sla.problemlink": "tracker links of problems (the service team only)",
    "sla.calendar": "configuration",
    "sla.calendarversion": "configuration",
    "sla.slapolicy": "configuration",
    "sla.slapolicyversion": "configuration",
    "tickets.apitoken": "credentials (superusers only)",
    "tickets.webhooksubscription": "integration URLs (superusers only)",
    "tickets.projectiontracking": "log positions",
    "tickets.notificationsettings": "a person's own choices",
    "django_q.schedule": "task schedules (superusers only)",
    "django_q.success": "task results: log positions and counts (superusers only)",
    "django_q.failure": "task results: log positions and errors (superusers only)",
    "django_q.ormq": "queued tasks: log positions (superusers only)",
    "axes.accessattempt": "failed logins (superusers only)",
    "axes.accesslog": "logins (superusers only)",
    "axes.accessfailurelog": "failed logins (superusers only)",
} | more.MORE_NO_TICKET_DATA
#: Lists that show a chosen part of the visible rows (the department's
#: current queue), not all of them: they must still show nothing else.
PARTIAL_LISTS = {"tickets.queueticket"}


def registered() -> dict[str, tuple[type[Model], Any]]:
    return {
        model._meta.label_lower: (model, model_admin)
        for model, model_admin in admin.site._registry.items()
    }


# -- the world -----------------------------------------------------------------


@dataclass
class World:
    org: Org
    users: dict[str, User]
    tickets: dict[str, UUID]
    markers: dict[str, list[str]] = field(default_factory=dict)

    def key_of(self, ticket_id: Any) -> str:
        return {v: k for k, v in self.tickets.items()}[UUID(str(ticket_id))]

    def hidden_words(self, role: str, *, except_: str = "") -> list[str]:
        return [
            word
            for key in EVERY - VISIBLE[role]
            for word in self.markers[key]
            if word != except_
        ]


def words(key: str) -> dict[str, str]:
    return {
        "subject": f"zq{key}subject",
        "description": f"zq{key}description",
        "customer_ref": f"ZQ{key.upper()}REF",
        "customer_name": f"zq{key}customer",
        "customer_contact": f"zq{key}contact@example.com",
        "external_ref": f"zq{key}external",
    }


SUBJECTS = {words(key)["subject"]: key for key in TICKETS}


def build_world() -> World:
    org = make_org()
    users: dict[str, User] = {
        "superuser": User.objects.create_superuser("root", "root@example.com", "pw"),
        "nobody": make_user("nobody"),
    }
    for code in CODES:
        users[f"{code.lower()}_agent"] = org.agents[code]
        users[f"{code.lower()}_lead"] = org.leads[code]
    with time_machine.travel(T0 - timedelta(days=10), tick=False):
        for code in CODES:
            sla_services.calendar_version_create(
                department=org.departments[code], timezone="Asia/Shanghai", **WORKDAY
            )
            sla_services.policy_version_create(
                department=org.departments[code],
                response_normal=timedelta(hours=1),
                warn_percent=50,
            )
        WebhookSubscription.objects.create(
            name="Everything",
            owner=users["superuser"],
            url="https://receiver.example.com/hook",
            secret=WebhookSubscription.new_secret(),
        )
    tickets: dict[str, UUID] = {}
    markers: dict[str, list[str]] = {}
    with time_machine.travel(T0, tick=False) as traveller:
        for key, path in TICKETS.items():
            tid = open_ticket(org, **words(key))
            tickets[key] = tid
            markers[key] = [*words(key).values(), str(tid)]
            holder = "CS"
            for step, code in enumerate(path):
                traveller.shift(timedelta(minutes=1))
                reason = f"zq{key}reason{step}"
                services.ticket_hand_off(
                    principal=org.agent(holder),
                    ticket_id=tid,
                    to_department=code,
                    reason=reason,
                )
                markers[key].append(reason)
                holder = code
            note = f"zq{key}note"
            principal = org.agent(holder)
            upload = attachments.store(
                f"zq{key}filecontent".encode(),
                filename=f"zq{key}file.txt",
                uploader=attachments.uploader_key(principal),
            )
            services.ticket_add_note(
                principal=principal, ticket_id=tid, body=note, attachments=[upload.id]
            )
            markers[key] += [note, upload.filename, f"zq{key}filecontent"]
            InboundEmail.objects.create(
                message_id=f"<zq{key}@example.com>",
                received_at=T0,
                sender=words(key)["customer_contact"],
                subject=words(key)["subject"],
                outcome=InboundEmail.Outcome.REPLIED,
                ticket_id=tid,
            )
        traveller.move_to(T0 + timedelta(minutes=90))
        sla_services.sla_sweep()  # a breach (and a notification) per ticket
        traveller.move_to(T0 + timedelta(hours=2))
        for key in ("fin", "risk"):  # late: met only under a 10h target
            body = f"zq{key}response"
            services.ticket_respond(
                principal=org.agent(key.upper()), ticket_id=tickets[key], body=body
            )
            markers[key].append(body)
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        for key, stint in (("fin", 0), ("logprod", 1)):  # finished stints
            tid = tickets[key]
            comment = f"zq{key}rating"
            services.ticket_rate_handoff(
                principal=services.principal_for_customer(
                    customer_ref=words(key)["customer_ref"]
                ),
                ticket_id=tid,
                handoff_id=Handoff.objects.filter(ticket_id=tid)
                .order_by("started_position")[stint]
                .id,
                score=1,
                comment=comment,
            )
            markers[key].append(comment)
    with time_machine.travel(T_END, tick=False):
        catch_up(get_tickets_application(), projection_group("scorecards"))
        reports_generate(start=WEEK)
    return World(org=org, users=users, tickets=tickets, markers=markers)


@pytest.fixture
def world(db: None) -> Iterator[World]:
    built = build_world()
    with time_machine.travel(T_END, tick=False):
        yield built


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def may_view(model_admin: Any, user: User, obj: Any = None) -> bool:
    request = RequestFactory().get("/admin/")
    request.user = user
    return bool(model_admin.has_view_or_change_permission(request, obj))


def admin_url(model: type[Model], view: str, *args: Any) -> str:
    return reverse(
        f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args
    )


def ticket_of(label: str, obj: Any) -> UUID:
    return UUID(str(obj.pk if SCOPED[label] == "pk" else obj.ticket_id))


def missing_pk(model: type[Model]) -> Any:
    pk = model._meta.pk
    if pk.get_internal_type() == "UUIDField":
        return uuid4()
    if pk.get_internal_type() in ("CharField", "TextField"):
        return "no-such-row"
    return (
        model._default_manager.order_by("-pk").values_list("pk", flat=True).first() or 0
    ) + 1000


class Report:
    """Collects every broken promise of one model, so that a failure lists
    them all (role, URL, what went wrong)."""

    def __init__(self, world: World, role: str) -> None:
        self.world, self.role = world, role
        self.problems: list[str] = []

    def problem(self, url: str, text: str) -> None:
        self.problems.append(f"{self.role} {url}: {text}")

    def check(
        self, url: str, response: Any, *, allowed: set[int], except_: str = ""
    ) -> str:
        body = str(response.content.decode(errors="replace"))
        if response.status_code not in allowed:
            self.problem(url, f"status {response.status_code}, expected {allowed}")
        for word in self.world.hidden_words(self.role, except_=except_):
            # The address asked for may be echoed back: it tells nothing.
            if word in body and word not in url:
                self.problem(url, f"shows {word!r} of a ticket it may not see")
        return body


def shown_rows(response: Any) -> list[Any]:
    if response.status_code != 200 or response.context is None:
        return []
    changelist = response.context.get("cl")
    return list(changelist.result_list) if changelist is not None else []


# -- the matrix ------------------------------------------------------------------


def test_every_registered_model_is_classified() -> None:
    """A new admin page must say whether it shows ticket data; if its rows
    name a ticket, its admin must apply the rule."""
    labels = set(registered())
    classified = set(SCOPED) | BY_DEPARTMENT | set(NO_TICKET_DATA)
    assert labels - classified == set(), "classify these models in this test"
    installed = {config.label for config in apps.get_app_configs()}
    stale = {
        label
        for label in classified - labels
        if label.split(".")[0] in installed  # optional apps may be absent
    }
    assert stale == set(), "these models are no longer registered"
    for label, (model, model_admin) in registered().items():
        names_ticket = selectors.ticket_lookup(model) is not None
        assert names_ticket == (label in SCOPED), label
        if label in SCOPED:
            assert isinstance(model_admin, TicketDataAdmin), label
    assert unscoped_ticket_admins([admin.site]) == []


def _matrix_params() -> list[Any]:
    # Other projects' admins (django-q2, django-axes) paginate unordered
    # querysets; Django warns, which the suite turns into errors.
    unordered = pytest.mark.filterwarnings(
        "ignore::django.core.paginator.UnorderedObjectListWarning"
    )
    return [
        pytest.param(
            label,
            marks=[] if label.split(".")[0] in OURS else [unordered],
        )
        for label in sorted(registered())
    ]


OURS = {"tickets", "sla", "departments"}


@pytest.mark.parametrize("label", _matrix_params())
def test_every_admin_page_shows_only_visible_tickets(world: World, label: str) -> None:
    model, model_admin = registered()[label]
    problems: list[str] = []
    for role in ROLES:
        report = Report(world, role)
        client = login(world.users[role])
        if label in SCOPED:
            _scoped_pages(report, client, label, model, model_admin)
        else:
            _other_pages(report, client, label, model, model_admin)
        _autocomplete(report, client, model, model_admin)
        _extra_views(report, client, model_admin)
        problems += report.problems
    assert problems == [], "\n".join(problems)


def _scoped_pages(
    report: Report, client: Client, label: str, model: type[Model], model_admin: Any
) -> None:
    world, role = report.world, report.role
    user = world.users[role]
    rows = list(model_admin.model._default_manager.all())
    if label == "tickets.queueticket":
        rows = [r for r in rows if r.status in ("open", "waiting")]
    # Rows of every ticket, so that each role has rows to see and to miss.
    assert {world.key_of(ticket_of(label, r)) for r in rows} == EVERY, label
    visible = [r for r in rows if world.key_of(ticket_of(label, r)) in VISIBLE[role]]
    hidden = [r for r in rows if r not in visible]
    viewer = may_view(model_admin, user)
    changelist = admin_url(model, "changelist")

    def listed(url: str, response: Any, *, every: bool) -> None:
        shown = {r.pk for r in shown_rows(response)}
        expected = {r.pk for r in visible}
        if not shown <= expected:
            report.problem(url, f"lists rows of invisible tickets: {shown - expected}")
        if every and label not in PARTIAL_LISTS and shown != expected:
            report.problem(url, f"lists {len(shown)} rows, expected {len(expected)}")

    response = client.get(changelist)
    report.check(changelist, response, allowed={200} if viewer else {403})
    if viewer:
        listed(changelist, response, every=True)
        # Searched for another ticket's reference: nothing of it is found.
        for key in EVERY - VISIBLE[role]:
            term = words(key)["customer_ref"]
            url = f"{changelist}?{urlencode({'q': term})}"
            searched = client.get(url)
            report.check(url, searched, allowed={200}, except_=term)
            listed(url, searched, every=False)
        # Each list filter's first choice, with facet counts.
        filters = response.context["cl"].filter_specs
        for spec in filters:
            choices = [
                c for c in spec.choices(response.context["cl"]) if not c["selected"]
            ]
            if not choices:
                continue
            url = f"{changelist}{choices[0]['query_string']}&_facets=True"
            filtered = client.get(url)
            report.check(url, filtered, allowed={200})
            listed(url, filtered, every=False)
        if model_admin.date_hierarchy:
            url = f"{changelist}?{model_admin.date_hierarchy}__year={T0.year}"
            dated = client.get(url)
            report.check(url, dated, allowed={200})
            listed(url, dated, every=True)
    # A row of an invisible ticket answers as a missing row does: 404.
    missing = quote(str(missing_pk(model)))
    for row in hidden[:1]:
        for view in ("change", "history", "delete"):
            url = admin_url(model, view, quote(str(row.pk)))
            absent = client.get(admin_url(model, view, missing)).status_code
            report.check(url, client.get(url), allowed={absent})
            if viewer and absent != 404:
                report.problem(url, f"a missing row answers {absent}, not 404")
    # A row of a visible ticket opens for those who may view the model.
    for row in visible[:1]:
        url = admin_url(model, "change", quote(str(row.pk)))
        page = client.get(url)
        body = report.check(url, page, allowed={200} if viewer else {403})
        key = world.key_of(ticket_of(label, row))
        if viewer and not (
            words(key)["subject"] in body or str(world.tickets[key]) in body
        ):
            report.problem(url, "does not show its own ticket")


def _other_pages(
    report: Report, client: Client, label: str, model: type[Model], model_admin: Any
) -> None:
    world, role = report.world, report.role
    user = world.users[role]
    viewer = may_view(model_admin, user)
    changelist = admin_url(model, "changelist")
    response = client.get(changelist)
    report.check(changelist, response, allowed={200} if viewer else {403})
    if label in BY_DEPARTMENT and viewer:
        allowed = SCORECARDS[role]
        shown = {r.department for r in shown_rows(response)}
        if allowed is not None and not shown <= allowed:
            report.problem(changelist, f"lists departments {shown - allowed}")
        if allowed is None and "" not in shown and label == "sla.scorecardreport":
            report.problem(changelist, "does not list the service team's summary")
        if not shown and allowed != set():
            report.problem(changelist, "lists nothing")
    if viewer:
        for key in EVERY - VISIBLE[role]:
            term = words(key)["customer_ref"]
            url = f"{changelist}?{urlencode({'q': term})}"
            report.check(url, client.get(url), allowed={200}, except_=term)
    rows = list(model._default_manager.all())
    if label in BY_DEPARTMENT:  # one row of each department
        rows = list({row.department: row for row in rows}.values())
    for row in rows[:6]:
        for view in ("change", "history"):
            url = admin_url(model, view, quote(str(row.pk)))
            page = client.get(url)
            if label in BY_DEPARTMENT:
                allowed = SCORECARDS[role]
                mine = allowed is None or row.department in allowed
                expected = {200} if viewer and mine else {404} if viewer else {403, 404}
            else:
                expected = {200, 302, 403, 404}  # whatever the admin decides
            report.check(url, page, allowed=expected)


def _autocomplete(
    report: Report, client: Client, model: type[Model], model_admin: Any
) -> None:
    """Where a relation lets the admin search ``model`` (autocomplete)."""
    if not model_admin.search_fields:
        return
    sources = [
        f
        for m in apps.get_models()
        for f in m._meta.get_fields()
        if f.concrete and f.is_relation and f.related_model is model
    ]
    world, role = report.world, report.role
    viewer = may_view(model_admin, world.users[role])
    for source in sources[:1]:
        params = {
            "app_label": source.model._meta.app_label,
            "model_name": source.model._meta.model_name,
            "field_name": source.name,
        }
        terms = [""]
        if issubclass(model, TicketSummary):
            terms += [words(key)["subject"] for key in TICKETS]
        for term in terms:
            url = (
                f"{reverse('admin:autocomplete')}?{urlencode({**params, 'term': term})}"
            )
            response = client.get(url)
            report.check(
                url, response, allowed={200} if viewer else {403}, except_=term
            )
            if response.status_code != 200 or not issubclass(model, TicketSummary):
                continue
            found = {world.key_of(r["id"]) for r in response.json()["results"]}
            expected = VISIBLE[role] if not term else {SUBJECTS[term]} & VISIBLE[role]
            if found != expected:
                report.problem(url, f"finds {found}, expected {expected}")


def _extra_views(report: Report, client: Client, model_admin: Any) -> None:
    """Every view a model admin adds to Django's own: each must be known
    here, with the URLs to try."""
    standard = {"changelist", "add", "history", "delete", "change"}
    info = f"{model_admin.opts.app_label}_{model_admin.opts.model_name}"
    names = {
        p.name
        for p in model_admin.get_urls()
        if p.name and p.name.removeprefix(f"{info}_") not in standard
    }
    unknown = names - set(EXTRA_VIEWS)
    if unknown:
        report.problem(info, f"extra views not covered by this test: {unknown}")
    for name in sorted(names & set(EXTRA_VIEWS)):
        EXTRA_VIEWS[name](report, client)


def _open_ticket_form(report: Report, client: Client) -> None:
    url = reverse("admin:tickets_queueticket_open")
    report.check(url, client.get(url), allowed={200, 403})


def _whatif(report: Report, client: Client) -> None:
    for code in CODES:
        query = {
            "department": code,
            "period": "week",
            "start": WEEK.isoformat(),
            "response_normal": "10h",  # every stored breach would be met
        }
        url = f"{reverse('admin:sla_whatif')}?{urlencode(query)}"
        report.check(url, client.get(url), allowed={200, 403})


def _scorecard_figures(report: Report, client: Client) -> None:
    world, role = report.world, report.role
    allowed = SCORECARDS[role]
    viewer = bool(world.users[role].has_perm("sla.view_scorecard"))
    for row in Scorecard.objects.filter(scenario="*", period="week", start=WEEK):
        url = reverse("admin:sla_scorecard_figure", args=[quote(row.pk), "received"])
        mine = allowed is None or row.department in allowed
        page = client.get(url)
        report.check(
            url, page, allowed={200} if viewer and mine else {404} if viewer else {403}
        )
        if page.status_code == 200:
            keys = {world.key_of(r["fact"].ticket_id) for r in page.context["rows"]}
            if not keys <= VISIBLE[role]:
                report.problem(url, f"lists tickets {keys - VISIBLE[role]}")


def _report_downloads(view: str) -> Callable[[Report, Client], None]:
    def check(report: Report, client: Client) -> None:
        world, role = report.world, report.role
        allowed = SCORECARDS[role]
        viewer = bool(world.users[role].has_perm("sla.view_scorecardreport"))
        for row in ScorecardReport.objects.all():
            url = reverse(f"admin:sla_scorecardreport_{view}", args=[row.pk])
            mine = allowed is None or (
                row.department != "" and row.department in allowed
            )
            expected = {200} if viewer and mine else {404} if viewer else {403}
            report.check(url, client.get(url), allowed=expected)

    return check


def _attachment_downloads(report: Report, client: Client) -> None:
    """Each ticket's (internal) file: served to those who see the ticket,
    else 404 (as a missing file) or 403 (no queue access)."""
    for key, tid in report.world.tickets.items():
        for row in Attachment.objects.filter(ticket_id=tid):
            url = reverse("admin:tickets_queueticket_attachment", args=[tid, row.id])
            response = client.get(url)
            if key not in VISIBLE[report.role]:
                report.check(url, response, allowed={403, 404})
            elif response.status_code != 200:
                report.problem(url, f"status {response.status_code}, expected 200")
            elif b"".join(response.streaming_content) != f"zq{key}filecontent".encode():
                report.problem(url, "serves another file")


PROBLEMS = {"start": WEEK.isoformat(), "scenario": "REFUND", "root_cause": "other"}


def _problems(view: str) -> Callable[[Report, Client], None]:
    def check(report: Report, client: Client) -> None:  # who sees every ticket
        url = f"{reverse(f'admin:sla_problemlink_{view}')}?{urlencode(PROBLEMS)}"
        ok = report.role in ("superuser", "cs_lead")
        report.check(url, client.get(url), allowed={200} if ok else {403})

    return check


def _password_change(report: Report, client: Client) -> None:
    user = report.world.users["fin_agent"]
    url = reverse("admin:auth_user_password_change", args=[user.pk])
    report.check(url, client.get(url), allowed={200, 403})


EXTRA_VIEWS: dict[str, Callable[[Report, Client], None]] = {
    "auth_user_password_change": _password_change,
    "tickets_queueticket_open": _open_ticket_form,
    "tickets_queueticket_attachment": _attachment_downloads,
    "sla_problemlink_problems": _problems("problems"),
    "sla_problemlink_problems_csv": _problems("problems_csv"),
    "sla_problemlink_problem": _problems("problem"),
    "sla_whatif": _whatif,
    "sla_scorecard_figure": _scorecard_figures,
    "sla_scorecardreport_report": _report_downloads("report"),
    "sla_scorecardreport_csv": _report_downloads("csv"),
} | more.MORE_EXTRA_VIEWS


# -- the rule's parts, one at a time -------------------------------------------


def test_an_admin_showing_ticket_data_without_the_rule_fails_the_system_check() -> None:
    site = admin.AdminSite(name="unscoped")

    class Timeline(admin.TabularInline[Any, Any]):
        model = TimelineEntry

    class Summaries(TicketDataAdmin):
        inlines = [Timeline]

    site.register(Handoff, admin.ModelAdmin)
    site.register(TicketSummary, Summaries)
    try:
        found = sorted((e.id, e.obj) for e in unscoped_ticket_admins([site]))
        assert found == [
            ("tickets.E001", admin.ModelAdmin),
            ("tickets.E002", Timeline),
        ]
        # Django's check framework runs it over every admin site.
        ran = {e.id for e in checks.run_checks(tags=[checks.Tags.admin])}
        assert {"tickets.E001", "tickets.E002"} <= ran
    finally:
        # Sites live until collected: leave nothing for later checks to find.
        site._registry.clear()


def _request(user: User) -> Any:
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def test_list_filters_on_a_ticket_offer_only_visible_tickets(org: Org) -> None:
    finance = set()
    for n in (1, 2):
        tid = open_ticket(org, subject=f"zqfinance{n}", customer_ref=f"ZQFINANCE{n}")
        services.ticket_hand_off(
            principal=org.agent("CS"), ticket_id=tid, to_department="FIN", reason="r"
        )
        finance.add(tid)
    open_ticket(org, subject="zqhidden", customer_ref="ZQHIDDEN")
    site = admin.AdminSite(name="filters")

    class HandoffsByTicket(ReadOnlyTicketDataAdmin):
        list_filter = [
            "ticket",
            "ticket__subject",
            ("ticket__customer_ref", dj_admin_filters.AllValuesFieldListFilter),
            ("ticket", dj_admin_filters.RelatedFieldListFilter),
        ]

    site.register(Handoff, HandoffsByTicket)
    changelist = site._registry[Handoff].get_changelist_instance(
        _request(org.agents["FIN"])
    )
    offered = [
        str(choice["display"])
        for spec in changelist.filter_specs
        for choice in spec.choices(changelist)
    ]
    assert len(changelist.filter_specs) == 4
    assert "zqhidden" not in offered and "ZQHIDDEN" not in offered
    assert offered.count("zqfinance1") == 3 and "ZQFINANCE1" in offered
    assert {h.ticket_id for h in changelist.result_list} == finance


def test_a_form_field_choosing_a_ticket_offers_only_visible_tickets(
    org: Org,
) -> None:
    finance = open_ticket(org)
    services.ticket_hand_off(
        principal=org.agent("CS"), ticket_id=finance, to_department="FIN", reason="r"
    )
    open_ticket(org)
    model_admin = ReadOnlyTicketDataAdmin(TimelineEntry, admin.AdminSite("forms"))
    formfield = model_admin.formfield_for_foreignkey(
        TimelineEntry._meta.get_field("ticket"), _request(org.agents["FIN"])
    )
    assert [t.pk for t in formfield.queryset] == [finance]


def test_the_what_if_page_lists_only_visible_tickets(world: World) -> None:
    """The simulation counts every clock of the department; it lists only the
    handoffs of tickets the viewer may see."""
    lead = world.users["fin_lead"]
    lead.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="sla", codename="view_slapolicyversion"
        )
    )
    client = login(User.objects.get(pk=lead.pk))
    query = {"period": "week", "start": WEEK.isoformat(), "response_normal": "10h"}
    url = reverse("admin:sla_whatif")
    own = client.get(url, {**query, "department": "FIN"})
    assert own.status_code == 200
    assert str(world.tickets["fin"]) in own.content.decode()
    other = client.get(url, {**query, "department": "RISK"})
    assert other.status_code == 200
    body = other.content.decode()
    assert [c.ticket_id for c in other.context["simulation"].flips] == [
        world.tickets["risk"]
    ]
    assert str(world.tickets["risk"]) not in body
    assert "1 handoff whose verdict would change is on a ticket you cannot" in body
