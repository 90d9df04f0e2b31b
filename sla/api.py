from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sla.models import SLAClock
from sla.selectors import visible_clocks
from tickets.api.serializers import ClockSerializer, ProblemSerializer


class ClockPagination(CursorPagination):
    ordering = ("due_at", "id")
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200


class ClockFilterSerializer(serializers.Serializer[Any]):
    department = serializers.CharField(required=False, default="", max_length=16)
    state = serializers.ChoiceField(
        choices=SLAClock.State.values, required=False, default=""
    )
    kind = serializers.ChoiceField(
        choices=SLAClock.Kind.values, required=False, default=""
    )
    due_before = serializers.DateTimeField(
        required=False, allow_null=True, default=None
    )


class ClockListApi(APIView):
    pagination_class = ClockPagination

    @extend_schema(
        operation_id="clocks_list",
        parameters=[ClockFilterSerializer],
        responses={
            200: ClockSerializer(many=True),
            400: ProblemSerializer,
            401: ProblemSerializer,
            429: ProblemSerializer,
        },
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
