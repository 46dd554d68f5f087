"""Two middleware stacks in one WSGI process: the REST API and the probes through a short one, the
admin and everything else a browser opens through Django's full one (decision 9).

The API authenticates with a bearer token and renders JSON, so it has no use for sessions, messages,
the CSRF cookie or static files, and Django builds and runs every middleware in `MIDDLEWARE` for
every request. Django takes one middleware list per handler, so the process holds two handlers and
sends each request to one by its path.

The liveness probe is answered before either: see `LivenessReplay`.
"""

import gc
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.urls import resolve
from django.utils.http import http_date

from loship.observability import HTTP_LATENCY_SECONDS, HTTP_REQUESTS, HTTP_RESPONSES, request_id_for

#: Paths served by the API stack: the versioned API and the probes (`/metrics` included).
API_PREFIX = "/api/v1/"
PROBES = frozenset({"/healthz", "/readyz", "/metrics"})
LIVENESS = "/healthz"

StartResponse = Callable[..., Any]


def served_by_api_stack(path: str) -> bool:
    return path.startswith(API_PREFIX) or path in PROBES


class StackHandler(WSGIHandler):
    """Django's WSGI handler, built with the middleware list `middleware` instead of `MIDDLEWARE`."""

    def __init__(self, middleware: list[str]) -> None:
        self.middleware = middleware
        super().__init__()

    def load_middleware(self, is_async: bool = False) -> None:
        # Django reads the list from settings.MIDDLEWARE while it builds the chain, once per process at
        # start, before any request; it is swapped for that moment only.
        site_middleware = settings.MIDDLEWARE
        settings.MIDDLEWARE = self.middleware
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = site_middleware


@dataclass(frozen=True, slots=True)
class _Answer:
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    transport: str


#: What makes two probes get the same answer from the API stack, beside the path and method: the host
#: (allowed or not) and whether the request came over TLS (HSTS, the HTTPS redirect).
_SHAPE_KEYS = (
    "HTTP_HOST", "SERVER_NAME", "SERVER_PORT", "wsgi.url_scheme",
    "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PORT",
)  # fmt: skip
#: Headers that change the answer in ways a probe never asks for (CORS, language): such a request
#: goes through the stack every time.
_OTHER_INPUTS = ("HTTP_ORIGIN", "HTTP_ACCEPT_LANGUAGE", "HTTP_COOKIE")
#: Distinct request shapes remembered (a load balancer sends one or two).
_SHAPES_KEPT = 16


class LivenessReplay:
    """`GET /healthz` as load balancers and orchestrators send it, answered without Django's handler.

    The liveness answer is the same for every probe of one shape (host, scheme), so the first probe
    of a shape goes through the API stack and, if it is a 200, its status, headers and body are kept;
    later probes of that shape get them again with their own `X-Request-ID` and `Expires`, and are
    counted in the same HTTP metrics. Whatever the middleware adds (security headers, `Vary`,
    `Content-Language`) is therefore what the stack added; a redirect or a refused host is never kept.
    Anything unusual (another method, a query string, an Origin, Accept-Language or a cookie) goes
    through the stack. The stack costs a probe ten times what the probe's answer does.
    """

    def __init__(self, handler: WSGIHandler) -> None:
        self.handler = handler
        self.view = resolve(LIVENESS).view_name or "<unnamed view>"
        self.answers: dict[tuple[Any, ...], _Answer] = {}
        self.enabled = not settings.DISALLOWED_USER_AGENTS

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        usual = (
            self.enabled
            and environ.get("REQUEST_METHOD") == "GET"
            and not environ.get("QUERY_STRING")
            and not any(name in environ for name in _OTHER_INPUTS)
        )
        if not usual:
            return self.handler(environ, start_response)
        shape = tuple(environ.get(name) for name in _SHAPE_KEYS)
        answer = self.answers.get(shape)
        if answer is None:
            return self._through_stack(environ, start_response, shape)
        request_id = request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))
        start_response(
            answer.status, [*answer.headers, ("Expires", http_date()), ("X-Request-ID", request_id)]
        )
        HTTP_REQUESTS.labels(self.view, answer.transport, "GET").inc()
        HTTP_RESPONSES.labels(answer.status[:3], self.view, "GET").inc()
        HTTP_LATENCY_SECONDS.labels(self.view, "GET").observe(time.perf_counter() - started)
        return [answer.body]

    def _through_stack(
        self, environ: dict[str, Any], start_response: StartResponse, shape: tuple[Any, ...]
    ) -> Iterable[bytes]:
        seen: list[tuple[str, list[tuple[str, str]]]] = []

        def keep(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen.append((status, headers))
            return start_response(status, headers, exc_info)

        response = self.handler(environ, keep)
        try:
            body = b"".join(response)
        finally:
            getattr(response, "close", lambda: None)()
        status, headers = seen[-1]
        if status.startswith("200 ") and len(self.answers) < _SHAPES_KEPT:
            self.answers[shape] = _Answer(
                status=status,
                headers=[(name, value) for name, value in headers if name not in ("Expires", "X-Request-ID")],
                body=body,
                transport="https" if WSGIRequest(environ).is_secure() else "http",
            )
        return [body]


class PathDispatch:
    """A WSGI application that hands the liveness probe to `LivenessReplay`, API and probe paths to
    `api`, every other path to `site`."""

    def __init__(self, *, api: WSGIHandler, site: WSGIHandler) -> None:
        self.api = api
        self.site = site
        self.liveness = LivenessReplay(api)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == LIVENESS:
            return self.liveness(environ, start_response)
        handler = self.api if served_by_api_stack(path) else self.site
        return handler(environ, start_response)


def web_application() -> PathDispatch:
    """The `web` process's WSGI application (loship/wsgi.py), built after Django is set up."""
    return PathDispatch(api=StackHandler(settings.API_MIDDLEWARE), site=WSGIHandler())


def freeze_startup_heap() -> None:
    """Called by the ASGI and WSGI entry points once the application is loaded: what the process holds
    by then (Django, the apps, their modules) lives as long as it does, so it is moved out of the
    garbage collector's generations. A full collection then walks only what serving creates, instead
    of the whole loaded heap (about a tenth of a second each time here): in the `ws` process that took
    a fifth of the CPU of a driver's location message and most of its p99."""
    gc.freeze()
