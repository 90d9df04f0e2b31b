"""Baton's settings plus the HTTP benchmark's baselines (its app and URLs);
everything else, environment included, is production's."""

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.httpbase"]
ROOT_URLCONF = "bench.httpbase.urls"
