"""SLA endpoints: clocks, and department scorecards with their
drill-down to the handoffs (and events) behind every figure."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any
from uuid import UUID

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sla.scorecards import (
    ALL_SCENARIOS,
    FIGURE_NAMES,
    PERIODS,
    deciding_position,
    figure_label,
)
from sla.selectors import (
    empty_figures,
    scorecard_adjustments,
    scorecard_drilldown,
    scorecard_period,
    scorecard_rows,
)
from tickets import routing
from tickets.api.serializers import (
    DEPARTMENT_CODE_PATTERN,
    ClockSerializer,
    problems,
)
from tickets.api.views import StrictLimitCursorPagination
from tickets.domain import TicketNotFound
from tickets.models import SLAClock
from tickets.selectors import require_visible, visible_clocks


class ClockPagination(StrictLimitCursorPagination):
    ordering = ("due_at", "id")
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200


class ClockFilterSerializer(serializers.Serializer[Any]):
    """Optional filters; an empty value is no filter."""

    department = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=16
    )
    state = serializers.ChoiceField(
        choices=SLAClock.State.values, required=False, default="", allow_blank=True
    )
    kind = serializers.ChoiceField(
        choices=SLAClock.Kind.values, required=False, default="", allow_blank=True
    )
    due_before = serializers.DateTimeField(required=False, default=None)


class ClockListApi(APIView):
    pagination_class = ClockPagination

    @extend_schema(
        operation_id="clocks_list",
        parameters=[ClockFilterSerializer],
        responses={200: ClockSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        params = ClockFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = params.validated_data
        queryset = visible_clocks(request.user)
        if filters["department"]:
            queryset = queryset.filter(department=filters["department"].upper())
        if filters["state"]:
            queryset = queryset.filter(state=filters["state"])
        if filters["kind"]:
            queryset = queryset.filter(kind=filters["kind"])
        if filters["due_before"] is not None:
            queryset = queryset.filter(due_at__lt=filters["due_before"])
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(ClockSerializer(page, many=True).data)


# ---------------------------------------------------------------------------
# Scorecards
# ---------------------------------------------------------------------------

SCORECARD_ERRORS = {
    400: problems("invalid_period_start"),
    403: problems("not_permitted"),
    404: problems("scorecard_not_found"),
}
#: The scorecard's address as the schema describes it; anything else is a
#: 404 (scorecard_not_found, or an address that matches nothing).
SCORECARD_ADDRESS = [
    OpenApiParameter(
        "department",
        {
            "type": "string",
            "pattern": DEPARTMENT_CODE_PATTERN,
        },
        OpenApiParameter.PATH,
        description="Department code, e.g. FIN (any case).",
    ),
    OpenApiParameter(
        "period", {"type": "string", "enum": list(PERIODS)}, OpenApiParameter.PATH
    ),
    OpenApiParameter(
        "start",
        {"type": "string", "format": "date"},
        OpenApiParameter.PATH,
        description="The period's first day in the department's timezone "
        "(a Monday for weeks, the 1st for months).",
    ),
]
FIGURE = OpenApiParameter(
    "figure", {"type": "string", "enum": list(FIGURE_NAMES)}, OpenApiParameter.PATH
)


class ScorecardScenarioSerializer(serializers.Serializer[Any]):
    scenario = serializers.CharField(help_text='"*" = all scenarios.')
    figures = serializers.DictField()
    raw_vs_adjusted = serializers.DictField()


class AdjustmentSerializer(serializers.Serializer[Any]):
    handoff_id = serializers.UUIDField()
    ticket_id = serializers.UUIDField()
    scenario = serializers.CharField()
    subject = serializers.ChoiceField(choices=["breach", "rating"])
    state = serializers.ChoiceField(choices=["open", "accepted", "waived"])
    reason = serializers.CharField(help_text="Why it was disputed.")
    decision_reason = serializers.CharField(help_text="Why it was accepted or waived.")
    position = serializers.IntegerField(help_text="The latest dispute event.")
    score = serializers.IntegerField(allow_null=True)


class ScorecardSerializer(serializers.Serializer[Any]):
    department = serializers.CharField()
    department_name = serializers.CharField()
    timezone = serializers.CharField()
    period = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField(help_text="Exclusive.")
    scenarios = ScorecardScenarioSerializer(many=True)
    adjustments = AdjustmentSerializer(many=True)
    figures = serializers.DictField(help_text="Label of every figure.")


class DrilldownQuerySerializer(serializers.Serializer[Any]):
    scenario = serializers.RegexField(
        r"^(\*|[A-Z0-9][A-Z0-9_.-]{0,63})?$",
        required=False,
        default="*",
        allow_blank=True,
        help_text='"*" (default): all scenarios; empty: tickets without one.',
    )
    offset = serializers.IntegerField(required=False, default=0, min_value=0)
    limit = serializers.IntegerField(
        required=False, default=1000, min_value=1, max_value=10_000
    )


class DrilldownHandoffSerializer(serializers.Serializer[Any]):
    """The shape of a drill-down row (the schema); rows are built by
    :func:`drilldown_row`."""

    handoff_id = serializers.UUIDField(source="id")
    ticket_id = serializers.UUIDField()
    kind = serializers.CharField()
    scenario = serializers.CharField()
    from_department = serializers.CharField()
    received_at = serializers.DateTimeField()
    deciding_position = serializers.IntegerField(
        allow_null=True,
        help_text="Log position of the event that put this handoff in the figure.",
    )
    positions = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Log positions of every event that decided a fact about it.",
    )
    verdict = serializers.CharField()
    response_seconds = serializers.FloatField(allow_null=True)
    ended_how = serializers.CharField()
    root_cause = serializers.CharField()
    rating_score = serializers.IntegerField(allow_null=True)
    rating_comment = serializers.CharField()
    breach_dispute = serializers.CharField()
    rating_dispute = serializers.CharField()


POSITIONS = (
    "received",
    "responded",
    "response_seconds",
    "verdict",
    "ended",
    "bounced",
    "ping_pong",
    "stalled",
    "abandoned",
    "reopened",
    "rating",
    "breach_dispute",
    "rating_dispute",
)


def _positions(fact: Any) -> dict[str, int]:
    found = {n: getattr(fact, f"{n}_position") for n in POSITIONS}
    return {n: p for n, p in found.items() if p is not None}


def drilldown_row(fact: Any, figure: str) -> dict[str, Any]:
    """What DrilldownHandoffSerializer describes, built directly: a busy
    month's drill-down lists thousands of rows."""
    return {
        "handoff_id": str(fact.id),
        "ticket_id": str(fact.ticket_id),
        "kind": fact.kind,
        "scenario": fact.scenario,
        "from_department": fact.from_department,
        "received_at": fact.received_at.isoformat().replace("+00:00", "Z"),
        "deciding_position": deciding_position(figure, fact),
        "positions": _positions(fact),
        "verdict": fact.verdict,
        "response_seconds": fact.response_seconds,
        "ended_how": fact.ended_how,
        "root_cause": fact.root_cause,
        "rating_score": fact.rating_score,
        "rating_comment": fact.rating_comment,
        "breach_dispute": fact.breach_dispute,
        "rating_dispute": fact.rating_dispute,
    }


class DrilldownSerializer(serializers.Serializer[Any]):
    department = serializers.CharField()
    period = serializers.CharField()
    start = serializers.DateField()
    scenario = serializers.CharField()
    figure = serializers.CharField()
    figure_label = serializers.CharField()
    value = serializers.JSONField(allow_null=True)
    count = serializers.IntegerField(help_text="Handoffs behind the figure.")
    offset = serializers.IntegerField()
    handoffs = DrilldownHandoffSerializer(many=True)


def _figures_with_adjustments(figures: dict[str, Any]) -> dict[str, Any]:
    pairs = {}
    for name in figures:
        if name.endswith("_adjusted"):
            raw = name.removesuffix("_adjusted")
            if raw in figures:
                pairs[raw] = {"raw": figures[raw], "adjusted": figures[name]}
    return pairs


class ScorecardApi(APIView):
    """A department's scorecard for one day, ISO week or month (in its own
    timezone): all scenarios together (scenario "*") and each scenario,
    raw and adjusted figures side by side, and the dispute trail."""

    @extend_schema(
        operation_id="scorecards_retrieve",
        parameters=SCORECARD_ADDRESS,
        responses={200: ScorecardSerializer, **SCORECARD_ERRORS},
    )
    def get(
        self, request: Request, department: str, period: str, start: date
    ) -> Response:
        address = scorecard_period(request.user, department, period, start)
        rows = scorecard_rows(address)
        scenarios = [(row.scenario, row.figures) for row in rows] or [
            (ALL_SCENARIOS, empty_figures())
        ]
        return Response(
            {
                "department": address.department.code,
                "department_name": address.department.name,
                "timezone": address.department.timezone,
                "period": address.period,
                "start": address.start,
                "end": address.end,
                "scenarios": [
                    {
                        "scenario": scenario,
                        "figures": figures,
                        "raw_vs_adjusted": _figures_with_adjustments(figures),
                    }
                    for scenario, figures in scenarios
                ],
                "adjustments": AdjustmentSerializer(
                    scorecard_adjustments(address), many=True
                ).data,
                "figures": {name: figure_label(name) for name in FIGURE_NAMES},
            }
        )


class ScorecardDrilldownApi(APIView):
    """The handoffs behind one figure, with their ticket ids and the log
    positions of the events that decided them. For a count figure the
    number of handoffs equals the figure; for a rate, average or
    percentile, they are the handoffs it is computed over."""

    @extend_schema(
        operation_id="scorecards_figure_handoffs",
        parameters=[*SCORECARD_ADDRESS, FIGURE, DrilldownQuerySerializer],
        responses={200: DrilldownSerializer, **SCORECARD_ERRORS},
    )
    def get(
        self, request: Request, department: str, period: str, start: date, figure: str
    ) -> Response:
        params = DrilldownQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = params.validated_data
        address = scorecard_period(request.user, department, period, start)
        value, count, page = scorecard_drilldown(
            address,
            figure,
            query["scenario"],
            offset=query["offset"],
            limit=query["limit"],
        )
        return Response(
            {
                "department": address.department.code,
                "period": address.period,
                "start": address.start,
                "scenario": query["scenario"],
                "figure": figure,
                "figure_label": figure_label(figure),
                "value": value,
                "count": count,
                "offset": query["offset"],
                "handoffs": [drilldown_row(fact, figure) for fact in page],
            }
        )


# -- routing suggestions ------------------------------------------------------


class RoutingAgentSerializer(serializers.Serializer[Any]):
    agent_id = serializers.CharField()
    name = serializers.CharField()
    score = serializers.FloatField()
    open_assignments = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())


class RoutingDepartmentSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()
    score = serializers.FloatField(
        help_text="Higher is better; compare within one answer."
    )
    usual_owner = serializers.BooleanField(
        help_text="The scenario catalogue names it the scenario's usual owner."
    )
    reasons = serializers.ListField(child=serializers.CharField())
    figures = serializers.DictField(
        help_text="The numbers behind the score: fit, success, met and rating "
        "terms (0-1), load_penalty, scenario_stints, open_tickets, members..."
    )
    agents = RoutingAgentSerializer(
        many=True, help_text="Its members ranked for the ticket (top department only)."
    )


class RoutingSerializer(serializers.Serializer[Any]):
    ticket_id = serializers.UUIDField()
    scenario = serializers.CharField(allow_blank=True)
    owner = serializers.CharField()
    basis = serializers.ChoiceField(
        choices=["history", "thin_history", "cold_start", "usual_owner", "not_open"]
    )
    note = serializers.CharField()
    departments = RoutingDepartmentSerializer(many=True)
    assignees = RoutingAgentSerializer(
        many=True, help_text="Members of the owning department ranked for assigning."
    )


class TicketRoutingApi(APIView):
    """Where the ticket should go next and who should take it: departments
    ranked from the scorecard history (with reasons in plain words and the
    numbers behind them), the top department's agents, and the owning
    department's members for assigning. Advice only: no command requires
    following it; each handoff records what was suggested."""

    @extend_schema(
        operation_id="tickets_routing",
        responses={200: RoutingSerializer, 404: problems("ticket_not_found")},
    )
    def get(self, request: Request, ticket_id: UUID) -> Response:
        pk = require_visible(request.user, ticket_id)
        found = routing.suggest(pk)
        if found is None:
            raise TicketNotFound(f"No routing for ticket {ticket_id}.")
        return Response(RoutingSerializer(asdict(found)).data)
