"""The work queue's building blocks: the clock countdown, the queue's
filters and ordering, and the forms of the queue and ticket pages
(``tickets.admin.queue`` puts them together)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.db.models import (
    Case,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_lazy

from departments.models import Department
from departments.selectors import memberships_for_user, scenario_choices
from departments.timezones import timezone_choices
from tickets import clock, languages, selectors, sla_clocks
from tickets.domain import Channel, Priority
from tickets.durations import format_duration
from tickets.models import SLAClock
from tickets.sla_clocks import (
    business_seconds_left,
    clock_state_conditions,
    stalled_condition,
)

OPEN_STATUSES = ("open", "waiting")

#: How the vocabulary's values read on the admin pages (the values stay
#: English in events, the API and exports).
WORDS: dict[str, Any] = {
    "open": gettext_lazy("open"),
    "waiting": gettext_lazy("waiting on the customer"),
    "resolved": gettext_lazy("resolved"),
    "closed": gettext_lazy("closed"),
    "low": gettext_lazy("low"),
    "normal": gettext_lazy("normal"),
    "high": gettext_lazy("high"),
    "urgent": gettext_lazy("urgent"),
    "phone": gettext_lazy("phone"),
    "web": gettext_lazy("web"),
    "app": gettext_lazy("app"),
    "chat": gettext_lazy("chat"),
    "email": gettext_lazy("email"),
    "social": gettext_lazy("social media"),
    "other": gettext_lazy("other"),
    "response": gettext_lazy("response"),
    "resolution": gettext_lazy("resolution"),
}


def word(value: Any) -> str:
    """A vocabulary value (status, priority, channel, clock kind) as the
    active language reads it; unknown values as they are."""
    return str(WORDS.get(str(value), value))


def countdown(clock_row: SLAClock | None, now: datetime) -> tuple[str, str]:
    """(css class, text) for a response clock: on track, at risk,
    breached, paused (the state from ``tickets.sla_clocks``); the time is
    business time."""
    state = sla_clocks.state_of(clock_row, now)
    if clock_row is None or state == sla_clocks.NONE:
        return "none", gettext("no SLA")
    if state == sla_clocks.PAUSED:
        return "paused", gettext("paused: waiting on customer")
    if state == sla_clocks.ANSWERED:
        met = clock_row.state == SLAClock.State.MET
        texts = {
            ("handed_on", True): gettext("handed on in time"),
            ("handed_on", False): gettext("handed on late"),
            ("resolved", True): gettext("resolved in time"),
            ("resolved", False): gettext("resolved late"),
        }
        default = gettext("answered in time") if met else gettext("answered late")
        return ("met" if met else "breached"), texts.get(
            (clock_row.outcome, met), default
        )
    left = format_duration(abs(business_seconds_left(clock_row, now)))
    if state == sla_clocks.BREACHED:
        return "breached", gettext("overdue %(duration)s") % {"duration": left}
    if state == sla_clocks.AT_RISK:
        return "at-risk", gettext("%(duration)s left") % {"duration": left}
    return "on-track", gettext("%(duration)s left") % {"duration": left}


def switchable_departments(user: Any) -> list[Department]:
    """Departments whose queue the user may open: their own; every one for
    front-line leads and superusers."""
    if selectors.sees_everything(user):
        return list(Department.objects.active())
    return [m.department for m in memberships_for_user(user)]


# --- filters -----------------------------------------------------------------


class DepartmentQueueFilter(admin.SimpleListFilter):
    title = gettext_lazy("department")
    parameter_name = "dept"

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        # Filters are built per request: the default belongs here, not on
        # the ModelAdmin, which every request and thread shares.
        self.default_code = default_department(request.user)
        super().__init__(request, *args, **kwargs)

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(d.code, d.name) for d in switchable_departments(request.user)]

    def value(self) -> str | None:
        value = super().value()
        return str(value) if value else None

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        allowed = {code for code, _ in self.lookup_choices}
        code = self.value() or self.default_code
        if code not in allowed:
            return queryset.none()
        return queryset.filter(owner=code)

    def choices(self, changelist: Any) -> Any:
        current = self.value() or self.default_code
        for code, title in self.lookup_choices:
            yield {
                "selected": current == code,
                "query_string": changelist.get_query_string(
                    {self.parameter_name: code}
                ),
                "display": title,
            }


def default_department(user: Any) -> str | None:
    memberships = memberships_for_user(user)
    if memberships:
        return memberships[0].department.code
    departments = switchable_departments(user)
    return departments[0].code if departments else None


class ClockStateFilter(admin.SimpleListFilter):
    title = gettext_lazy("SLA")
    parameter_name = "sla"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("on_track", gettext("On track")),
            ("at_risk", gettext("At risk")),
            ("breached", gettext("Breached")),
            ("paused", gettext("Paused")),
            ("answered", gettext("Answered")),
            ("none", gettext("No SLA")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return filter_clock_state(queryset, self.value(), clock.now())


def filter_clock_state(
    queryset: QuerySet[Any], state: str | None, now: datetime
) -> QuerySet[Any]:
    conditions = clock_state_conditions(now, state="clock_state")
    return queryset.filter(conditions[state]) if state in conditions else queryset


class StalledFilter(admin.SimpleListFilter):
    """Open tickets whose current stint went quiet past its department's
    limit (``tickets.sla_clocks.stalled_condition``)."""

    title = gettext_lazy("stalled")
    parameter_name = "stalled"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", gettext("Stalled")), ("no", gettext("Not stalled"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(stalled_condition())
        if self.value() == "no":
            return queryset.exclude(stalled_condition())
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    title = gettext_lazy("assignee")
    parameter_name = "assignee"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("me", gettext("Me")), ("unassigned", gettext("Unassigned"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "me":
            return queryset.filter(assignee_id=str(request.user.pk))
        if self.value() == "unassigned":
            return queryset.filter(assignee_id="")
        return queryset


class WaitingFilter(admin.SimpleListFilter):
    title = gettext_lazy("waiting on customer")
    parameter_name = "waiting"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", gettext("Waiting")), ("no", gettext("Not waiting"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(status="waiting")
        if self.value() == "no":
            return queryset.filter(status="open")
        return queryset


# --- forms -------------------------------------------------------------------


class HandOffForm(forms.Form):
    to_department = forms.ChoiceField(label=gettext_lazy("Hand off to"))
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=True,
    )

    def __init__(
        self, *args: Any, owner: str, suggested: str = "", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        # ``suggested`` (routing's top department) is preselected and
        # marked, never forced: every other active department stays a choice.
        choices = [
            (d.code, d.name) for d in Department.objects.active().exclude(code=owner)
        ]
        self.fields["to_department"].choices = [  # type: ignore[attr-defined]
            (code, gettext("%(name)s (suggested)") % {"name": name})
            if code == suggested
            else (code, name)
            for code, name in choices
        ]
        if suggested in {code for code, _ in choices}:
            self.initial.setdefault("to_department", suggested)


class BulkHandOffForm(HandOffForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, owner="", **kwargs)


class OpenTicketForm(forms.Form):
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )
    customer_ref = forms.CharField(
        max_length=200, label=gettext_lazy("Customer reference")
    )
    customer_name = forms.CharField(
        label=gettext_lazy("Customer name"), max_length=200, required=False
    )
    customer_contact = forms.CharField(
        label=gettext_lazy("Customer contact (email or phone)"),
        max_length=200,
        required=False,
    )
    customer_timezone = forms.ChoiceField(
        label=gettext_lazy("Customer timezone"), choices=[], initial="UTC"
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"),
        choices=[(c.value, WORDS.get(c.value, c.value)) for c in Channel],
    )
    external_ref = forms.CharField(
        label=gettext_lazy("External reference"), max_length=128, required=False
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Customer's language"),
        choices=lambda: list(settings.LANGUAGES),
        initial=lambda: languages.default_language(),
        required=False,  # not given: the site's default
        help_text=gettext_lazy("Their page and emails use it."),
    )
    scenario = forms.ChoiceField(
        label=gettext_lazy("Scenario"), required=False, choices=[]
    )
    priority = forms.ChoiceField(
        label=gettext_lazy("Priority"),
        choices=[(p.value, WORDS.get(p.value, p.value)) for p in Priority],
        initial="normal",
    )

    def __init__(self, *args: Any, customer_timezone: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The catalogue's active scenarios (the service refuses others).
        self.fields["scenario"].choices = scenario_choices(  # type: ignore[attr-defined]
            blank=gettext("(none: triage later)")
        )
        self.fields["customer_timezone"].choices = timezone_choices()  # type: ignore[attr-defined]
        if customer_timezone:
            self.initial.setdefault("customer_timezone", customer_timezone)


def ticket_scenario_choices(current: str) -> list[tuple[str, str]]:
    """The change-scenario select: none, the active scenarios, and the
    ticket's own if it is no longer active (shown, refused if chosen)."""
    choices = scenario_choices(blank=gettext("(none)"))
    if current and current not in {code for code, _ in choices}:
        choices.insert(1, (current, gettext("%s (inactive)") % current))
    return choices


# --- the queue ----------------------------------------------------------------


def annotate_queue(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Add the current stint's response clock (due, warn, state) so the
    queue sorts and filters in one query."""
    current = SLAClock.objects.filter(
        ticket_id=OuterRef("pk"),
        handoff_id=OuterRef("current_stint_id"),
        kind=SLAClock.Kind.RESPONSE,
    )
    annotated: QuerySet[Any] = queryset.annotate(
        due_at=Subquery(current.values("due_at")[:1]),
        warn_at=Subquery(current.values("warn_at")[:1]),
        clock_state=Subquery(current.values("state")[:1]),
    )
    return annotated


def queue_ordering(now: datetime) -> list[Any]:
    """The queue's default order: overdue first, then at risk, on track,
    paused (waiting on the customer), answered, no SLA; within each, due
    soonest first, then the oldest. Uses :func:`annotate_queue`'s fields."""
    conditions = clock_state_conditions(now, state="clock_state")
    rank = Case(
        *(
            When(conditions[state], then=Value(position))
            for position, state in enumerate(
                (
                    sla_clocks.BREACHED,
                    sla_clocks.AT_RISK,
                    sla_clocks.ON_TRACK,
                    sla_clocks.PAUSED,
                    sla_clocks.ANSWERED,
                )
            )
        ),
        default=Value(9),
        output_field=IntegerField(),
    )
    return [rank.asc(), F("due_at").asc(nulls_last=True), "opened_at"]
