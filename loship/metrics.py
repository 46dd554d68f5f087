"""The application's Prometheus metrics, in one place so every app increments the same objects.

Import the object and use the prometheus_client API (`WEBSOCKET_CONNECTIONS.labels(stream="ops").inc()`).
To add a metric, add it here. The HTTP series are counted by `loship.observability.HttpMetricsMiddleware`
(under django-prometheus' names) and the database ones by django-prometheus' backend; the collectors that
read the database and Redis at scrape time live in `ops/collectors.py`.

These objects live in `APP_REGISTRY`, not the global registry: the process that serves `/metrics` adds up
the values of every web, ASGI and Celery worker process (each publishes a snapshot to Redis, see
`loship/metrics_fleet.py`), so a counter incremented in a Celery worker shows up on the scrape, and
stays there after that worker exits.
"""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

APP_REGISTRY = CollectorRegistry(auto_describe=True)

# Latency buckets in seconds, from a cache hit to a slow dispatch round.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)

WEBSOCKET_CONNECTIONS = Gauge(
    "loship_websocket_connections",
    "Open WebSocket connections by stream (customer, merchant, driver, ops).",
    ["stream"],
    registry=APP_REGISTRY,
)
LOCATION_FIXES = Counter(
    "loship_location_fixes",
    "Driver location fixes received, by outcome (accepted, rejected, throttled, ...).",
    ["outcome"],
    registry=APP_REGISTRY,
)
DISPATCH_ROUND_SECONDS = Histogram(
    "loship_dispatch_round_seconds",
    "Wall time of one dispatch round (matching drivers to waiting orders).",
    buckets=_LATENCY_BUCKETS,
    registry=APP_REGISTRY,
)
DISPATCH_LATENCY_SECONDS = Histogram(
    "loship_dispatch_latency_seconds",
    "Time from an order becoming ready for dispatch to a driver accepting it.",
    buckets=(1, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800),
    registry=APP_REGISTRY,
)
OFFERS = Counter(
    "loship_offers",
    "Offers made to drivers, by outcome (created, accepted, declined, expired, ...).",
    ["outcome"],
    registry=APP_REGISTRY,
)
OUTBOX_PUBLISHED = Counter(
    "loship_outbox_published",
    "Outbox events handed to their subscribers by the relay.",
    registry=APP_REGISTRY,
)
NOTIFICATIONS_SENT = Counter(
    "loship_notifications_sent",
    "Notifications sent, by channel (inbox, push, email) and outcome (sent, failed, skipped).",
    ["channel", "outcome"],
    registry=APP_REGISTRY,
)
PUSH_LATENCY_SECONDS = Histogram(
    "loship_push_latency_seconds",
    "Time from an outbox event's creation to its push into a Channels group.",
    buckets=_LATENCY_BUCKETS,
    registry=APP_REGISTRY,
)
TASK_QUEUE_WAIT_SECONDS = Histogram(
    "loship_celery_task_queue_wait_seconds",
    "Time a Celery task waited in its queue between publish and start, by queue.",
    ["queue"],
    buckets=_LATENCY_BUCKETS,
    registry=APP_REGISTRY,
)
TASK_RUN_SECONDS = Histogram(
    "loship_celery_task_run_seconds",
    "Run time of Celery tasks by queue.",
    ["queue"],
    buckets=_LATENCY_BUCKETS,
    registry=APP_REGISTRY,
)
TASKS = Counter(
    "loship_celery_tasks",
    "Celery tasks finished, by queue and state (SUCCESS, FAILURE, RETRY).",
    ["queue", "state"],
    registry=APP_REGISTRY,
)
HEADROOM_ALERTS = Counter(
    "loship_headroom_alerts",
    "Headroom alerts raised (load above 40% of a measured limit), by load figure.",
    ["figure"],
    registry=APP_REGISTRY,
)
