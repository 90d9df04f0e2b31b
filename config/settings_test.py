"""Settings for the test suite: the production settings plus what only
tests want (a throwaway key, fast password hashing, synchronous tasks)."""

import os

# A developer's local .env (DEBUG=1, a DATABASE_URL...) must not change what
# the suite runs on: only the real environment counts here. Set before
# config.env is first imported; subprocesses the tests start inherit it.
os.environ["BATON_ENV_FILE"] = ""
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("Q_SYNC", "1")

from config.env import LOADED_FROM_ENV_FILE
from config.settings import *  # noqa: F403

if LOADED_FROM_ENV_FILE:
    raise RuntimeError(
        "config.env was imported before config.settings_test and read "
        f"{', '.join(LOADED_FROM_ENV_FILE)} from a local .env file"
    )

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WHITENOISE_AUTOREFRESH = True
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
BATON_INLINE_PROJECTION_ERRORS = "raise"
# No projector process runs under the tests: commands fill the outboxes
# (alerts, webhooks) inline too, so a test sees them at once.
BATON_INLINE_PROJECTION_GROUPS = ["core", "notifications", "webhooks", "mail"]

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The live test server speaks plain HTTP, so cookies cannot be Secure-only.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
