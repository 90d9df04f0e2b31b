"""Two plain DRF endpoints with the API's defaults (authentication,
permission, throttle, parser, renderer and exception handler all come from
``REST_FRAMEWORK``, as the ticket API's do): one validates a tiny body and
inserts a row, the other reads one row. They are what "a plain Django
endpoint" costs on the same processes, the benchmark's denominators."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.httpbase.models import BenchRow


class RowInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=100)
    value = serializers.IntegerField()


class RowSerializer(serializers.ModelSerializer[BenchRow]):
    class Meta:
        model = BenchRow
        fields = ["id", "name", "value", "created_at"]


class RowInsertApi(APIView):
    def post(self, request: Request) -> Response:
        data = RowInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = BenchRow.objects.create(**data.validated_data)
        return Response(RowSerializer(row).data, status=201)


class RowReadApi(APIView):
    def get(self, request: Request, row_id: int) -> Response:
        row = BenchRow.objects.filter(pk=row_id).first()
        if row is None:
            raise NotFound()
        return Response(RowSerializer(row).data)
