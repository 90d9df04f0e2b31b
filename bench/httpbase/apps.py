from django.apps import AppConfig


class HttpBaseConfig(AppConfig):
    name = "bench.httpbase"
    label = "httpbase"
    verbose_name = "HTTP benchmark baselines"
