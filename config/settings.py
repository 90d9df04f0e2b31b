"""Django settings for Baton. Deployment-specific values come from the
environment (see ``config/env.py`` and the README's configuration table)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import django_stubs_ext
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    BASE_DIR,
    VAR_DIR,
    database_config,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
)

# Lets admin and DRF generics be subscripted at runtime (ModelAdmin[Model]).
django_stubs_ext.monkeypatch()

DEBUG = env_bool("DEBUG", False)

_INSECURE_DEV_KEY = "insecure-dev-key-only-for-local-demo-and-tests"
SECRET_KEY = env_str("SECRET_KEY") or (_INSECURE_DEV_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set when DEBUG is off (make run writes a generated "
        "one to .env for local use)."
    )
if not DEBUG and SECRET_KEY == _INSECURE_DEV_KEY:
    # The development key is public (it is in this file): with it anyone
    # could forge sessions, password-reset links and signed values.
    raise ImproperlyConfigured(
        "The public development SECRET_KEY cannot be used when DEBUG is off: "
        "set SECRET_KEY to a long random value."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# HTTPS. Off by default so that `make run` and tests work on plain HTTP;
# the README's production environment turns each on (then `manage.py check
# --deploy` has nothing to report).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# "HTTP_X_FORWARDED_PROTO,https" behind a TLS proxy that sets (and never
# passes on from clients) X-Forwarded-Proto; unset when clients connect
# directly, since a client could otherwise claim HTTPS.
_proxy_ssl_header = env_list("SECURE_PROXY_SSL_HEADER", [])
if _proxy_ssl_header and len(_proxy_ssl_header) != 2:
    raise ImproperlyConfigured(
        "SECURE_PROXY_SSL_HEADER must be a header and a value, e.g. "
        "HTTP_X_FORWARDED_PROTO,https"
    )
SECURE_PROXY_SSL_HEADER = (
    (_proxy_ssl_header[0], _proxy_ssl_header[1]) if _proxy_ssl_header else None
)

# Content-Security-Policy on every response (django-csp): scripts and
# styles only from this origin or inline elements carrying the request's
# nonce (`nonce="{{ request.csp_nonce }}"`), never 'unsafe-inline'.
# Responses that set their own header (stored report HTML) keep it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

INSTALLED_APPS = [
    # Django's admin, as Baton's own site (name, landing pages, timezone).
    "tickets.admin_site.BatonAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "axes",
    "csp",
    "departments",
    "tickets",
    "sla",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the django_language cookie (set_language), else
    # Accept-Language, else LANGUAGE_CODE...
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # ...except on the admin, where a staff member's own choice wins.
    "config.language.StaffLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a lockout into the 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Project-wide templates (the login lockout page, the API docs page
        # with CSP nonces) take precedence over the apps' own.
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The event store. On PostgreSQL it lives in the default database (tables
# named after the application); on SQLite it has a file of its own, because
# eventsourcing's SQLite tables are not prefixed per application.
EVENTS_SQLITE_PATH = env_str("EVENTS_SQLITE_PATH", str(VAR_DIR / "events.sqlite3"))

# django-axes checks every login against its lockouts before Django's
# backend sees the password; it needs the request, which the admin's login
# form passes to authenticate().
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Interface languages: English (the default) and Simplified Chinese. The
# catalogue is locale/<language>/LC_MESSAGES/django.po; its .mo is built by
# `python -m config.compile_messages` (make install and the test suite run
# it), which needs no GNU gettext.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Attachments go to the "attachments" storage: files under var/media by
# default, or any Django storage backend (django-storages' S3, say) named
# by ATTACHMENT_STORAGE with its options as JSON in
# ATTACHMENT_STORAGE_OPTIONS. They are never served from a public URL:
# only through the ticket's permission-checked download view.
MEDIA_ROOT = env_str("MEDIA_ROOT", str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "attachments": {
        "BACKEND": env_str(
            "ATTACHMENT_STORAGE", "django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": json.loads(env_str("ATTACHMENT_STORAGE_OPTIONS") or "{}")
        or {"location": str(Path(MEDIA_ROOT) / "attachments")},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage",
    },
}
WHITENOISE_USE_FINDERS = DEBUG

LOGIN_URL = "admin:login"

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "baton@localhost")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Seconds an SMTP operation may block before the send fails (and is
# retried). Emails and SLA alerts are claimed by one worker for a multiple
# of it (tickets.mail.notifications.lease), so a slow or hung server never
# gets the same email sent twice by a second worker.
EMAIL_TIMEOUT = env_float("EMAIL_TIMEOUT", 30.0)
if EMAIL_TIMEOUT <= 0:
    raise ImproperlyConfigured(
        "EMAIL_TIMEOUT must be a positive number of seconds (an unbounded SMTP "
        "send could outlast the claim on an email and send it twice)."
    )
# Hours the service team has to close a dissatisfied customer's follow-up.
FOLLOWUP_DUE_HOURS = env_float("FOLLOWUP_DUE_HOURS", 24.0)
if not 0 < FOLLOWUP_DUE_HOURS <= 24 * 366:  # also refuses nan and inf
    raise ImproperlyConfigured(
        "FOLLOWUP_DUE_HOURS must be a positive number of hours, at most a year."
    )
# Where the file-based email backend writes (development and end-to-end
# tests: EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend).
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))

# --- Channels: email in and out, attachments ----------------------------------
# The address customers see links under (notification emails, alerts).
BATON_PUBLIC_URL = env_str("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
# Baton's mail domain and the local part of each ticket's reply address
# (<local>+<key>@<domain>); by default those of DEFAULT_FROM_EMAIL.
BATON_MAIL_DOMAIN = env_str("MAIL_DOMAIN")
BATON_MAIL_REPLY_LOCAL = env_str("MAIL_REPLY_LOCAL")
# The front-line department (its code) that email opens tickets for; by
# default the only active front line.
BATON_MAIL_FRONT_LINE = env_str("MAIL_FRONT_LINE")
# The mail gateway (manage.py run_mail_gateway): where it listens, and the
# largest message it accepts (bytes; larger ones are refused and recorded).
BATON_MAIL_GATEWAY_HOST = env_str("MAIL_GATEWAY_HOST", "127.0.0.1")
BATON_MAIL_GATEWAY_PORT = env_int("MAIL_GATEWAY_PORT", 2525)
BATON_MAIL_MAX_BYTES = env_int("MAIL_MAX_BYTES", 25 * 1024 * 1024)
BATON_MAIL_OPENS_PER_HOUR = env_int("MAIL_OPENS_PER_HOUR", 20)
BATON_MAIL_RAW_DAYS = env_int("MAIL_RAW_DAYS", 90)
# Notification emails (email out): attempts before a failing email is
# given up (retries back off from 30 s to 6 h; an admin can retry it).
BATON_NOTIFY_MAX_ATTEMPTS = env_int("NOTIFY_MAX_ATTEMPTS", 10)
# Attachments: bytes per file, bytes per ticket, and the content types
# accepted (a type ending in "/*" accepts its whole family).
BATON_ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
BATON_ATTACHMENT_MAX_TICKET_BYTES = env_int(
    "ATTACHMENT_MAX_TICKET_BYTES", 50 * 1024 * 1024
)
BATON_ATTACHMENT_TYPES = env_list(
    "ATTACHMENT_TYPES",
    [
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/pdf",
        "text/plain",
        "text/csv",
        "application/zip",
        "message/rfc822",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/msword",
        "application/vnd.ms-excel",
    ],
)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.exceptions.problem_exception_handler",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tickets.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["tickets.api.authentication.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "api": env_str("API_THROTTLE_RATE", "600/min"),
        "public": env_str("PUBLIC_THROTTLE_RATE", "120/min"),
    },
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.parsers.StrictJSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Trusted reverse proxies in front of Baton (0: use REMOTE_ADDR and
    # ignore X-Forwarded-For, which a client could forge).
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Baton API",
    "DESCRIPTION": (
        "Cross-department ticket and SLA accountability. Errors are RFC 9457 "
        "problem details (`application/problem+json`) with a stable `code`; "
        "each response lists the codes it can carry (`x-problem-codes`). "
        "`title` and `detail` follow `Accept-Language` (`en`, `zh-hans`); "
        "`code` and field names are always English. Every "
        "POST accepts an `Idempotency-Key`; commands accept `If-Match` with the "
        "ticket's ETag. Bodies are strict JSON (UTF-8, at most 32 levels deep, "
        "no repeated names, no lone surrogates, NaN or Infinity; otherwise 400 "
        "`malformed_body`), and no text may hold a NUL character (400 "
        "`validation_failed`, field code `null_characters_not_allowed`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Error responses as application/problem+json, with the codes each
    # operation can answer (config/openapi.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.openapi.problem_responses",
    ],
}

# Throttle counters must be shared by all web processes: Redis when
# configured, else files under var/ (one machine).
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env_str("REDIS_URL"),
        }
        if env_str("REDIS_URL")
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            # Past MAX_ENTRIES Django deletes a random third of the files,
            # throttle and lockout counters included: keep it far away.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    )
}

# Background work. The ORM broker needs no service; REDIS_URL switches to
# Redis. save_limit=0 keeps the monitor from reloading stored results after
# every task, which capped the ORM broker at ~48 tasks/s on this hardware.
REDIS_URL = env_str("REDIS_URL")
Q_CLUSTER: dict[str, object] = {
    "name": "baton",
    "workers": env_int("Q_WORKERS", 2),
    "timeout": 60,
    "retry": 120,
    "save_limit": 0,
    "ack_failures": True,
    "catch_up": False,
    "sync": env_bool("Q_SYNC", False),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# Projections caught up inside each command so that the caller reads its
# own write. Names map to ``Projection`` classes; the ``core`` group is the
# one the ``run_projections`` process follows by default.
BATON_PROJECTION_GROUPS = {
    "core": [
        "tickets.projections.TicketSummaryProjection",
        "tickets.projections.HandoffProjection",
        "tickets.projections.TimelineProjection",
        "tickets.projections.SLAClockProjection",
        "tickets.attachments.AttachmentProjection",
        "tickets.projections.FollowUpProjection",
    ],
    # Department scorecards: followed by the projector, not caught up
    # inline (nobody needs to read their own write there, and a batch
    # recomputes each changed period once).
    "scorecards": [
        "sla.projections.ScorecardProjection",
    ],
    # An outbox, not a disposable read model: never rebuilt (that would
    # send old alerts again).
    "notifications": [
        "sla.projections.SLANotificationProjection",
    ],
    # Outbox of webhook deliveries: never rebuilt either.
    "webhooks": [
        "tickets.webhooks.WebhookDeliveryProjection",
    ],
    # Outbox of notification emails to customers and staff: never rebuilt.
    "mail": [
        "tickets.mail.notifications.EmailNotificationProjection",
    ],
}
BATON_INLINE_PROJECTION_GROUP = "core"
# Groups a command projects (or waits for) before it answers, so that the
# answer and the caller's next read show the write. Only the core read
# models: outboxes (alerts, webhooks) and scorecards are the projector's,
# each group in its own transactions.
BATON_INLINE_PROJECTION_GROUPS = env_list("INLINE_PROJECTION_GROUPS", ["core"])
# How long a command waits for another process that is projecting its
# events before it answers 202 Accepted with the ticket's Location.
BATON_INLINE_PROJECTION_TIMEOUT = env_float("INLINE_PROJECTION_TIMEOUT", 2.0)
# How often (seconds) the projector catches up the inline groups (what no
# request projected: other writers, 202s) and the others (scorecards,
# outboxes: a busy log reaches them in batches).
BATON_PROJECTOR_INLINE_INTERVAL = env_float("PROJECTOR_INLINE_INTERVAL", 0.05)
BATON_PROJECTOR_BATCH_INTERVAL = env_float("PROJECTOR_BATCH_INTERVAL", 0.25)

# Customer links: wrong-link lookups allowed per address per 10 minutes
# before it is throttled; how staff appear to customers ("first_name" or
# "role": "Finance team").
BATON_CUSTOMER_LINK_FAILURES = env_int("CUSTOMER_LINK_FAILURES", 20)
BATON_CUSTOMER_STAFF_NAMES = env_str("CUSTOMER_STAFF_NAMES", "first_name")

# Due times come from the departments' policy and calendar versions.
BATON_SLA_PORT = "sla.terms.PolicySLAPort"
# Routing suggestions (sla.routing; "sla.routing.UsualOwnerRouting": the
# scenario's usual owner only; empty: off). See manage.py evaluate_routing.
BATON_ROUTING_PORT = env_str("ROUTING_PORT", "sla.routing.ScorecardRouting")
# Known problems on the ticket page: the issue a ticket's root cause is
# linked to in the Problems view (empty: off).
BATON_PROBLEM_LINKS_PORT = "sla.problems.ProblemLinks"

# --- Baton groups: what each role may do in the admin ------------------------
# Membership decides a person's group (departments.services.user_groups_sync);
# the permissions of each group are named here, at the top of the stack, so
# that departments never names the apps above it. Seeded by migrations (last
# by sla.0009, once every model exists).
_BATON_WORK = [
    "tickets.view_queueticket",
    "tickets.work_tickets",
    "tickets.view_ticketsummary",
    "tickets.view_handoff",
    "tickets.view_slaclock",
    "sla.view_scorecard",
    "sla.view_scorecardreport",
    "departments.view_department",
]
_BATON_MANAGE = [
    "departments.add_department",
    "departments.change_department",
    "departments.view_membership",
    "departments.add_membership",
    "departments.change_membership",
    "departments.delete_membership",
    "departments.view_scenario",
    "departments.add_scenario",
    "departments.change_scenario",
    "departments.view_scenarioversion",
    "sla.view_calendar",
    "sla.view_calendarversion",
    "sla.add_calendarversion",
    "sla.view_slapolicy",
    "sla.view_slapolicyversion",
    "sla.add_slapolicyversion",
    "sla.view_slanotification",
    "tickets.view_webhookdelivery",
]
BATON_GROUP_PERMISSIONS = {
    "Baton agents": _BATON_WORK,
    "Baton leads": _BATON_WORK,
    "Baton front-line leads": _BATON_WORK + _BATON_MANAGE,
}
# How often the django-q2 schedule sweeps running clocks for warnings and
# breaches (minutes); applied by `migrate` and editable in the admin.
BATON_SLA_SWEEP_MINUTES = env_int("SLA_SWEEP_MINUTES", 1)
# When the scorecard reports (service-team summary and one per department,
# for the last complete week) are generated and emailed: a cron expression
# in TIME_ZONE (UTC), Mondays 07:00 by default; applied by `migrate` and
# editable in the admin. Needs the croniter package.
BATON_REPORT_SCHEDULE = env_str("REPORT_SCHEDULE") or "0 7 * * 1"

# Admin login brute-force protection (django-axes). Failed logins count
# per (username, address) and per address, never per username alone: an
# attacker elsewhere cannot lock the real user out. A lockout ends
# LOGIN_LOCKOUT_MINUTES after the last counted failure (failures while
# locked out do not extend it); a successful login clears its own
# (username, address) count. Addresses follow NUM_PROXIES like the
# throttles do. The lockout page is a 429 (admin/login_locked_out.html).
AXES_HANDLER = "config.login_lockout.LoginLockoutHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
BATON_LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 20)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "config.login_lockout.client_address"
AXES_LOCKOUT_CALLABLE = "config.login_lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
# Successful logins are not logged by axes (only failures are needed).
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False  # no banner on every manage.py command

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)

# --- Tamper-evident event log (tickets.integrity) -------------------------
# Checkpoints of the whole event log are taken by the worker every
# EVENT_CHECKPOINT_MINUTES (applied by `migrate`, editable in the admin)
# and published: a log line, and a JSON line appended to this file. Ship
# the file (or the log) somewhere the database's administrators cannot
# rewrite; `manage.py verify_events --published FILE` checks against it.
BATON_EVENT_CHECKPOINT_FILE = env_str(
    "EVENT_CHECKPOINT_FILE", str(VAR_DIR / "checkpoints.jsonl")
)
BATON_EVENT_CHECKPOINT_MINUTES = env_int("EVENT_CHECKPOINT_MINUTES", 60)

# Webhook receivers (SSRF guard, tickets/outbound.py): deliveries go only to
# public addresses; loopback, private, link-local and other internal ranges
# are refused when subscribing and again when sending. On-premises receivers
# need their networks listed: WEBHOOK_ALLOWED_NETWORKS="10.20.0.0/16,fd00::/64"
# (comma-separated CIDRs, empty by default). A malformed entry stops start-up.
import ipaddress as _ipaddress  # noqa: E402

BATON_WEBHOOK_ALLOWED_NETWORKS = env_list("WEBHOOK_ALLOWED_NETWORKS", [])
for _network in BATON_WEBHOOK_ALLOWED_NETWORKS:
    try:
        _ipaddress.ip_network(_network, strict=False)
    except ValueError as _error:
        raise ImproperlyConfigured(f"WEBHOOK_ALLOWED_NETWORKS: {_error}") from None
