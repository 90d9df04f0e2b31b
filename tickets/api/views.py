"""Ticket endpoints. Views are thin: validate the shape, call one service
or selector, render. Every POST honours ``Idempotency-Key``; commands
honour ``If-Match`` (the ticket version from the ``ETag``)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any
from uuid import UUID

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from departments.selectors import remember_memberships
from tickets import selectors, services
from tickets.api import serializers as s
from tickets.api.idempotency import idempotent
from tickets.application import CommandResult, get_tickets_application
from tickets.commands import ATTACHMENT_REFUSALS, Command
from tickets.commands.inputs import TicketOpenInputSerializer
from tickets.customer import (
    customer_link_path,
    customer_view,
)
from tickets.domain import Principal, Priority, TicketNotFound
from tickets.event_format import (
    ACCEPTED_EVENT_NAMES,
    EVENT_TOPICS,
    event_dict,
    event_names,
)
from tickets.followups import follow_up_event_filter
from tickets.models import ApiToken, TimelineEntry

#: Responses declare the codes of the view's own rules; the schema hook
#: (config.openapi) adds what every operation of a kind can answer (401,
#: 404 for a malformed id, 429, body and header errors...).
TICKET_NOT_FOUND = {404: s.problems("ticket_not_found")}
#: What every ticket command can be refused with, besides its own rules.
COMMAND_ERRORS = {
    403: s.problems("not_owner", "not_permitted"),
    404: s.problems("ticket_not_found"),
    409: s.problems("version_conflict"),
    412: s.problems("version_mismatch"),
}
ACCEPTED = {202: s.CommandAcceptedSerializer}
#: ``If-Match``: the ETag (``"7"``, weak ``W/"7"``) or ``*``.
IF_MATCH_PATTERN = r'^\s*(?:\*|(?:W/)?"(\d{1,9})")\s*$'
IF_MATCH = OpenApiParameter(
    "If-Match",
    {"type": "string", "pattern": IF_MATCH_PATTERN, "example": '"3"'},
    OpenApiParameter.HEADER,
    description='The ticket version from the ETag, e.g. "7"; 412 if it changed.',
)
#: The limits tickets.api.idempotency enforces (400 invalid_idempotency_key).
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "pattern": r"\S",
        "example": "refund-4711",
    },
    OpenApiParameter.HEADER,
    description="Retries with the same key and body return the first response. "
    "1-255 characters, not only whitespace.",
)


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
    if raw is None:
        return None
    match = re.match(IF_MATCH_PATTERN, raw)
    if match is None:
        raise ValidationError({"If-Match": ['Use the ETag value, e.g. "7".']})
    return None if match.group(1) is None else int(match.group(1))


def ticket_response(user: Any, ticket_id: UUID, *, status: int = 200) -> Response:
    return _ticket_detail(selectors.ticket_get(user, ticket_id), status=status)


def _ticket_detail(ticket: Any, *, status: int = 200) -> Response:
    data = s.TicketDetailSerializer(ticket).data
    return Response(data, status=status, headers={"ETag": f'"{ticket.version}"'})


def command_response(
    user: Any, result: CommandResult, *, status: int = 200, **extra: Any
) -> Response:
    """The fresh ticket after a stored command; if its read model does not
    show the write yet (the projector will), 202 with where to find it:
    never a stale ticket, and never a 404 for a write that happened."""
    try:
        ticket = selectors.ticket_get(user, result.ticket_id)
    except TicketNotFound:
        ticket = None
    if ticket is not None and ticket.version >= result.version:
        response = _ticket_detail(ticket, status=status)
    else:
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
    response["Location"] = f"/api/v1/tickets/{result.ticket_id}/"
    return response


class BaseApi(APIView):
    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # One membership lookup per request: the principal and every
        # visibility check of the request read them from the user object.
        remember_memberships(request.user)

    def idempotent_post(
        self,
        request: Request,
        handler: Callable[[Request], Response],
        *,
        atomic: bool = False,
    ) -> Response:
        """Run ``handler`` once per ``Idempotency-Key``, after the body is
        parsed: a malformed body (config.parsers) is refused before
        anything, the idempotency record included, looks at it.
        ``atomic``: the handler writes only Django rows, which then commit
        with the kept response (see ``tickets.api.idempotency``)."""
        request.data  # noqa: B018 -- parsing raises ParseError / UnsupportedMediaType
        return idempotent(handler, request, self.handle_exception, atomic=atomic)


class StrictLimitCursorPagination(CursorPagination):
    """Cursor pages whose ``limit`` is refused (400) unless it is a whole
    number of at least 1, as the schema says; above the maximum it is the
    maximum, and empty it is the default."""

    page_size_query_param = "limit"

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get("limit", "")
        if raw and not (raw.isascii() and raw.isdigit() and int(raw) > 0):
            raise ValidationError({"limit": ["Use a whole number of at least 1."]})
        return int(super().get_page_size(request) or 0)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == "limit":
                parameter["schema"] = {"type": "integer", "minimum": 1}
                parameter["description"] += f" At most {self.max_page_size}."
        return parameters


class TicketPagination(StrictLimitCursorPagination):
    ordering = ("-opened_at", "-ticket_id")
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200


def _filter(
    field: Callable[..., serializers.Field[Any, Any, Any, Any]], **kwargs: Any
) -> Any:
    """An optional query filter; an empty value is no filter (as a form
    with an unselected choice sends it)."""
    return field(required=False, default="", allow_blank=True, **kwargs)


class TicketListFilterSerializer(serializers.Serializer[Any]):
    status = _filter(
        serializers.ChoiceField, choices=["open", "waiting", "resolved", "closed"]
    )
    department = _filter(serializers.CharField, max_length=16)
    priority = _filter(serializers.ChoiceField, choices=[p.value for p in Priority])
    scenario = _filter(serializers.CharField, max_length=64)
    channel = _filter(serializers.CharField, max_length=16)
    customer_ref = _filter(serializers.CharField, max_length=200)
    external_ref = _filter(serializers.CharField, max_length=128)
    breached = serializers.BooleanField(required=False, allow_null=True, default=None)
    at_risk = serializers.BooleanField(required=False, allow_null=True, default=None)
    updated_since = serializers.DateTimeField(required=False, default=None)


class TicketListCreateApi(BaseApi):
    pagination_class = TicketPagination

    @extend_schema(
        operation_id="tickets_list",
        parameters=[TicketListFilterSerializer],
        responses={200: s.TicketSerializer(many=True)},
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
        request=TicketOpenInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: s.TicketOpenedSerializer,
            **ACCEPTED,
            400: s.problems(
                "invalid_characters",
                "invalid_timezone",
                "unknown_department",
                "department_inactive",
                "front_line_ambiguous",
                "unknown_scenario",
                *ATTACHMENT_REFUSALS,
            ),
            403: s.problems("not_permitted"),
        },
    )
    def post(self, request: Request) -> Response:
        def handler(request: Request) -> Response:
            data = TicketOpenInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            with services.answering_early():
                result = services.ticket_open(
                    principal=api_principal(request), **data.validated_data
                )
            token = result.detail["customer_token"]
            if token is None:  # a replayed open: the link was shown once
                return command_response(
                    request.user,
                    result,
                    status=201,
                    customer_link=None,
                    customer_link_redacted=True,
                )
            return command_response(
                request.user,
                result,
                status=201,
                customer_link=request.build_absolute_uri(customer_link_path(token)),
            )

        return self.idempotent_post(request, handler)


class TicketDetailApi(BaseApi):
    @extend_schema(
        operation_id="tickets_retrieve",
        responses={200: s.TicketDetailSerializer, **TICKET_NOT_FOUND},
    )
    def get(self, request: Request, ticket_id: UUID) -> Response:
        return ticket_response(request.user, ticket_id)


class TicketCommandApi(BaseApi):
    """POST a command to one ticket; answers with the fresh ticket."""

    # One subclass per command of the table (``command_api``); its docstring
    # is each operation's description.

    command: Command

    def post(self, request: Request, ticket_id: UUID) -> Response:
        command = self.command

        def handler(request: Request) -> Response:
            selectors.require_visible(request.user, ticket_id)  # 404 unless visible
            data = command.input(data=request.data)
            data.is_valid(raise_exception=True)
            with services.answering_early():  # 202 rather than queue
                result = services.ticket_command(
                    command.name,
                    principal=api_principal(request),
                    ticket_id=ticket_id,
                    expected_version=expected_version(request),
                    **data.validated_data,
                )
            extra: dict[str, Any] = (
                {command.detail_name: str(result.detail)} if command.detail_name else {}
            )
            return command_response(request.user, result, **extra)

        return self.idempotent_post(request, handler)


def command_api(command: Command) -> type[TicketCommandApi]:
    """The endpoint of one table command (each its own schema operation,
    documenting the command's own refusals with those every command
    shares)."""

    def post(self: TicketCommandApi, request: Request, ticket_id: UUID) -> Response:
        return TicketCommandApi.post(self, request, ticket_id)

    class Api(TicketCommandApi):
        pass

    Api.command = command
    Api.post = extend_schema(  # type: ignore[method-assign]
        operation_id=f"tickets_{command.name}",
        summary=command.summary,
        request=command.input,
        parameters=[IF_MATCH, IDEMPOTENCY_KEY],
        responses={
            200: s.TicketDetailSerializer,
            **ACCEPTED,
            400: s.problems(*command.refusals),
            **COMMAND_ERRORS,
        },
    )(post)
    Api.__name__ = Api.__qualname__ = (
        "Ticket" + "".join(part.title() for part in command.name.split("_")) + "Api"
    )
    return Api


class TicketTimelineApi(BaseApi):
    """Exactly what the customer sees (the same content as their page)."""

    @extend_schema(
        operation_id="tickets_timeline",
        responses={200: s.CustomerTimelineSerializer, **TICKET_NOT_FOUND},
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
        responses={
            201: s.CustomerLinkSerializer,
            403: s.problems("not_permitted"),
            **TICKET_NOT_FOUND,
        },
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

        return self.idempotent_post(request, handler, atomic=True)

    @extend_schema(
        operation_id="tickets_customer_link_revoke",
        responses={204: None, 403: s.problems("not_permitted"), **TICKET_NOT_FOUND},
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
        responses={200: s.EventSerializer(many=True), **TICKET_NOT_FOUND},
    )
    def get(self, request: Request, ticket_id: UUID) -> Response:
        ticket = selectors.ticket_get(request.user, ticket_id)
        positions = dict(
            TimelineEntry.objects.filter(ticket_id=ticket.ticket_id).values_list(
                "version", "position"
            )
        )
        events = get_tickets_application().events.get(ticket.ticket_id)
        # The service team's follow-up notes only to who sees the follow-up.
        shows = follow_up_event_filter(request.user, ticket.ticket_id)
        return Response(
            s.EventSerializer(
                [
                    event_dict(e, positions.get(e.originator_version))
                    for e in events
                    if shows(e)
                ],
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
        help_text="Comma-separated event types, e.g. Ticket.HandedOff "
        "(the short form HandedOff is accepted too).",
    )

    def validate_type(self, value: str) -> list[str]:
        return event_names(value.split(","))


#: ``type`` as the schema describes it: comma-separated names from a list
#: (an empty value, or none, is every type; empty items are ignored, as a
#: form with an unselected choice sends them, so "" is listed too).
EVENT_TYPES = OpenApiParameter(
    "type",
    {
        "type": "array",
        "items": {"type": "string", "enum": ["", *sorted(ACCEPTED_EVENT_NAMES)]},
    },
    OpenApiParameter.QUERY,
    style="form",
    explode=False,
    description="Event types, comma-separated, e.g. "
    "Ticket.HandedOff,Ticket.Resolved (short forms such as HandedOff are "
    "accepted too).",
)


class EventLogApi(BaseApi):
    """The whole event log in order, for integrators that mirror Baton.
    Needs a superuser or a front-line lead (it shows every ticket)."""

    @extend_schema(
        operation_id="events_list",
        parameters=[EventLogQuerySerializer, EVENT_TYPES],
        responses={200: s.EventPageSerializer, 403: s.problems("forbidden")},
    )
    def get(self, request: Request) -> Response:
        if not selectors.sees_everything(request.user):
            raise PermissionDenied("The event log is for front-line leads and admins.")
        query = EventLogQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        after, limit = query.validated_data["after"], query.validated_data["limit"]
        topics = [EVENT_TOPICS[n] for n in query.validated_data["type"]]
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
