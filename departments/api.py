from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from departments.models import Department, Scenario


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


class _CodeField(serializers.SlugRelatedField[Any]):
    """A department or scenario, by its code."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="code", **kwargs)


class ScenarioSerializer(serializers.ModelSerializer[Scenario]):
    serializer_related_field = _CodeField

    class Meta:
        model = Scenario
        fields = ["code", "name", "description", "is_active", "owner", "parent"]
        read_only_fields = fields
        extra_kwargs = {
            "owner": {
                "help_text": "The code of the department that usually resolves it."
            },
            "parent": {"help_text": "The broader scenario's code, if any."},
        }


class ScenarioListApi(APIView):
    """The scenario catalogue: the codes a ticket's ``scenario`` may take
    (only active ones; inactive ones stay on the tickets that have them).
    Codes are upper-case; the API accepts them in any case."""

    @extend_schema(
        operation_id="scenarios_list",
        responses={200: ScenarioSerializer(many=True)},
    )
    def get(self, request: Request, *args: Any) -> Response:
        scenarios = Scenario.objects.select_related("owner", "parent").order_by("code")
        return Response(ScenarioSerializer(scenarios, many=True).data)
