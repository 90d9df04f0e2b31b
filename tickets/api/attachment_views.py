"""Files over the API: upload (a pending file only its uploader may
attach, by listing its id in a command's ``attachments``), a ticket's
files, and their download. Staff and integrations here; the customer's
own (by their link's token) are in ``tickets.api.public_views``.

The checks, the storage and who may read what are ``tickets.attachments``;
these views only speak HTTP."""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from django.http import HttpResponseBase
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from tickets import attachments, selectors
from tickets.api import serializers as s
from tickets.api.views import BaseApi, api_principal
from tickets.domain import InvalidInput, NotPermitted
from tickets.models import Attachment

#: What an upload can be refused with (400), besides the request's shape.
UPLOAD_REFUSALS = (
    "file_required",
    "attachment_empty",
    "attachment_too_large",
    "attachment_type_not_allowed",
    "attachment_type_mismatch",
    "pending_uploads_full",
)


class AttachmentUploadSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(
        help_text="The file (multipart/form-data). Its type is decided from its "
        "name and first bytes and must be on the server's allow-list."
    )


class AttachmentSerializer(serializers.Serializer[Any]):
    """A stored file: what the events record of it."""

    id = serializers.UUIDField()
    name = serializers.CharField(source="filename")
    size = serializers.IntegerField()
    content_type = serializers.CharField()
    sha256 = serializers.CharField()


class TicketAttachmentSerializer(AttachmentSerializer):
    audience = serializers.ChoiceField(
        choices=["customer", "internal"],
        help_text="customer: the customer sees it too; internal: staff only "
        "(a note's file).",
    )
    version = serializers.IntegerField(
        source="attached_version",
        help_text="The ticket version of the entry it is attached to.",
    )
    attached_at = serializers.DateTimeField()
    download = serializers.SerializerMethodField()

    def get_download(self, attachment: Attachment) -> str:
        return f"/api/v1/tickets/{attachment.ticket_id}/attachments/{attachment.id}/"


class DownloadNegotiation:
    """A download may be asked for with any ``Accept`` (the file's own
    type, ``application/octet-stream``...): never 406; errors are JSON."""

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        return super().perform_content_negotiation(  # type: ignore[misc]
            request, force=True
        )


class SizeCheckedUpload:
    """An upload view refuses a body larger than a file may be before
    anything reads it: before authentication too, whose CSRF check (a
    session's) would parse the form."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        attachments.check_body_size(request.META)
        super().initial(request, *args, **kwargs)  # type: ignore[misc]


def uploaded_file(request: Request) -> Any:
    """The one file a multipart request carries in ``file`` (its size was
    checked by :class:`SizeCheckedUpload`)."""
    if not hasattr(request.data, "get"):  # a JSON body that is not an object
        raise ValidationError(
            {"file": [_("Send the file as multipart/form-data.")]}, code="invalid"
        )
    upload = request.FILES.get("file")
    if upload is None:
        raise InvalidInput(
            _("Send the file as the multipart/form-data field “file”."),
            field="file",
            code="file_required",
        )
    return upload


def upload_response(attachment: Attachment) -> Response:
    return Response(AttachmentSerializer(attachment).data, status=201)


UPLOAD_SCHEMA: dict[str, Any] = {
    "request": {"multipart/form-data": AttachmentUploadSerializer},
    "responses": {201: AttachmentSerializer},
}


#: Multipart carries the file; a JSON body (which cannot) is parsed only
#: to be refused as the API refuses every body (malformed, not an
#: object, no file).
UPLOAD_PARSERS: list[type[BaseParser]] = [
    MultiPartParser,
    *cast(list[type[BaseParser]], api_settings.DEFAULT_PARSER_CLASSES),
]


class AttachmentUploadApi(SizeCheckedUpload, BaseApi):
    parser_classes = UPLOAD_PARSERS

    @extend_schema(
        operation_id="attachments_upload",
        summary="Upload a file to attach to a reply, note or new ticket",
        description="Stores the file as your pending upload; attach it by "
        "listing its id in `attachments` of the next command (a reply, a note, "
        "a customer reply, or opening a ticket). Only you can attach it.",
        request=UPLOAD_SCHEMA["request"],
        responses={
            **UPLOAD_SCHEMA["responses"],
            400: s.problems(*UPLOAD_REFUSALS),
            403: s.problems("not_permitted"),
        },
    )
    def post(self, request: Request) -> Response:
        principal = api_principal(request)
        if not principal.departments:
            raise NotPermitted(
                _("You are not a member of any department, so you cannot work tickets.")
            )
        upload = uploaded_file(request)
        attachment = attachments.store(
            upload,
            filename=upload.name or "",
            declared_type=upload.content_type or "",
            uploader=attachments.uploader_key(principal),
            uploaded_by=principal.name,
        )
        return upload_response(attachment)


class TicketAttachmentListApi(BaseApi):
    @extend_schema(
        operation_id="tickets_attachments",
        summary="The ticket's files (internal ones too)",
        responses={
            200: TicketAttachmentSerializer(many=True),
            404: s.problems("ticket_not_found"),
        },
    )
    def get(self, request: Request, ticket_id: UUID) -> Response:
        ticket_pk = selectors.require_visible(request.user, ticket_id)
        files = attachments.attached_files(ticket_pk, customer_only=False)
        return Response(TicketAttachmentSerializer(files, many=True).data)


DOWNLOAD_RESPONSES: dict[Any, Any] = {
    (200, "*/*"): OpenApiResponse(
        OpenApiTypes.BINARY,
        description="The file, as a download (`Content-Disposition: attachment`), "
        "with the content type recorded when it was uploaded.",
    ),
}


class TicketAttachmentDownloadApi(DownloadNegotiation, BaseApi):
    @extend_schema(
        operation_id="tickets_attachment_download",
        summary="Download one of the ticket's files",
        responses={
            **DOWNLOAD_RESPONSES,
            404: s.problems("ticket_not_found", "attachment_not_found"),
        },
    )
    def get(
        self, request: Request, ticket_id: UUID, attachment_id: UUID
    ) -> HttpResponseBase:
        ticket_pk = selectors.require_visible(request.user, ticket_id)
        attachment = attachments.attached_file(
            ticket_pk, attachment_id, customer_only=False
        )
        return attachments.download_response(attachment)
