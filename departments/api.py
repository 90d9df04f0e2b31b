from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from departments.models import Department


class DepartmentSerializer(serializers.ModelSerializer[Department]):
    class Meta:
        model = Department
        fields = ["code", "name", "kind", "timezone", "is_active"]


class DepartmentListApi(APIView):
    @extend_schema(
        operation_id="departments_list",
        responses={200: DepartmentSerializer(many=True)},
    )
    def get(self, request: Request, *args: Any) -> Response:
        return Response(DepartmentSerializer(Department.objects.all(), many=True).data)
