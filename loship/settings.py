"""The one settings module. Everything that differs between machines comes from the environment.

Defaults are safe for production (DEBUG off, secure cookies, HSTS); the dev launcher (`devtools`)
sets DEBUG=1 and points DATABASE_URL / REDIS_URL at the embedded servers when they are unset.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured

from loship.redis_urls import celery_redis_url, redis_py_url

# Lets generic admin/model classes be subscripted at run time, as django-stubs types them.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-" + "x" * 40

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
# Browsers (ops dashboard, web clients) may open WebSockets only from these origins; apps send none.
WEBSOCKET_ALLOWED_ORIGINS = env.list("WEBSOCKET_ALLOWED_ORIGINS", default=ALLOWED_HOSTS)
# Live streams send {"type": "heartbeat"} this often; a client may send {"type": "ping"} any time.
WEBSOCKET_HEARTBEAT_SECONDS = env.float("WEBSOCKET_HEARTBEAT_SECONDS", default=25.0)

INSTALLED_APPS = [
    "loship.admin_site.LoshipAdminConfig",  # django.contrib.admin, titled Loship
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_prometheus",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "channels",
    "django_celery_beat",
    # The relay calls an event's destinations in the order their apps subscribed, which is this order:
    # the live streams first; an offer's notification after the drivers app pushed the offer.
    "loship.events.apps.EventsConfig",
    "loship.idempotency.apps.IdempotencyConfig",
    "realtime.apps.RealtimeConfig",
    "users",
    "merchants",
    "orders",
    "drivers",
    "notifications.apps.NotificationsConfig",
    "chat.apps.ChatConfig",
    "webhooks.apps.WebhooksConfig",
    "research",
    "ops",
]

# Two stacks (loship/serving.py, decision 9). MIDDLEWARE serves the admin, the ops pages, static files,
# the API docs and any other path; API_MIDDLEWARE serves /api/v1/ and the probes, which need no session,
# messages, CSRF cookie or static files. Django's checks and its test client read MIDDLEWARE.
MIDDLEWARE = [
    "loship.observability.HttpMetricsMiddleware",
    "loship.observability.request_id_middleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "users.language.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "loship.db_router.pin_writers_middleware",
]
API_MIDDLEWARE = [
    "loship.observability.HttpMetricsMiddleware",
    "loship.observability.request_id_middleware",
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "loship.db_router.pin_writers_middleware",
]

ROOT_URLCONF = "loship.urls"
WSGI_APPLICATION = "loship.wsgi.application"
ASGI_APPLICATION = "loship.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "loship" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            "libraries": {"money": "loship.templatetags.money"},
        },
    },
]

# --- Data stores -------------------------------------------------------------------------------

if "DATABASE_URL" not in env:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Use `make run` / `make test`, which start an embedded PostgreSQL "
        "when it is unset, or export DATABASE_URL=postgres://user@host:5432/loship."
    )
DATABASES = {"default": env.db_url("DATABASE_URL")}
# django-prometheus' backend (query metrics) with a health check that costs no round trip (loship/postgres/).
DATABASES["default"]["ENGINE"] = "loship.postgres"
# Connections (README, "Serving and connections"). The Procfile's `web` line (gunicorn, sync workers: one
# request at a time on one thread per process) sets DB_CONN_MAX_AGE=60, so each worker keeps its
# connection, checked before reuse. The `ws` line sets it too: the streams' database work runs in the
# event loop's few long-lived worker threads, each keeping one connection; an HTTP request that reaches
# the ASGI app runs in a thread of its own, so loship/asgi.py closes its connection when it ends
# (Django ticket #33497). The default stays 0 for anything else.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int("DB_CONNECT_TIMEOUT", default=5)
# DB_POOLED=1 when DATABASE_URL points at PgBouncer in transaction pooling: a server connection belongs
# to the client only for one transaction, so no server-side cursors (a named cursor outlives it).
# Processes that need a session of their own (LISTEN, session-level advisory locks) connect directly.
DB_POOLED = env.bool("DB_POOLED", default=False)
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = DB_POOLED
# A streaming replica of the primary for the reads that may be a few seconds stale (loship/db_router.py):
# the `replica` alias exists only when DATABASE_REPLICA_URL is set. It shares the primary's connection
# settings, falls back to the primary when unreachable (loship/postgres/, retried after
# REPLICA_RETRY_SECONDS), and in tests mirrors the primary's test database (a standby is read-only).
# A user who wrote reads from the primary for REPLICA_PIN_SECONDS.
REPLICA_PIN_SECONDS = env.float("REPLICA_PIN_SECONDS", default=5.0)
REPLICA_RETRY_SECONDS = env.float("REPLICA_RETRY_SECONDS", default=10.0)
DATABASE_ROUTERS: list[str] = []
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {
        **DATABASES["default"],
        **env.db_url("DATABASE_REPLICA_URL"),
        "ENGINE": "loship.postgres",
        "OPTIONS": dict(DATABASES["default"]["OPTIONS"]),
        "FALLBACK": "default",
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["loship.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if not REDIS_URL:
    raise ImproperlyConfigured(
        "REDIS_URL is not set. Use `make run` / `make test`, which start an embedded Redis when "
        "it is unset, or export REDIS_URL=redis://host:6379/0."
    )

CACHES = {
    "default": {
        # Django's Redis cache, keeping its Redis client instead of building one per call (loship/cache.py).
        "BACKEND": "loship.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "loship",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

# The channel layer's Redis servers (comma-separated): channels_redis hashes each channel and group name
# onto one of them, so adding a server spreads the sockets' traffic (loship/redis_urls.py).
CHANNEL_REDIS_URLS = [
    url.strip() for url in env.str("CHANNEL_REDIS_URLS", default=REDIS_URL).split(",") if url.strip()
]

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "loship.channel_layer.RedisChannelLayer",
        "CONFIG": {
            "hosts": CHANNEL_REDIS_URLS,
            "prefix": "loship:asgi",
            "capacity": env.int("CHANNEL_CAPACITY", default=1000),
            "expiry": 30,
        },
    }
}

# --- Celery ------------------------------------------------------------------------------------

# The broker's Redis, in redis-py's spelling (ops/queues.py reads the queue lengths there); a Redis of
# its own in the scale profile, REDIS_URL by default.
BROKER_REDIS_URL = redis_py_url(env.str("CELERY_BROKER_URL", default=REDIS_URL))
CELERY_BROKER_URL = celery_redis_url(BROKER_REDIS_URL)
CELERY_RESULT_BACKEND = None
# One backend object for all threads: by default Celery builds one per thread, scanning every installed
# package's entry points each time, and under ASGI every request is a new thread (7 ms per enqueue).
CELERY_RESULT_BACKEND_THREAD_SAFE = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "drivers.tasks.*": {"queue": "dispatch"},
    "notifications.tasks.*": {"queue": "notifications"},
    "webhooks.tasks.*": {"queue": "notifications"},
}
# A task is acknowledged after it ran, so a killed worker's task is delivered again; every task is
# idempotent (docs/architecture.md, "The event path"). Long timers are database deadlines, never long
# countdowns.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "global_keyprefix": "loship:"}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The schedule in PostgreSQL, sent only by the beat holding the Redis lease (loship/beat.py).
CELERY_BEAT_SCHEDULER = "loship.beat:LockedDatabaseScheduler"
# Every task runs under a time limit: at the soft one SoftTimeLimitExceeded is raised in the task (its
# transaction rolls back), at the hard one the worker child is killed and replaced. Both stay far under
# the broker's visibility_timeout. The sweeps and the dispatch round work through batches, so they get
# longer limits (tests/platform/test_celery_tasks.py checks every task has both).
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
_SWEEP_LIMITS = {"soft_time_limit": 240, "time_limit": 300}
# Late acks stay on only for tasks whose re-run is harmless. A push or email (deliver) or an ops alert
# (check_headroom) sent just before the worker died would be sent again, so those are acknowledged on
# receipt: the deliveries sweep and the next beat tick pick up what a lost run left undone. (Late acks
# would not bring a killed worker's task back sooner anyway: Redis returns an unacknowledged message
# only after the visibility_timeout, an hour, which stays long so that countdowns and long sweeps are
# never delivered twice. A push whose worker was killed is sent by the sweep within seconds.)
_EARLY_ACK = {"acks_late": False}
CELERY_TASK_ANNOTATIONS = {
    "loship.events.tasks.relay_outbox": _SWEEP_LIMITS,
    "orders.tasks.sweep_deadlines": _SWEEP_LIMITS,
    "orders.tasks.release_scheduled_orders": _SWEEP_LIMITS,
    "orders.tasks.reconcile_gateway_payments": _SWEEP_LIMITS,
    "notifications.tasks.sweep_deliveries": _SWEEP_LIMITS,
    "webhooks.tasks.deliver": _EARLY_ACK,
    "drivers.tasks.dispatch_round": {"soft_time_limit": 120, "time_limit": 150},
    "notifications.tasks.deliver": _EARLY_ACK,
    "ops.tasks.check_headroom": _EARLY_ACK,
}
# The outbox relay (loship/events/relay.py): a destination that fails is retried after BASE, 2xBASE,
# 4xBASE... seconds (capped at MAX) and given up after MAX_ATTEMPTS passes. The relay process
# (`manage.py relay_outbox`) publishes on each commit's NOTIFY and polls every OUTBOX_RELAY_POLL_SECONDS;
# the beat catch-up sweep, the safety net when no relay process runs, every OUTBOX_SWEEP_SECONDS (then
# the latency of an event is up to that).
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=12)
OUTBOX_RETRY_BASE_SECONDS = env.float("OUTBOX_RETRY_BASE_SECONDS", default=1.0)
OUTBOX_RETRY_MAX_SECONDS = env.float("OUTBOX_RETRY_MAX_SECONDS", default=60.0)
OUTBOX_RELAY_POLL_SECONDS = env.float("OUTBOX_RELAY_POLL_SECONDS", default=1.0)
OUTBOX_SWEEP_SECONDS = env.float("OUTBOX_SWEEP_SECONDS", default=5.0)
# The beat interval of dispatch rounds (seconds), which the dispatch policy also plans around.
DISPATCH_ROUND_SECONDS = env.float("DISPATCH_ROUND_SECONDS", default=10.0)
# A push or email is sent by its task as its notification is written; one not tried within
# NOTIFICATIONS_SEND_GRACE_SECONDS (its message lost with Redis, its worker killed), and every retry that
# comes due, is sent by the deliveries sweep, run every NOTIFICATIONS_SWEEP_SECONDS.
NOTIFICATIONS_SEND_GRACE_SECONDS = env.float("NOTIFICATIONS_SEND_GRACE_SECONDS", default=5.0)
NOTIFICATIONS_SWEEP_SECONDS = env.float("NOTIFICATIONS_SWEEP_SECONDS", default=2.0)
# Periodic sweeps. Deadlines live in the database; these only look for what is due.
# Partner webhooks (webhooks/): a delivery is tried by a task after the relay writes it; the sweep
# queues those past their deadline (a retry, a lost first try) every WEBHOOKS_SWEEP_SECONDS.
WEBHOOKS_SWEEP_SECONDS = env.float("WEBHOOKS_SWEEP_SECONDS", default=5.0)
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "outbox-catch-up": {"task": "loship.events.tasks.relay_outbox", "schedule": OUTBOX_SWEEP_SECONDS},
    "orders-sweep-deadlines": {"task": "orders.tasks.sweep_deadlines", "schedule": 15.0},
    "notifications-sweep-deliveries": {
        "task": "notifications.tasks.sweep_deliveries",
        "schedule": NOTIFICATIONS_SWEEP_SECONDS,
    },
    "webhooks-queue-due": {"task": "webhooks.tasks.queue_due", "schedule": WEBHOOKS_SWEEP_SECONDS},
    "ops-check-headroom": {"task": "ops.tasks.check_headroom", "schedule": 30.0},
    "drivers-dispatch-round": {"task": "drivers.tasks.dispatch_round", "schedule": DISPATCH_ROUND_SECONDS},
    "drivers-expire-offers": {"task": "drivers.tasks.expire_offers", "schedule": 5.0},
    "drivers-save-positions": {"task": "drivers.tasks.save_positions", "schedule": 10.0},
    "drivers-sync-carrying": {"task": "drivers.tasks.sync_carrying", "schedule": 10.0},
    "orders-reconcile-payments": {
        "task": "orders.tasks.reconcile_gateway_payments",
        "schedule": env.float("PAYMENT_RECONCILE_SWEEP_SECONDS", default=60.0),
    },
    "orders-release-scheduled": {
        "task": "orders.tasks.release_scheduled_orders",
        "schedule": env.float("SCHEDULED_RELEASE_SWEEP_SECONDS", default=15.0),
    },
}
CELERY_TIMEZONE = "UTC"
# Workers log through LOGGING (JSON lines with the request id that caused the task), not Celery's format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Orders ------------------------------------------------------------------------------------

# A placed order the merchant has not answered within this many minutes is cancelled by the sweep.
MERCHANT_ACCEPT_MINUTES = env.int("MERCHANT_ACCEPT_MINUTES", default=5)
# A scheduled order's slot may be at most this many days ahead (slots are quarter hours; the merchant
# gets the order, by the beat sweep orders-release-scheduled, early enough to answer within
# MERCHANT_ACCEPT_MINUTES and cook it before the ride).
SCHEDULED_MAX_DAYS_AHEAD = env.int("SCHEDULED_MAX_DAYS_AHEAD", default=2)
# An e-wallet order not paid within this many minutes is cancelled by the sweep.
PAYMENT_EXPIRY_MINUTES = env.int("PAYMENT_EXPIRY_MINUTES", default=15)
# (up to metres, fee VND) tiers, then a fee per started km beyond the last tier.
ORDER_DELIVERY_FEE_TIERS = [(2000, 15000), (4000, 20000), (6000, 25000), (8000, 30000)]
ORDER_DELIVERY_FEE_PER_EXTRA_KM_VND = env.int("ORDER_DELIVERY_FEE_PER_EXTRA_KM_VND", default=5000)
ORDER_SMALL_ORDER_FEE_VND = env.int("ORDER_SMALL_ORDER_FEE_VND", default=10000)
ORDER_SERVICE_FEE_VND = env.int("ORDER_SERVICE_FEE_VND", default=3000)
ORDER_DRIVER_SPEED_KMH = env.int("ORDER_DRIVER_SPEED_KMH", default=20)
ORDER_ETA_BUFFER_MINUTES = env.int("ORDER_ETA_BUFFER_MINUTES", default=10)
# Tips: whole dong within these bounds, given at checkout or until this many hours after delivery.
TIP_MIN_VND = env.int("TIP_MIN_VND", default=1000)
TIP_MAX_VND = env.int("TIP_MAX_VND", default=500000)
TIP_WINDOW_HOURS = env.int("TIP_WINDOW_HOURS", default=24)
# Commission on a merchant's food sales, in basis points (2000 = 20%), for merchants without their own
# rate (`Merchant.commission_bps`); the rate in force at delivery is booked with the sale.
MERCHANT_COMMISSION_BPS = env.int("MERCHANT_COMMISSION_BPS", default=2000)
# E-wallet gateway (orders/gateways/). The sandbox provider speaks the protocol in orders/gateways/sandbox.py.
PAYMENT_SANDBOX_URL = env.str("PAYMENT_SANDBOX_URL", default="http://127.0.0.1:8900")
PAYMENT_SANDBOX_API_KEY = env.str("PAYMENT_SANDBOX_API_KEY", default="sandbox-key" if DEBUG else "")
PAYMENT_SANDBOX_SECRET = env.str("PAYMENT_SANDBOX_SECRET", default="sandbox-secret" if DEBUG else "")
PAYMENT_RETURN_URL = env.str("PAYMENT_RETURN_URL", default="loship://orders/{code}")
PAYMENT_GATEWAY_TIMEOUT_SECONDS = env.float("PAYMENT_GATEWAY_TIMEOUT_SECONDS", default=5.0)
# The provider new e-wallet payments are opened with: "sandbox" (the demo default) or "momo".
PAYMENT_PROVIDER = env.str("PAYMENT_PROVIDER", default="sandbox")
if PAYMENT_PROVIDER not in ("sandbox", "momo"):
    raise ImproperlyConfigured(f"PAYMENT_PROVIDER must be sandbox or momo, not {PAYMENT_PROVIDER!r}")
# MoMo (orders/gateways/momo.py): the partner's keys come from the environment only, never the repo.
# MOMO_ENDPOINT is https://test-payment.momo.vn for MoMo's test environment, https://payment.momo.vn
# for production. MOMO_IPN_URL is the public URL of /api/v1/payments/momo/ipn. MoMo asks callers to
# wait up to 30 s for its answers. A payment without its IPN after MOMO_QUERY_AFTER_SECONDS is asked
# for by the reconciliation sweep, for up to MOMO_QUERY_WINDOW_HOURS after it was opened.
MOMO_ENDPOINT = env.str("MOMO_ENDPOINT", default="https://test-payment.momo.vn")
MOMO_PARTNER_CODE = env.str("MOMO_PARTNER_CODE", default="")
MOMO_ACCESS_KEY = env.str("MOMO_ACCESS_KEY", default="")
MOMO_SECRET_KEY = env.str("MOMO_SECRET_KEY", default="")
MOMO_IPN_URL = env.str("MOMO_IPN_URL", default="")
MOMO_REQUEST_TYPE = env.str("MOMO_REQUEST_TYPE", default="captureWallet")
MOMO_TIMEOUT_SECONDS = env.float("MOMO_TIMEOUT_SECONDS", default=30.0)
MOMO_QUERY_AFTER_SECONDS = env.int("MOMO_QUERY_AFTER_SECONDS", default=120)
MOMO_QUERY_WINDOW_HOURS = env.int("MOMO_QUERY_WINDOW_HOURS", default=24)
if PAYMENT_PROVIDER == "momo" and not (
    MOMO_PARTNER_CODE and MOMO_ACCESS_KEY and MOMO_SECRET_KEY and MOMO_IPN_URL
):
    raise ImproperlyConfigured(
        "PAYMENT_PROVIDER=momo needs MOMO_PARTNER_CODE, MOMO_ACCESS_KEY, MOMO_SECRET_KEY and MOMO_IPN_URL"
    )

# --- Drivers and dispatch ------------------------------------------------------------------------

# An offer not answered within this many seconds expires (a database deadline swept by beat).
DRIVER_OFFER_SECONDS = env.int("DRIVER_OFFER_SECONDS", default=30)
# Live positions: saved to PostgreSQL at most this often per driver, pushed to the customers of the
# orders a driver carries at most this often, forgotten after this long without a fix.
DRIVER_POSITION_SAVE_SECONDS = env.float("DRIVER_POSITION_SAVE_SECONDS", default=30.0)
DRIVER_POSITION_PUSH_SECONDS = env.float("DRIVER_POSITION_PUSH_SECONDS", default=3.0)
DRIVER_POSITION_STALE_SECONDS = env.float("DRIVER_POSITION_STALE_SECONDS", default=120.0)
# A fix older than this (device time) is ignored; one more than this in the future is rejected.
DRIVER_FIX_MAX_AGE_SECONDS = env.float("DRIVER_FIX_MAX_AGE_SECONDS", default=120.0)
DRIVER_FIX_MAX_FUTURE_SECONDS = env.float("DRIVER_FIX_MAX_FUTURE_SECONDS", default=30.0)
# Earnings per delivered order: a base plus a rate per started km of road distance.
DRIVER_BASE_PAY_VND = env.int("DRIVER_BASE_PAY_VND", default=12000)
DRIVER_PAY_PER_KM_VND = env.int("DRIVER_PAY_PER_KM_VND", default=3000)
# A driver owing more cash on delivery than this gets no cash orders until they settle.
DRIVER_CASH_LIMIT_VND = env.int("DRIVER_CASH_LIMIT_VND", default=2000000)

# How old a count of the free drivers around a merchant may be when a quote or a placement promises a
# delivery time (drivers/promises.py; 0: counted afresh each time, as the test suite does).
PROMISE_SUPPLY_SECONDS = env.float("PROMISE_SUPPLY_SECONDS", default=5.0)
# When set, delivery needs the customer's 4-digit code; otherwise a code, if sent, must match.
DRIVER_DELIVERY_CODE_REQUIRED = env.bool("DRIVER_DELIVERY_CODE_REQUIRED", default=False)
# Dispatch: an order enters the pool this many minutes before its food is ready.
DISPATCH_LEAD_MINUTES = env.float("DISPATCH_LEAD_MINUTES", default=12.0)
# Search radius steps (m): one step wider every DISPATCH_WIDEN_SECONDS without a driver.
DISPATCH_RADIUS_STEPS_M = env.list("DISPATCH_RADIUS_STEPS_M", cast=int, default=[3000, 6000, 10000, 20000])
DISPATCH_WIDEN_SECONDS = env.int("DISPATCH_WIDEN_SECONDS", default=60)
# Ops are alerted (outbox event driver.not_found) when an order waits this long for a driver.
DISPATCH_OPS_ALERT_MINUTES = env.int("DISPATCH_OPS_ALERT_MINUTES", default=5)
# (DISPATCH_ROUND_SECONDS, the beat interval of dispatch rounds, is set beside the beat schedule.)
# A driver who declined or let an offer expire gets no new offer for this long.
DISPATCH_DECLINE_COOLDOWN_SECONDS = env.int("DISPATCH_DECLINE_COOLDOWN_SECONDS", default=60)

# --- Auth --------------------------------------------------------------------------------------

AUTH_USER_MODEL = "users.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if env.bool("FAST_PASSWORD_HASHING", default=False):
    # Tests and benchmarks only: PBKDF2 would dominate their timings. Never set in production.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=30)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

# The user behind an access token is cached this long (users/authentication.py): a change saved through
# the ORM applies on the next request, one made otherwise (a queryset update, SQL) within this time.
USER_CACHE_SECONDS = env.int("USER_CACHE_SECONDS", default=60)

# Login and registration attempts, per phone number and per client address.
AUTH_RATE_PER_PHONE = env.str("AUTH_RATE_PER_PHONE", default="5/min")
AUTH_RATE_PER_IP = env.str("AUTH_RATE_PER_IP", default="30/min")
# The number of proxies in front of the app whose X-Forwarded-For we trust for the client address.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
# Consecutive wrong passwords for one phone number that lock its logins, and for how long.
LOGIN_LOCKOUT_FAILURES = env.int("LOGIN_LOCKOUT_FAILURES", default=10)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15)

# --- API ---------------------------------------------------------------------------------------

# Request bodies (the JSON parser and forms alike): the largest legitimate one, a cart of 50 lines
# with every option and note filled, is about 110 KB; no admin form uploads files.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "users.authentication.CachedUserJWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["loship.parsers.LimitedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "loship.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "loship.api_schema.AutoSchema",
    "EXCEPTION_HANDLER": "loship.errors.exception_handler",
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_THROTTLE_RATES": {
        "auth_phone": AUTH_RATE_PER_PHONE,
        "auth_ip": AUTH_RATE_PER_IP,
    },
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

SPECTACULAR_SETTINGS = {
    "TITLE": "Loship API",
    "DESCRIPTION": "Food delivery in Vietnam: customers, merchants, drivers and operations.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "PaymentMethodEnum": "orders.models.PaymentMethod",
        "OrderStatusEnum": "orders.models.OrderStatus",
        "TipStatusEnum": "orders.models.TipStatus",
        "SettlementStatusEnum": "drivers.models.SettlementStatus",
        "SettlementMethodEnum": "drivers.models.SettlementMethod",
        "ChatRoleEnum": "chat.models.ChatRole",
    },
}

# --- Internationalisation ----------------------------------------------------------------------

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]
# The admin's texts (locale/vi/LC_MESSAGES/django.po; the compiled .mo is committed, so no gettext tools
# are needed to run). A signed-in admin user reads `User.language` (users/language.py); the language
# cookie, set by the admin's switcher, is scoped to the admin so the API keeps following Accept-Language.
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_PATH = "/admin/"
TIME_ZONE = "Asia/Ho_Chi_Minh"  # display; the database stores UTC
USE_I18N = True
USE_TZ = True

# --- Static files ------------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "media"))
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Production serves hashed files collected by `collectstatic`; dev and tests serve sources.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env.bool("STATIC_MANIFEST", default=not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not env.bool("STATIC_MANIFEST", default=not DEBUG)

# Uploaded photos (merchants/photos.py) go to MEDIA_ROOT, or to an S3-compatible bucket (AWS S3,
# MinIO, Cloudflare R2, DigitalOcean Spaces...) when MEDIA_S3_BUCKET is set. The keys come from the
# environment only; without them boto3 looks for an instance role. Photos are public: by default
# URLs are unsigned (a public-read bucket or a CDN in front, MEDIA_S3_CUSTOM_DOMAIN). Signed URLs
# (MEDIA_S3_SIGNED_URLS) must outlive the cached merchant page and list (merchants/cache.py).
MEDIA_S3_BUCKET = env.str("MEDIA_S3_BUCKET", default="")
if MEDIA_S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": MEDIA_S3_BUCKET,
            "endpoint_url": env.str("MEDIA_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("MEDIA_S3_REGION", default="") or None,
            "access_key": env.str("MEDIA_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("MEDIA_S3_SECRET_ACCESS_KEY", default="") or None,
            "custom_domain": env.str("MEDIA_S3_CUSTOM_DOMAIN", default="") or None,
            "url_protocol": env.str("MEDIA_S3_URL_PROTOCOL", default="https:"),
            "addressing_style": env.str("MEDIA_S3_ADDRESSING_STYLE", default="") or None,
            "querystring_auth": env.bool("MEDIA_S3_SIGNED_URLS", default=False),
            "querystring_expire": env.int("MEDIA_S3_SIGNED_URL_SECONDS", default=3600),
            "file_overwrite": False,
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }
# An upload's limits: the file's size, each side's length, and the pixel count that guards against
# decompression bombs (checked from the header, before any pixel is decoded).
PHOTO_MAX_BYTES = env.int("PHOTO_MAX_BYTES", default=8 * 1024 * 1024)
PHOTO_MIN_SIDE = env.int("PHOTO_MIN_SIDE", default=320)
PHOTO_MAX_SIDE = env.int("PHOTO_MAX_SIDE", default=10_000)
PHOTO_MAX_PIXELS = env.int("PHOTO_MAX_PIXELS", default=50_000_000)

# --- Email -------------------------------------------------------------------------------------

_email = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Loship <no-reply@loship.vn>")

# --- Notifications (notifications/) ------------------------------------------------------------

# Push through FCM HTTP v1; unset FCM_PROJECT_ID turns push off (attempts are recorded as skipped).
# Credentials: a service-account JSON file (OAuth2 token exchange) or a ready access token.
FCM_PROJECT_ID = env.str("FCM_PROJECT_ID", default="")
FCM_SERVICE_ACCOUNT_FILE = env.str("FCM_SERVICE_ACCOUNT_FILE", default="")
FCM_ACCESS_TOKEN = env.str("FCM_ACCESS_TOKEN", default="")
FCM_BASE_URL = env.str("FCM_BASE_URL", default="https://fcm.googleapis.com")
FCM_TOKEN_URL = env.str("FCM_TOKEN_URL", default="")  # default: the service account's token_uri
FCM_TIMEOUT_SECONDS = env.float("FCM_TIMEOUT_SECONDS", default=5.0)
# A push or email that keeps failing is retried with backoff (2, 4, 8... s up to the max), then given up.
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=6)
NOTIFICATIONS_RETRY_MAX_SECONDS = env.float("NOTIFICATIONS_RETRY_MAX_SECONDS", default=300.0)

# --- Order chat (chat/) --------------------------------------------------------------------------

# A message is 1 to CHAT_MAX_LENGTH characters; a sender may send CHAT_RATE_LIMIT_MESSAGES messages in
# any CHAT_RATE_LIMIT_SECONDS (over all their orders); a thread turns read-only this long after the
# order was delivered or closed.
CHAT_MAX_LENGTH = env.int("CHAT_MAX_LENGTH", default=1000)
CHAT_RATE_LIMIT_MESSAGES = env.int("CHAT_RATE_LIMIT_MESSAGES", default=20)
CHAT_RATE_LIMIT_SECONDS = env.int("CHAT_RATE_LIMIT_SECONDS", default=60)
CHAT_READ_ONLY_AFTER_SECONDS = env.int("CHAT_READ_ONLY_AFTER_SECONDS", default=3600)
# A socket's presence claim (loship/presence.py) runs out this long after its last renewal.
PRESENCE_SECONDS = env.float("PRESENCE_SECONDS", default=60.0)

# --- Security ----------------------------------------------------------------------------------

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers and Prometheus probe these over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Observability -----------------------------------------------------------------------------

# /metrics answers a bearer token (METRICS_TOKEN) or an address in these networks; anyone else: 403.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=[])
# Every process publishes its application metrics to Redis this often (0: only when it reads the
# fleet's), see loship/metrics_fleet.py; one silent for METRICS_STALE_SECONDS is taken for gone: its
# counters move to the retired totals and its gauges disappear. Keep it well above the publish interval.
METRICS_PUBLISH_SECONDS = env.float("METRICS_PUBLISH_SECONDS", default=5.0)
METRICS_STALE_SECONDS = env.float("METRICS_STALE_SECONDS", default=60.0)
# The headroom rule: warn under HEADROOM_TARGET x, alert at HEADROOM_ALERT_FRACTION of a measured limit.
HEADROOM_TARGET = env.float("HEADROOM_TARGET", default=10.0)
HEADROOM_ALERT_FRACTION = env.float("HEADROOM_ALERT_FRACTION", default=0.4)
HEADROOM_ORDERS_WINDOW_MINUTES = env.int("HEADROOM_ORDERS_WINDOW_MINUTES", default=5)
# Ops dashboard: an active order unchanged this long is "stuck"; an order past its ETA is "late".
OPS_STUCK_MINUTES = env.int("OPS_STUCK_MINUTES", default=15)

# Error tracking, off unless SENTRY_DSN is set: then Django's and Celery's errors go to Sentry, without
# personal data (no user ids, addresses, cookies or request bodies).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# Production logs JSON lines (UTC times, the request id, no credential: loship/logformat.py); a
# developer may prefer LOG_FORMAT=plain.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
# Also hands the servers' own loggers (uvicorn, gunicorn, daphne) to the handler below.
LOGGING_CONFIG = "loship.logformat.configure_logging"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "loship.observability.RequestIdFilter"},
        "redact_secrets": {"()": "loship.logformat.RedactSecretsFilter"},
    },
    "formatters": {
        "json": {
            "()": "loship.logformat.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "plain": {
            "()": "loship.logformat.PlainFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "redact_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "celery": {"level": LOG_LEVEL},
    },
}

# --- Partner webhooks ------------------------------------------------------------------------------

# A failed try is retried after BASE, 2xBASE, 4xBASE... seconds (capped at MAX, each with jitter) until
# WINDOW seconds after the event, then given up. A first try not sent within GRACE seconds (its task
# lost) is queued again by the sweep.
WEBHOOKS_RETRY_BASE_SECONDS = env.float("WEBHOOKS_RETRY_BASE_SECONDS", default=30.0)
WEBHOOKS_RETRY_MAX_SECONDS = env.float("WEBHOOKS_RETRY_MAX_SECONDS", default=3600.0)
WEBHOOKS_RETRY_WINDOW_SECONDS = env.float("WEBHOOKS_RETRY_WINDOW_SECONDS", default=24 * 3600.0)
WEBHOOKS_SEND_GRACE_SECONDS = env.float("WEBHOOKS_SEND_GRACE_SECONDS", default=30.0)
WEBHOOKS_CONNECT_TIMEOUT_SECONDS = env.float("WEBHOOKS_CONNECT_TIMEOUT_SECONDS", default=3.0)
WEBHOOKS_READ_TIMEOUT_SECONDS = env.float("WEBHOOKS_READ_TIMEOUT_SECONDS", default=10.0)
# An endpoint that failed this many tries in a row, over at least this long without one success, is
# disabled and its merchant told.
WEBHOOKS_DISABLE_AFTER_FAILURES = env.int("WEBHOOKS_DISABLE_AFTER_FAILURES", default=20)
WEBHOOKS_DISABLE_AFTER_SECONDS = env.float("WEBHOOKS_DISABLE_AFTER_SECONDS", default=24 * 3600.0)
WEBHOOKS_MAX_ENDPOINTS_PER_MERCHANT = env.int("WEBHOOKS_MAX_ENDPOINTS_PER_MERCHANT", default=5)
# Networks a webhook may reach although they are not public (CIDRs): tests and local development, whose
# receivers listen on 127.0.0.1. Empty in production: private, loopback and link-local are refused.
WEBHOOKS_ALLOWED_NETWORKS = env.list("WEBHOOKS_ALLOWED_NETWORKS", default=[])
# Fernet keys sealing the endpoints' signing secrets at rest, newest first (webhooks/sealing.py);
# empty: one derived from SECRET_KEY.
WEBHOOKS_SECRET_KEYS = env.list("WEBHOOKS_SECRET_KEYS", default=[])
