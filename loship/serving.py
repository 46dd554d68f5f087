"""Two middleware stacks in one WSGI process: the REST API and the probes through a short one, the
admin and everything else a browser opens through Django's full one (decision 9).

The API authenticates with a bearer token and renders JSON, so it has no use for sessions, messages,
the CSRF cookie or static files, and Django builds and runs every middleware in `MIDDLEWARE` for
every request. Django takes one middleware list per handler, so the process holds two handlers and
sends each request to one by its path.
"""

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

#: Paths served by the API stack: the versioned API and the probes (`/metrics` included).
API_PREFIX = "/api/v1/"
PROBES = frozenset({"/healthz", "/readyz", "/metrics"})

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


class PathDispatch:
    """A WSGI application that hands API and probe paths to `api`, every other path to `site`."""

    def __init__(self, *, api: WSGIHandler, site: WSGIHandler) -> None:
        self.api = api
        self.site = site

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        handler = self.api if served_by_api_stack(environ.get("PATH_INFO", "")) else self.site
        return handler(environ, start_response)
