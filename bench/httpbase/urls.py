"""Production's URLs plus the two baselines (only here, never in
``config.urls``)."""

from django.urls import URLPattern, URLResolver, path

from bench.httpbase.views import RowInsertApi, RowReadApi
from config.urls import handler404, handler500
from config.urls import urlpatterns as production

urlpatterns: list[URLPattern | URLResolver] = [
    path("bench/insert/", RowInsertApi.as_view()),
    path("bench/rows/<int:row_id>/", RowReadApi.as_view()),
    *production,
]

__all__ = ["handler404", "handler500", "urlpatterns"]
