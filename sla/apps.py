from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = "SLA"

    def ready(self) -> None:
        # The lead dashboard's admin (and its proxy model) registers itself.
        from sla import dashboard_admin  # noqa: F401
