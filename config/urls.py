from datetime import date

from django.contrib import admin
from django.urls import (
    URLPattern,
    URLResolver,
    include,
    path,
    re_path,
    register_converter,
)
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.exceptions import api_not_found
from departments.api import DepartmentListApi, ScenarioListApi
from sla.api import (
    ClockListApi,
    ScorecardApi,
    ScorecardDrilldownApi,
    TicketRoutingApi,
)
from tickets.views import customer_page


class DateConverter:
    """An ISO date path segment (YYYY-MM-DD); anything else is a 404."""

    regex = r"\d{4}-\d{2}-\d{2}"

    def to_python(self, value: str) -> date:
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(value) from None

    def to_url(self, value: date) -> str:
        return value.isoformat()


register_converter(DateConverter, "date")

api_v1: list[URLPattern | URLResolver] = [
    path("", include("tickets.api.urls")),
    path("departments/", DepartmentListApi.as_view(), name="departments"),
    path("scenarios/", ScenarioListApi.as_view(), name="scenarios"),
    path("clocks/", ClockListApi.as_view(), name="clocks"),
    path("tickets/<uuid:ticket_id>/routing/", TicketRoutingApi.as_view()),
    path(
        "scorecards/<str:department>/<str:period>/<date:start>/",
        ScorecardApi.as_view(),
        name="scorecard",
    ),
    path(
        "scorecards/<str:department>/<str:period>/<date:start>/figures/<str:figure>/",
        ScorecardDrilldownApi.as_view(),
        name="scorecard-figure",
    ),
]

urlpatterns = [
    path("t/<str:token>/", customer_page, name="customer-page"),
    # The SLA clocks' admin pages moved with their model (sla -> tickets);
    # bookmarks of the old ones keep working.
    re_path(
        r"^admin/sla/slaclock/(?P<rest>.*)$",
        RedirectView.as_view(
            url="/admin/tickets/slaclock/%(rest)s", permanent=True, query_string=True
        ),
    ),
    path("admin/", admin.site.urls),
    # set_language (POST /i18n/setlang/): the language switcher's target.
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"
    ),
    # Whatever else is under /api/ is a problem+json 404, with DEBUG on too
    # (handler404 only answers with DEBUG off; Django's debug page would
    # list every URL).
    re_path(r"^api/", csrf_exempt(api_not_found)),
]

handler404 = "config.exceptions.api_not_found"
handler500 = "config.exceptions.api_server_error"
