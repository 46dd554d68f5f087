"""Liveness and readiness probes for load balancers and orchestrators."""

import logging

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and answering."""
    return JsonResponse({"status": "ok"})


def _postgres_ok() -> bool:
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.warning("readiness: PostgreSQL unreachable", exc_info=True)
        connection.close_if_unusable_or_obsolete()
        return False


def _redis_ok() -> bool:
    try:
        return bool(cache._cache.get_client(write=True).ping())  # type: ignore[attr-defined]
    except Exception:
        logger.warning("readiness: Redis unreachable", exc_info=True)
        return False


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when PostgreSQL and Redis both answer, 503 naming what is down otherwise."""
    checks = {"postgres": _postgres_ok(), "redis": _redis_ok()}
    ready = all(checks.values())
    return JsonResponse(
        {
            "status": "ok" if ready else "unavailable",
            "checks": {k: "ok" if v else "down" for k, v in checks.items()},
        },
        status=200 if ready else 503,
    )
