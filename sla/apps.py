from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = gettext_lazy("SLA")

    def ready(self) -> None:
        # The lead dashboard's admin (and its proxy model) registers itself.
        from sla import dashboard_admin  # noqa: F401
