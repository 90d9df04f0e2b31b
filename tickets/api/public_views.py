"""The customer's own JSON, for customer apps: the same content as the
page at ``/t/<token>/``, addressed by the link's token (no other
credential). Wrong, revoked or expired tokens are a plain 404; an address
that keeps guessing gets 429."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle

from tickets import services
from tickets.api import serializers as s
from tickets.api.views import BaseApi
from tickets.customer import (
    FAILURE_WINDOW_SECONDS,
    customer_principal,
    customer_view,
    guessing_blocked,
    record_failure,
    ticket_for_token,
)
from tickets.domain import TicketNotFound
from tickets.models import TicketSummary

PUBLIC_ERRORS = dict.fromkeys((400, 404, 409, 429), s.ProblemSerializer)


class PublicThrottle(SimpleRateThrottle):
    scope = "public"

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {
            "scope": self.scope,
            "ident": self.get_ident(request),
        }


class PublicApi(BaseApi):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicThrottle]

    def ticket(self, request: Request, token: str) -> TicketSummary:
        if guessing_blocked(request):
            from rest_framework.exceptions import Throttled

            raise Throttled(wait=FAILURE_WINDOW_SECONDS)
        try:
            return ticket_for_token(token)
        except TicketNotFound:
            record_failure(request)
            raise

    def view_response(self, ticket: TicketSummary) -> Response:
        ticket.refresh_from_db()
        return Response(s.CustomerTimelineSerializer(customer_view(ticket)).data)


class PublicTimelineApi(PublicApi):
    @extend_schema(
        operation_id="public_timeline",
        auth=[],
        responses={200: s.CustomerTimelineSerializer, **PUBLIC_ERRORS},
    )
    def get(self, request: Request, token: str) -> Response:
        return self.view_response(self.ticket(request, token))


class PublicReplyApi(PublicApi):
    @extend_schema(
        operation_id="public_reply",
        auth=[],
        request=s.BodyInputSerializer,
        responses={200: s.CustomerTimelineSerializer, **PUBLIC_ERRORS},
    )
    def post(self, request: Request, token: str) -> Response:
        ticket = self.ticket(request, token)  # before any replay

        def handler(request: Request) -> Response:
            data = s.BodyInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            services.ticket_record_customer_reply(
                principal=customer_principal(ticket),
                ticket_id=ticket.ticket_id,
                body=data.validated_data["body"],
            )
            return self.view_response(ticket)

        return self.idempotent_post(request, handler)


class PublicRatingApi(PublicApi):
    @extend_schema(
        operation_id="public_rate",
        auth=[],
        request=s.PublicRatingInputSerializer,
        responses={200: s.CustomerTimelineSerializer, **PUBLIC_ERRORS},
    )
    def post(self, request: Request, token: str) -> Response:
        ticket = self.ticket(request, token)  # before any replay

        def handler(request: Request) -> Response:
            data = s.PublicRatingInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            values = data.validated_data
            principal = customer_principal(ticket)
            if values["handoff_id"] is None:
                services.ticket_rate_experience(
                    principal=principal,
                    ticket_id=ticket.ticket_id,
                    score=values["score"],
                    comment=values["comment"],
                )
            else:
                services.ticket_rate_handoff(
                    principal=principal,
                    ticket_id=ticket.ticket_id,
                    handoff_id=values["handoff_id"],
                    score=values["score"],
                    comment=values["comment"],
                )
            return self.view_response(ticket)

        return self.idempotent_post(request, handler)
