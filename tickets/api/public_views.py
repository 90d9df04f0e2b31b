"""The customer's own JSON, for customer apps: the same content as the
page at ``/t/<token>/``, addressed by the link's token (no other
credential). Wrong, revoked or expired tokens are a plain 404; an address
that keeps guessing gets 429."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpResponseBase
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from tickets import attachments, services
from tickets.api import serializers as s
from tickets.api.attachment_views import (
    DOWNLOAD_RESPONSES,
    UPLOAD_PARSERS,
    UPLOAD_REFUSALS,
    UPLOAD_SCHEMA,
    DownloadNegotiation,
    SizeCheckedUpload,
    upload_response,
    uploaded_file,
)
from tickets.api.authentication import CountingRateThrottle
from tickets.api.views import IDEMPOTENCY_KEY, BaseApi
from tickets.commands import CUSTOMER_ACTIONS, Command
from tickets.commands.inputs import PublicRatingInputSerializer
from tickets.customer import (
    customer_principal,
    customer_view,
    record_failure,
    ticket_for_token,
)
from tickets.domain import TicketClosed, TicketNotFound, TicketResolved
from tickets.models import TicketSummary

#: A wrong, revoked or expired link is a 404; the hook (config.openapi)
#: adds 429 and the body and Idempotency-Key errors.
LINK_NOT_FOUND = {404: s.problems("ticket_not_found")}
PUBLIC_COMMAND_ERRORS = {**LINK_NOT_FOUND, 409: s.problems("version_conflict")}


class PublicThrottle(CountingRateThrottle):
    """Requests per address to the customer endpoints (atomic count)."""

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
        """The link's ticket. A valid link always works; a wrong one is a
        404, or a 429 once the address has guessed too many."""
        try:
            return ticket_for_token(token)
        except TicketNotFound:
            retry_after = record_failure(request)
            if retry_after is not None:
                raise Throttled(wait=retry_after) from None
            raise

    def view_response(self, ticket: TicketSummary) -> Response:
        ticket.refresh_from_db()
        return Response(s.CustomerTimelineSerializer(customer_view(ticket)).data)


class PublicTimelineApi(PublicApi):
    @extend_schema(
        operation_id="public_timeline",
        auth=[],
        responses={200: s.CustomerTimelineSerializer, **LINK_NOT_FOUND},
    )
    def get(self, request: Request, token: str) -> Response:
        return self.view_response(self.ticket(request, token))


class PublicCommandApi(PublicApi):
    # POST one of the customer's commands (``customer_action`` in the command
    # table) to the link's ticket; answers with the customer's view. (No
    # docstring: it would describe the operations in the schema.)

    command: Command
    #: The input as the customer's API documents it (the command's own by
    #: default).
    input_serializer: type[serializers.Serializer[Any]] | None = None

    def post(self, request: Request, token: str) -> Response:
        ticket = self.ticket(request, token)  # before any replay
        command = self.command
        serializer = self.input_serializer or command.input

        def handler(request: Request) -> Response:
            data = serializer(data=request.data)
            data.is_valid(raise_exception=True)
            services.ticket_command(
                command.name,
                principal=customer_principal(ticket),
                ticket_id=ticket.ticket_id,
                **data.validated_data,
            )
            return self.view_response(ticket)

        return self.idempotent_post(request, handler)


def public_command(
    action: str, serializer: type[serializers.Serializer[Any]] | None = None
) -> type[PublicCommandApi]:
    """The customer's endpoint for ``action`` (operation ``public_<action>``)."""
    command = CUSTOMER_ACTIONS[action]
    schema = extend_schema(
        operation_id=f"public_{action}",
        auth=[],
        request=serializer or command.input,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            200: s.CustomerTimelineSerializer,
            400: s.problems(*command.refusals),
            **PUBLIC_COMMAND_ERRORS,
        },
    )

    class Api(PublicCommandApi):
        @schema
        def post(self, request: Request, token: str) -> Response:
            return super().post(request, token)

    Api.command, Api.input_serializer = command, serializer
    Api.__name__ = Api.__qualname__ = f"Public{action.title()}Api"
    return Api


PublicReplyApi = public_command("reply")
PublicRatingApi = public_command("rate", PublicRatingInputSerializer)


class PublicAttachmentUploadApi(SizeCheckedUpload, PublicApi):
    parser_classes = UPLOAD_PARSERS

    @extend_schema(
        operation_id="public_attachment_upload",
        summary="Upload a file to send with your next message",
        description="Stores the file for this ticket's customer; send it by "
        "listing its id in `attachments` of your next reply.",
        auth=[],
        request=UPLOAD_SCHEMA["request"],
        responses={
            **UPLOAD_SCHEMA["responses"],
            400: s.problems(*UPLOAD_REFUSALS, "ticket_resolved", "ticket_closed"),
            **LINK_NOT_FOUND,
        },
    )
    def post(self, request: Request, token: str) -> Response:
        ticket = self.ticket(request, token)
        if ticket.status == "closed":
            raise TicketClosed(_("This request is closed."))
        if ticket.status == "resolved":
            raise TicketResolved(
                _("This request is resolved: files go with a message.")
            )
        upload = uploaded_file(request)
        attachment = attachments.store(
            upload,
            filename=upload.name or "",
            declared_type=upload.content_type or "",
            uploader=attachments.uploader_key(
                customer_principal(ticket), ticket.ticket_id
            ),
            uploaded_by=ticket.customer_name or ticket.customer_ref,
        )
        return upload_response(attachment)


class PublicAttachmentDownloadApi(DownloadNegotiation, PublicApi):
    @extend_schema(
        operation_id="public_attachment_download",
        summary="Download a file of your request",
        auth=[],
        responses={
            **DOWNLOAD_RESPONSES,
            404: s.problems("ticket_not_found", "attachment_not_found"),
        },
    )
    def get(
        self, request: Request, token: str, attachment_id: UUID
    ) -> HttpResponseBase:
        ticket = self.ticket(request, token)
        # An internal note's file: the same answer as no file at all.
        attachment = attachments.attached_file(
            ticket.ticket_id, attachment_id, customer_only=True
        )
        return attachments.download_response(attachment)
