"""Settings read from the environment (see README "Settings").

Defaults are embedded so `make run` needs nothing running: a PostgreSQL server from a wheel
(daylit/embedded_pg) and kombu's file-system broker, both under var/. DATABASE_URL and CELERY_BROKER_URL
point at any other PostgreSQL server and at Redis.
"""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from daylit.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("DAYLIT_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false")
    SECRET_KEY = "insecure-dev-key-only-for-local-runs-0123456789abcdefghijklmnopqrstuvwxyz"
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "daylit.apps.DaylitConfig",
    "events.apps.EventsConfig",
    "connections.apps.ConnectionsConfig",
    "sequences.apps.SequencesConfig",
    "enrollments.apps.EnrollmentsConfig",
    "outreach_queue.apps.OutreachQueueConfig",
]

MIDDLEWARE = [
    # First, so every later log line of the request carries its id.
    "daylit.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "daylit.urls"
WSGI_APPLICATION = "daylit.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASE_URL = env_str("DATABASE_URL")
EMBEDDED_POSTGRES_DIR = VAR_DIR / "postgres"
if DATABASE_URL:
    if not DATABASE_URL.startswith(("postgres://", "postgresql://")):
        raise ImproperlyConfigured("DATABASE_URL must be a postgres:// URL: PostgreSQL is the only database")
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "daylit.embedded_pg",
            "NAME": env_str("DAYLIT_DATABASE_NAME", "daylit"),
            "USER": "postgres",
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    }
# JIT off for the service's sessions: PostgreSQL compiles a statement whose estimated cost passes
# jit_above_cost, and this OLTP service's costly estimates are short statements over many rows (an
# event's payload for a batch of 5,000 rows: 32 ms of compiling in a 122 ms statement; the performance
# endpoint: 45-50 ms), where compiling cost more than it saved.
_db_options = DATABASES["default"].setdefault("OPTIONS", {})
_db_options["options"] = f"{_db_options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    # /healthz is probed over plain HTTP by load balancers and compose.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["daylit.authentication.HashedTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "daylit.schema.DaylitAutoSchema",
    "EXCEPTION_HANDLER": "daylit.errors.exception_handler",
    "DEFAULT_METADATA_CLASS": "daylit.api.metadata.DescriptionOnlyMetadata",
    "UNAUTHENTICATED_USER": None,
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%S.%fZ",
    # Rates come from API_THROTTLE_RATE / API_SEND_THROTTLE_RATE below (see daylit/throttling.py).
    "DEFAULT_THROTTLE_CLASSES": ["daylit.throttling.TokenRateThrottle", "daylit.throttling.SendRateThrottle"],
}
API_THROTTLE_RATE = env_str("API_THROTTLE_RATE", "1200/min")
API_SEND_THROTTLE_RATE = env_str("API_SEND_THROTTLE_RATE", "300/min")
# Throttle counters: per process by default; CACHE_URL (redis://...) shares them across web workers.
_CACHE_URL = env_str("CACHE_URL") or env_str("REDIS_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _CACHE_URL}
        if _CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "daylit"}
    )
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Daylit Sequences API",
    "DESCRIPTION": "Multi-step accounts-receivable outreach: sequences, enrollments and the outreach queue.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Every answer of every operation, with its body (daylit.schema).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "daylit.schema.document_every_answer",
    ],
    # Swagger UI assets ship in a package so /api/docs/ works with no network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a `status`; each choice set gets its own stable component name.
    "ENUM_NAME_OVERRIDES": {
        "InvoiceStatusEnum": "daylit.models.Invoice.Status",
        "EmailConnectionStatusEnum": "connections.models.EmailConnection.Status",
        "SequenceStatusEnum": "sequences.models.Sequence.Status",
        "EnrollmentStatusEnum": "enrollments.models.Enrollment.Status",
        "QueueRowStatusEnum": "enrollments.models.ScheduledStep.Status",
        "WebhookDeliveryStatusEnum": "events.models.WebhookDelivery.Status",
        "PromiseStatusEnum": "daylit.models.Promise.Status",
        "PromiseSourceEnum": "daylit.models.Promise.Source",
        "DisputeStatusEnum": "daylit.models.Dispute.Status",
        "DisputeReasonEnum": "daylit.models.Dispute.Reason",
        "DisputeResolutionEnum": "daylit.models.Dispute.Resolution",
    },
}

# Celery: the database row is the truth of every job; the broker only wakes a worker.
# The host names nothing for the file-system transport; without one kombu warns on every connection.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for sub in ("queue", "processed"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        # kombu's default is ./control, which left a folder in the checkout after `make run`
        "control_folder": str(_broker_dir / "control"),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes every database connection around every task unless this is set: a new
# PostgreSQL connection costs more than a webhook delivery (~30 ms against ~10). Tasks follow Django's
# request rules instead (daylit/celery.py): a connection lives CONN_MAX_AGE, one that failed is dropped.
CELERY_DB_REUSE_MAX = 1_000_000
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Django 6.0 default, now: a URL typed without a scheme in a form (admin) is https.
FORMS_URLFIELD_ASSUME_HTTPS = True

CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # Task names are fixed here so beat needs no database; each task is a few lines over a service.
    "promote-due-rows": {"task": "queue.promote_due", "schedule": 60.0},
    # SPEC: a pause with `until` ends "within about a minute" of it.
    "resume-paused-enrollments": {"task": "enrollments.resume_due", "schedule": 30.0},
    "reconcile-sending-rows": {"task": "queue.reconcile_sending", "schedule": 60.0},
    # Promises to pay: kept or broken within about a minute of their deadline (daylit.promises).
    "settle-promises": {"task": "daylit.settle_promises", "schedule": 60.0},
    "compact-status-counts": {"task": "queue.compact_status_counts", "schedule": 60.0},
    "sweep-webhook-deliveries": {"task": "connections.sweep_webhook_deliveries", "schedule": 60.0},
    "purge-oauth-states": {"task": "connections.purge_oauth_states", "schedule": 3600.0},
    # The webhook sweep: claims due deliveries, including those whose worker died (its claim expired).
    "dispatch-webhook-deliveries": {"task": "events.dispatch_deliveries", "schedule": 10.0},
    "purge-old-events": {"task": "events.purge_events", "schedule": 86400.0},
}
# Webhook delivery has its own queue and worker (Procfile `webhooks`): a slow or dead receiver holds
# only that worker's slots, never promotion or sending.
CELERY_TASK_ROUTES = {
    "events.dispatch_deliveries": {"queue": "webhooks"},
    "events.deliver_webhook": {"queue": "webhooks"},
}

# Outbound webhooks (events/targets.py, events/delivery/). Both ALLOW_* are for development and tests.
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", False)
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", False)
# At most this many deliveries of one endpoint are claimed at once (one while it is failing), so a
# backlog or a dead receiver cannot take every webhook worker.
WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT = env_int("WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT", 10)
if WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT < 1:
    raise ImproperlyConfigured("WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT must be at least 1")

# Nylas: without an API key, email goes to the local outbox transport (no network needed).
NYLAS_API_KEY = env_str("NYLAS_API_KEY")
NYLAS_API_URI = env_str("NYLAS_API_URI", "https://api.us.nylas.com")
NYLAS_CLIENT_ID = env_str("NYLAS_CLIENT_ID")
NYLAS_WEBHOOK_SECRET = env_str("NYLAS_WEBHOOK_SECRET")
NYLAS_TIMEOUT_SECONDS = env_int("NYLAS_TIMEOUT_SECONDS", 30)
NYLAS_CALLBACK_URL = env_str("NYLAS_CALLBACK_URL", "http://127.0.0.1:8000/api/nylas/callback")

# AI drafts from a step's `instructions` through an OpenAI-compatible API; no key, no generation.
AI_API_KEY = env_str("AI_API_KEY")
AI_BASE_URL = env_str("AI_BASE_URL", "https://api.openai.com/v1")
AI_MODEL = env_str("AI_MODEL", "gpt-4o-mini")
AI_TIMEOUT_SECONDS = env_int("AI_TIMEOUT_SECONDS", 30)
AI_MAX_ATTEMPTS = env_int("AI_MAX_ATTEMPTS", 3)

API_TOKEN_TOUCH_SECONDS = env_int("API_TOKEN_TOUCH_SECONDS", 60)

# Outreach queue: auto-send pacing per mailbox, and when a row left in `sending` counts as stuck.
AUTO_SEND_RATE_PER_MINUTE = env_int("AUTO_SEND_RATE_PER_MINUTE", 60)
AUTO_SEND_MAX_RETRIES = env_int("AUTO_SEND_MAX_RETRIES", 8)
# Rows per auto-send task (of one countdown): one read and one task's overhead shared by the batch, which
# a worker thread sends one after another; past AUTO_SEND_BATCH_SECONDS the rest goes to a new task
# (see docs/guarantees.md, "Sending at scale").
AUTO_SEND_BATCH_SIZE = env_int("AUTO_SEND_BATCH_SIZE", 10)
AUTO_SEND_BATCH_SECONDS = env_int("AUTO_SEND_BATCH_SECONDS", 5)
SENDING_STUCK_AFTER_SECONDS = env_int("SENDING_STUCK_AFTER_SECONDS", 300)
# The every-minute promotion shares a backlog with this many passes, its own and helper tasks on the
# workers (1 turns the helpers off; a web request always runs one pass), and a
# search of the upcoming or history tab switches plans when its name matches reach more than this many
# rows (planner estimate; see docs/queue.md).
QUEUE_PROMOTION_WORKERS = env_int("QUEUE_PROMOTION_WORKERS", 2)
QUEUE_NARROW_SEARCH_ROWS = env_int("QUEUE_NARROW_SEARCH_ROWS", 10_000)
NYLAS_IDEMPOTENCY_WINDOW_SECONDS = env_int("NYLAS_IDEMPOTENCY_WINDOW_SECONDS", 3600)

# JSON lines with the request id; secrets redacted on the handler, so every logger's records are cleaned.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "daylit.observability.RequestIdFilter"},
        "redact": {"()": "daylit.observability.RedactSecretsFilter"},
    },
    "formatters": {
        "json": {"()": "daylit.observability.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id", "redact"],
            "formatter": env_str("LOG_FORMAT", "json"),
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # It narrates every start and attach at INFO; its warnings and errors still show.
    "loggers": {
        "embedded_postgres": {"level": "WARNING"},
        # daylit.request writes one line per request with its status; django.request would repeat each
        # 4xx as a warning. Its errors (a 500's traceback) still show.
        "django.request": {"level": "ERROR"},
    },
}
