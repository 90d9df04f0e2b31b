from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class DepartmentsConfig(AppConfig):
    name = "departments"
    verbose_name = gettext_lazy("Departments")
