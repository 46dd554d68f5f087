"""Request ids: taken from `X-Request-ID` or made up, put on every log line and response, and carried
in the headers of every Celery task sent while handling the request, so the task's log lines carry it
too. The same Celery signals time each task's queue wait and run per queue.

The id is also kept on the request itself (`request.META[REQUEST_ID_META]`): Django logs a 4xx/5xx
answer (`django.request`) after the middleware has returned and unbound it, and such lines carry the
request, so the filter reads the id from there."""

import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import Any

from asgiref.sync import iscoroutinefunction
from celery.signals import before_task_publish, task_postrun, task_prerun, worker_process_shutdown
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import sync_and_async_middleware
from django_prometheus.conf import PROMETHEUS_LATENCY_BUCKETS
from prometheus_client import Counter, Histogram

from loship.metrics import TASK_QUEUE_WAIT_SECONDS, TASK_RUN_SECONDS, TASKS
from loship.metrics_fleet import retire_this_process, start_publisher

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
#: Where the request's id is kept on the request (not an HTTP_* key, so no header can set it).
REQUEST_ID_META = "loship.request_id"


def request_id_for(incoming: str) -> str:
    """The client's `X-Request-ID` if it is a sane one, else a new id."""
    return incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex


def _bind_request_id(request: HttpRequest) -> Token[str]:
    request_id = request_id_for(request.headers.get("X-Request-ID", ""))
    request.META[REQUEST_ID_META] = request_id
    return request_id_var.set(request_id)


@sync_and_async_middleware
def request_id_middleware(get_response: Callable[[HttpRequest], Any]) -> Callable[[HttpRequest], Any]:
    """Binds a request id for the duration of the request and echoes it in `X-Request-ID`.

    Built once per server process, so it also starts the process's metrics publisher.
    """
    start_publisher()
    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> HttpResponse:
            token = _bind_request_id(request)
            try:
                response: HttpResponse = await get_response(request)
                response["X-Request-ID"] = request_id_var.get()
                return response
            finally:
                request_id_var.reset(token)

        return async_middleware

    def middleware(request: HttpRequest) -> HttpResponse:
        token = _bind_request_id(request)
        try:
            response: HttpResponse = get_response(request)
            response["X-Request-ID"] = request_id_var.get()
            return response
        finally:
            request_id_var.reset(token)

    return middleware


# --- HTTP metrics: the series monitoring/ reads, under django-prometheus' names ----------------------

#: The methods named in the labels; anything else is one label.
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "OPTIONS", "CONNECT", "PATCH"})
HTTP_REQUESTS = Counter(
    "django_http_requests_total_by_view_transport_method",
    "Count of requests by view, transport, method.",
    ["view", "transport", "method"],
)
HTTP_RESPONSES = Counter(
    "django_http_responses_total_by_status_view_method",
    "Count of responses by status, view, method.",
    ["status", "view", "method"],
)
HTTP_LATENCY_SECONDS = Histogram(
    "django_http_requests_latency_seconds_by_view_method",
    "Histogram of request processing time labelled by view.",
    ["view", "method"],
    buckets=PROMETHEUS_LATENCY_BUCKETS,
)
HTTP_EXCEPTIONS_BY_TYPE = Counter(
    "django_http_exceptions_total_by_type", "Count of exceptions by object type.", ["type"]
)
HTTP_EXCEPTIONS_BY_VIEW = Counter(
    "django_http_exceptions_total_by_view", "Count of exceptions by view.", ["view"]
)


class HttpMetricsMiddleware:
    """Counts each request by view, transport and method, each response by status, view and method,
    and times it by view and method, around the whole middleware stack.

    These are the series of django-prometheus' before/after middleware pair that the dashboards and
    alerts read, with the same names and buckets; the pair also updated ten more per request (body
    sizes, charsets, the same counts by method alone and by transport alone) that nothing reads.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        method = request.method if request.method in _KNOWN_METHODS else "<invalid method>"
        match = request.resolver_match
        view = _view_name(request)
        if match is not None:
            HTTP_REQUESTS.labels(view, "https" if request.is_secure() else "http", method).inc()
        HTTP_RESPONSES.labels(str(response.status_code), view, method).inc()
        HTTP_LATENCY_SECONDS.labels(view, request.method).observe(time.perf_counter() - started)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        """An exception a view let through (Django then answers 500)."""
        HTTP_EXCEPTIONS_BY_TYPE.labels(type(exception).__name__).inc()
        if request.resolver_match is not None:
            HTTP_EXCEPTIONS_BY_VIEW.labels(_view_name(request)).inc()


def _view_name(request: HttpRequest) -> str:
    match = request.resolver_match
    return (match.view_name if match is not None else None) or "<unnamed view>"


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every log record: the id of the record's `request` if it has one, else
    the id bound to the current request or task."""

    def filter(self, record: logging.LogRecord) -> bool:
        meta = getattr(getattr(record, "request", None), "META", None)
        from_request = meta.get(REQUEST_ID_META) if isinstance(meta, dict) else None
        record.request_id = from_request or request_id_var.get()
        return True


# --- Celery: the request id and the queue timings travel in the task message's headers -----------

REQUEST_ID_HEADER = "loship_request_id"
PUBLISHED_AT_HEADER = "loship_published_at"


def _on_before_task_publish(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """Runs where a task is sent: stamps the current request id and the send time on the message."""
    if headers is None:
        return
    headers.setdefault(REQUEST_ID_HEADER, request_id_var.get())
    headers[PUBLISHED_AT_HEADER] = time.time()


def _queue_of(task: Any) -> str:
    delivery_info = getattr(task.request, "delivery_info", None) or {}
    return str(delivery_info.get("routing_key") or getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "default"))


def _on_task_prerun(task: Any = None, **_: Any) -> None:
    """Runs in the worker before a task: binds the request id that caused it, records its queue wait."""
    if task is None:
        return
    start_publisher()
    request = task.request
    incoming = request.get(REQUEST_ID_HEADER) or (request.get("headers") or {}).get(REQUEST_ID_HEADER)
    request_id = incoming if isinstance(incoming, str) and _VALID_REQUEST_ID.match(incoming) else None
    request_id_var.set(request_id or f"task-{request.id}")
    request._loship_started_at = time.time()
    published_at = request.get(PUBLISHED_AT_HEADER) or (request.get("headers") or {}).get(PUBLISHED_AT_HEADER)
    if isinstance(published_at, int | float):
        TASK_QUEUE_WAIT_SECONDS.labels(queue=_queue_of(task)).observe(max(0.0, time.time() - published_at))


def _on_task_postrun(task: Any = None, state: str | None = None, **_: Any) -> None:
    if task is None:
        return
    request = task.request
    started_at = getattr(request, "_loship_started_at", None)
    queue = _queue_of(task)
    if started_at is not None:
        TASK_RUN_SECONDS.labels(queue=queue).observe(time.time() - started_at)
    TASKS.labels(queue=queue, state=state or "UNKNOWN").inc()
    # The id stays bound until the next task starts, so Celery's "succeeded" line (logged after this
    # signal) still carries it.


def connect_celery_signals() -> None:
    """Hook the request id and task timings into Celery (idempotent; called from OpsConfig.ready)."""
    before_task_publish.connect(_on_before_task_publish, dispatch_uid="loship-request-id-publish")
    task_prerun.connect(_on_task_prerun, dispatch_uid="loship-request-id-prerun")
    task_postrun.connect(_on_task_postrun, dispatch_uid="loship-request-id-postrun")
    worker_process_shutdown.connect(_on_worker_process_shutdown, dispatch_uid="loship-metrics-final")


def _on_worker_process_shutdown(**_: Any) -> None:
    retire_this_process()
