"""Ticket endpoints. Views are thin: validate the shape, call one service
or selector, render. Every POST honours ``Idempotency-Key``; commands
honour ``If-Match`` (the ticket version from the ``ETag``)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any
from uuid import UUID

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tickets import selectors, services
from tickets.api import serializers as s
from tickets.api.idempotency import idempotent
from tickets.application import CommandResult, get_tickets_application
from tickets.customer import (
    customer_link_path,
    customer_view,
)
from tickets.domain import Principal, Ticket, TicketNotFound
from tickets.event_format import event_dict
from tickets.models import ApiToken, TimelineEntry

ERRORS = dict.fromkeys((400, 401, 403, 404, 409, 412, 422, 429), s.ProblemSerializer)
ACCEPTED = {202: s.CommandAcceptedSerializer}
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='The ticket version from the ETag, e.g. "7"; 412 if it changed.',
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Retries with the same key and body return the first response.",
)
TYPE_NAMES = {
    name
    for name, value in vars(Ticket).items()
    if isinstance(value, type)
    and hasattr(value, "TOPIC")
    and name not in ("Event", "Created")
}


def api_principal(request: Request) -> Principal:
    """The acting principal: an integration token acts as its user but is
    recorded as the integration."""
    if isinstance(request.auth, ApiToken):
        token = request.auth
        base = services.principal_for_user(token.user)
        return dataclasses.replace(
            base,
            kind="integration",
            id=f"token:{token.pk}",
            name=f"{token.name} (as {token.user.get_username()})",
        )
    return services.principal_for_user(request.user)


def expected_version(request: Request) -> int | None:
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    match = re.fullmatch(r'\s*(?:W/)?"(\d{1,9})"\s*', raw)
    if match is None:
        raise ValidationError({"If-Match": ['Use the ETag value, e.g. "7".']})
    return int(match.group(1))


def ticket_response(user: Any, ticket_id: UUID, *, status: int = 200) -> Response:
    ticket = selectors.ticket_get(user, ticket_id)
    data = s.TicketDetailSerializer(ticket).data
    return Response(data, status=status, headers={"ETag": f'"{ticket.version}"'})


def command_response(
    user: Any, result: CommandResult, *, status: int = 200, **extra: Any
) -> Response:
    """The fresh ticket after a stored command; if its read model has not
    caught up (the projector will), 202 with where to find it, never a 404
    for a write that happened."""
    location = f"/api/v1/tickets/{result.ticket_id}/"
    try:
        response = ticket_response(user, result.ticket_id, status=status)
    except TicketNotFound:
        response = Response(
            {
                "id": result.ticket_id,
                "version": result.version,
                "position": result.position,
                "status": "accepted",
            },
            status=202,
            headers={"ETag": f'"{result.version}"'},
        )
    response.data.update(extra)
    response["Location"] = location
    return response


class BaseApi(APIView):
    def idempotent_post(
        self, request: Request, handler: Callable[[Request], Response]
    ) -> Response:
        return idempotent(handler, request, self.handle_exception)


class TicketPagination(CursorPagination):
    ordering = ("-opened_at", "-ticket_id")
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200


class TicketListFilterSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(
        choices=["open", "waiting", "resolved", "closed"], required=False, default=""
    )
    department = serializers.CharField(required=False, default="", max_length=16)
    priority = serializers.ChoiceField(
        choices=["low", "normal", "high", "urgent"], required=False, default=""
    )
    scenario = serializers.CharField(required=False, default="", max_length=64)
    channel = serializers.CharField(required=False, default="", max_length=16)
    customer_ref = serializers.CharField(required=False, default="", max_length=200)
    external_ref = serializers.CharField(required=False, default="", max_length=128)
    breached = serializers.BooleanField(required=False, allow_null=True, default=None)
    at_risk = serializers.BooleanField(required=False, allow_null=True, default=None)
    updated_since = serializers.DateTimeField(
        required=False, allow_null=True, default=None
    )


class TicketListCreateApi(BaseApi):
    pagination_class = TicketPagination

    @extend_schema(
        operation_id="tickets_list",
        parameters=[TicketListFilterSerializer],
        responses={200: s.TicketSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        params = TicketListFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = selectors.TicketFilters(**params.validated_data)
        queryset = selectors.ticket_list(request.user, filters)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(
            s.TicketSerializer(page, many=True).data
        )

    @extend_schema(
        operation_id="tickets_open",
        request=s.TicketOpenInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: s.TicketOpenedSerializer, **ACCEPTED, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        def handler(request: Request) -> Response:
            data = s.TicketOpenInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            result = services.ticket_open(
                principal=api_principal(request), **data.validated_data
            )
            link = customer_link_path(result.detail["customer_token"])
            return command_response(
                request.user,
                result,
                status=201,
                customer_link=request.build_absolute_uri(link),
            )

        return self.idempotent_post(request, handler)


class TicketDetailApi(BaseApi):
    @extend_schema(
        operation_id="tickets_retrieve",
        responses={200: s.TicketDetailSerializer, **ERRORS},
    )
    def get(self, request: Request, ticket_id: UUID) -> Response:
        return ticket_response(request.user, ticket_id)


class TicketCommandApi(BaseApi):
    """POST a command to one ticket; answers with the fresh ticket."""

    input_serializer: type[serializers.Serializer[Any]] = s.EmptyInputSerializer
    #: Name under which the command's result detail (e.g. the new dispute's
    #: id) is added to the response, if any.
    detail_name: str = ""

    def run(
        self,
        principal: Principal,
        ticket_id: UUID,
        data: dict[str, Any],
        version: int | None,
    ) -> CommandResult:
        raise NotImplementedError

    def post(self, request: Request, ticket_id: UUID) -> Response:
        def handler(request: Request) -> Response:
            selectors.ticket_get(request.user, ticket_id)  # 404 unless visible
            data = self.input_serializer(data=request.data)
            data.is_valid(raise_exception=True)
            result = self.run(
                api_principal(request),
                ticket_id,
                dict(data.validated_data),
                expected_version(request),
            )
            extra: dict[str, Any] = (
                {self.detail_name: str(result.detail)} if self.detail_name else {}
            )
            return command_response(request.user, result, **extra)

        return self.idempotent_post(request, handler)


def command(
    name: str,
    input_serializer: type[serializers.Serializer[Any]],
    run: Callable[[Principal, UUID, dict[str, Any], int | None], CommandResult],
    summary: str,
    detail_name: str = "",
) -> type[TicketCommandApi]:
    """Build one command endpoint (each gets its own schema operation)."""

    class Api(TicketCommandApi):
        pass

    def post(self: TicketCommandApi, request: Request, ticket_id: UUID) -> Response:
        return TicketCommandApi.post(self, request, ticket_id)

    Api.input_serializer = input_serializer
    Api.detail_name = detail_name
    Api.run = lambda self, principal, ticket_id, data, version: run(  # type: ignore[method-assign]
        principal, ticket_id, data, version
    )
    Api.post = extend_schema(  # type: ignore[method-assign]
        operation_id=f"tickets_{name}",
        summary=summary,
        request=input_serializer,
        parameters=[IF_MATCH, IDEMPOTENCY_KEY],
        responses={200: s.TicketDetailSerializer, **ACCEPTED, **ERRORS},
    )(post)
    Api.__name__ = Api.__qualname__ = (
        "Ticket" + "".join(part.title() for part in name.split("_")) + "Api"
    )
    return Api


TicketHandOffApi = command(
    "hand_off",
    s.HandOffInputSerializer,
    lambda p, t, d, v: services.ticket_hand_off(
        principal=p, ticket_id=t, expected_version=v, **d
    ),
    "Hand the ticket to another department (starts its response clock)",
)
TicketRespondApi = command(
    "respond",
    s.BodyInputSerializer,
    lambda p, t, d, v: services.ticket_respond(
        principal=p, ticket_id=t, expected_version=v, **d
    ),
    "Reply publicly to the customer (owner only)",
)
TicketAddNoteApi = command(
    "add_note",
    s.BodyInputSerializer,
    lambda p, t, d, v: services.ticket_add_note(
        principal=p, ticket_id=t, expected_version=v, **d
    ),
    "Add an internal note (never shown to customers)",
)
TicketCustomerReplyApi = command(
    "customer_reply",
    s.BodyInputSerializer,
    lambda p, t, d, v: services.ticket_record_customer_reply(
        principal=p, ticket_id=t, expected_version=v, **d
    ),
    "Record the customer's message (ends waiting, resumes clocks)",
)
TicketWaitApi = command(
    "wait",
    s.ReasonInputSerializer,
    lambda p, t, d, v: services.ticket_wait_on_customer(
        principal=p, ticket_id=t, expected_version=v, **d
    ),
    "Start waiting on the customer (pauses clocks)",
)
TicketEndWaitingApi = command(
    "end_waiting",
    s.EmptyInputSerializer,
    lambda p, t, d, v: services.ticket_end_waiting(
        principal=p, ticket_id=t, expected_version=v
    ),
    "Stop waiting on the customer (resumes clocks)",
)
TicketResolveApi = command(
    "resolve",
    s.ResolveInputSerializer,
    lambda p, t, d, v: services.ticket_resolve(
        principal=p, ticket_id=t, expected_version=v, **d
    ),
    "Resolve the ticket with a root cause",
)
TicketReopenApi = command(
    "reopen",
    s.ReasonInputSerializer,
    lambda p, t, d, v: services.ticket_reopen(
        principal=p, ticket_id=t, expected_version=v, **d
    ),
    "Reopen a resolved ticket (reason required)",
)
TicketCloseApi = command(
    "close",
    s.EmptyInputSerializer,
    lambda p, t, d, v: services.ticket_close(
        principal=p, ticket_id=t, expected_version=v
    ),
    "Close a resolved ticket for good",
)
TicketAssignApi = command(
    "assign",
    s.AssignInputSerializer,
    lambda p, t, d, v: services.ticket_assign(
        principal=p, ticket_id=t, expected_version=v, **d
    ),
    "Assign a member of the owning department",
)
TicketPriorityApi = command(
    "change_priority",
    s.PriorityInputSerializer,
    lambda p, t, d, v: services.ticket_change_priority(
        principal=p, ticket_id=t, expected_version=v, **d
    ),
    "Change the priority",
)
TicketScenarioApi = command(
    "change_scenario",
    s.ScenarioInputSerializer,
    lambda p, t, d, v: services.ticket_change_scenario(
        principal=p, ticket_id=t, expected_version=v, **d
    ),
    "Change the business scenario",
)


def _rate(p: Principal, t: UUID, d: dict[str, Any], v: int | None) -> CommandResult:
    if d["handoff_id"] is None:
        return services.ticket_rate_experience(
            principal=p,
            ticket_id=t,
            score=d["score"],
            comment=d["comment"],
            expected_version=v,
        )
    return services.ticket_rate_handoff(
        principal=p, ticket_id=t, expected_version=v, **d
    )


TicketRateApi = command(
    "rate",
    s.RatingInputSerializer,
    _rate,
    "Record the customer's rating of a finished handoff (or of the whole ticket)",
)


TicketDisputeApi = command(
    "dispute",
    s.DisputeInputSerializer,
    lambda p, t, d, v: services.ticket_dispute(
        principal=p, ticket_id=t, expected_version=v, **d
    ),
    "Dispute a handoff's breach or rating (the department judged or the front line)",
    detail_name="dispute_id",
)
TicketDisputeDecisionApi = command(
    "decide_dispute",
    s.DisputeDecisionInputSerializer,
    lambda p, t, d, v: services.ticket_dispute_decide(
        principal=p, ticket_id=t, expected_version=v, **d
    ),
    "Accept or waive a dispute (a front-line lead)",
)


class TicketTimelineApi(BaseApi):
    """Exactly what the customer sees (the same content as their page)."""

    @extend_schema(
        operation_id="tickets_timeline",
        responses={200: s.CustomerTimelineSerializer, **ERRORS},
    )
    def get(self, request: Request, ticket_id: UUID) -> Response:
        ticket = selectors.ticket_get(request.user, ticket_id)
        return Response(s.CustomerTimelineSerializer(customer_view(ticket)).data)


class TicketCustomerLinkApi(BaseApi):
    """Issue a new customer link (the previous one stops working), or
    revoke the current one."""

    @extend_schema(
        operation_id="tickets_customer_link_issue",
        request=s.CustomerLinkInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: s.CustomerLinkSerializer, **ERRORS},
    )
    def post(self, request: Request, ticket_id: UUID) -> Response:
        def handler(request: Request) -> Response:
            ticket = selectors.ticket_get(request.user, ticket_id)
            data = s.CustomerLinkInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            expires_at = data.validated_data["expires_at"]
            token = services.ticket_customer_link_issue(
                principal=api_principal(request),
                ticket_id=ticket.ticket_id,
                expires_at=expires_at,
            )
            link = request.build_absolute_uri(customer_link_path(token))
            return Response(
                {"customer_link": link, "expires_at": expires_at}, status=201
            )

        return self.idempotent_post(request, handler)

    @extend_schema(
        operation_id="tickets_customer_link_revoke", responses={204: None, **ERRORS}
    )
    def delete(self, request: Request, ticket_id: UUID) -> Response:
        ticket = selectors.ticket_get(request.user, ticket_id)
        services.ticket_customer_link_revoke(
            principal=api_principal(request), ticket_id=ticket.ticket_id
        )
        return Response(status=204)


class TicketEventsApi(BaseApi):
    @extend_schema(
        operation_id="tickets_events",
        responses={200: s.EventSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, ticket_id: UUID) -> Response:
        ticket = selectors.ticket_get(request.user, ticket_id)
        positions = dict(
            TimelineEntry.objects.filter(ticket_id=ticket.ticket_id).values_list(
                "version", "position"
            )
        )
        events = get_tickets_application().events.get(ticket.ticket_id)
        return Response(
            s.EventSerializer(
                [event_dict(e, positions.get(e.originator_version)) for e in events],
                many=True,
            ).data
        )


class EventLogQuerySerializer(serializers.Serializer[Any]):
    after = serializers.IntegerField(
        required=False, default=0, min_value=0, max_value=2**63 - 1
    )
    limit = serializers.IntegerField(
        required=False, default=100, min_value=1, max_value=1000
    )
    type = serializers.CharField(
        required=False,
        default="",
        help_text="Comma-separated event types, e.g. HandedOff.",
    )

    def validate_type(self, value: str) -> list[str]:
        names = [n.strip() for n in value.split(",") if n.strip()]
        unknown = sorted(set(names) - TYPE_NAMES)
        if unknown:
            raise serializers.ValidationError(
                f"Unknown event types: {', '.join(unknown)}."
            )
        return names


class EventLogApi(BaseApi):
    """The whole event log in order, for integrators that mirror Baton.
    Needs a superuser or a front-line lead (it shows every ticket)."""

    @extend_schema(
        operation_id="events_list",
        parameters=[EventLogQuerySerializer],
        responses={200: s.EventPageSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        if not selectors.sees_everything(request.user):
            raise PermissionDenied("The event log is for front-line leads and admins.")
        query = EventLogQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        after, limit = query.validated_data["after"], query.validated_data["limit"]
        topics = [getattr(Ticket, n).TOPIC for n in query.validated_data["type"]]
        app = get_tickets_application()
        notifications = app.recorder.select_notifications(
            start=after, limit=limit + 1, topics=topics, inclusive_of_start=False
        )
        page = notifications[:limit]
        events = [event_dict(app.mapper.to_domain_event(n), n.id) for n in page]
        return Response(
            s.EventPageSerializer(
                {
                    "events": events,
                    "next_after": page[-1].id if page else after,
                    "has_more": len(notifications) > limit,
                }
            ).data
        )
