from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from departments.api import DepartmentListApi
from sla.api import ClockListApi
from tickets.views import customer_page

api_v1: list[URLPattern | URLResolver] = [
    path("", include("tickets.api.urls")),
    path("departments/", DepartmentListApi.as_view(), name="departments"),
    path("clocks/", ClockListApi.as_view(), name="clocks"),
]

urlpatterns = [
    path("t/<str:token>/", customer_page, name="customer-page"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"
    ),
]

handler404 = "config.exceptions.api_not_found"
handler500 = "config.exceptions.api_server_error"
