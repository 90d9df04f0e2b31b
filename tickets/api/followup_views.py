"""Follow-ups of dissatisfied ratings, read-only, for integrators: the same
rows and the same scope as the admin's Dissatisfied inbox
(``tickets.followups``). The steps are the ticket commands
``tickets/<id>/follow-ups/...``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from tickets import clock
from tickets.api import serializers as s
from tickets.api.views import BaseApi, StrictLimitCursorPagination
from tickets.domain import NotPermitted
from tickets.followups import follow_up_scope, overdue_q, visible_follow_ups
from tickets.models import FollowUp


class FollowUpPagination(StrictLimitCursorPagination):
    ordering = ("-opened_at", "-id")
    page_size = 50
    max_page_size = 200


class FollowUpSerializer(serializers.ModelSerializer[FollowUp]):
    ticket_id = serializers.UUIDField(read_only=True)
    ticket_subject = serializers.CharField(source="ticket.subject", read_only=True)
    overdue = serializers.BooleanField(
        read_only=True, help_text="Open past its due time."
    )

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "ticket_id",
            "ticket_subject",
            "handoff_id",
            "department",
            "department_name",
            "agent_id",
            "score",
            "comment",
            "opened_at",
            "due_at",
            "overdue",
            "status",
            "owner_id",
            "owner_name",
            "contacted_at",
            "contact_method",
            "outcome",
            "problem_ref",
            "closed_at",
        ]


class FollowUpFilterSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(
        choices=[c.value for c in FollowUp.Status],
        required=False,
        default="",
        allow_blank=True,
    )
    department = serializers.CharField(
        max_length=16, required=False, default="", allow_blank=True
    )
    overdue = serializers.BooleanField(required=False, allow_null=True, default=None)


class FollowUpListApi(BaseApi):
    """Follow-ups the caller may see, newest first: the service team sees
    every one, a department's lead its own department's; others are
    refused (403 ``not_permitted``)."""

    pagination_class = FollowUpPagination

    @extend_schema(
        operation_id="follow_ups_list",
        parameters=[FollowUpFilterSerializer],
        responses={
            200: FollowUpSerializer(many=True),
            403: s.problems("not_permitted"),
        },
    )
    def get(self, request: Request) -> Response:
        params = FollowUpFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        if not follow_up_scope(request.user).sees_any:
            raise NotPermitted(
                "Follow-ups are for the service team and department leads."
            )
        now = clock.now()
        rows = visible_follow_ups(request.user, now).order_by()
        chosen = params.validated_data
        if chosen["status"]:
            rows = rows.filter(status=chosen["status"])
        if chosen["department"]:
            rows = rows.filter(department=chosen["department"].upper())
        if chosen["overdue"] is not None:
            late = overdue_q(now)
            rows = rows.filter(late) if chosen["overdue"] else rows.exclude(late)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(
            FollowUpSerializer(page, many=True).data
        )
