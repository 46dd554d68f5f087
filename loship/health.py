"""Liveness and readiness probes for load balancers and orchestrators.

Readiness checks every Redis the process talks to (loship/redis_urls.py): the main one, the broker's
when it is a server of its own, and each channel-layer shard. A shard that is down loses the sockets
whose groups hash onto it, so an instance that cannot reach it is not ready."""

import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from loship.redis_client import redis_client_for
from loship.redis_urls import redis_roles

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


def _cache_ok() -> bool:
    try:
        return bool(cache._cache.get_client(write=True).ping())  # type: ignore[attr-defined]
    except Exception:
        logger.warning("readiness: Redis (cache) unreachable", exc_info=True)
        return False


def _redis_ok(name: str, url: str) -> bool:
    try:
        return bool(redis_client_for(url).ping())
    except Exception:
        logger.warning("readiness: Redis %s unreachable", name, exc_info=True)
        return False


def _channel_urls() -> list[str]:
    """The channel layer's servers as it is configured (a host is a URL or channels_redis' dict)."""
    layer: dict[str, Any] = settings.CHANNEL_LAYERS["default"]
    hosts: list[Any] = layer["CONFIG"]["hosts"]
    return [host if isinstance(host, str) else host["address"] for host in hosts]


def redis_checks() -> dict[str, bool]:
    """Each Redis by its role name (`redis`, `redis_broker`, `redis_channels_<i>`): does it answer."""
    roles = redis_roles(main=settings.REDIS_URL, broker=settings.BROKER_REDIS_URL, channels=_channel_urls())
    return {name: _cache_ok() if name == "redis" else _redis_ok(name, url) for name, url in roles.items()}


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when PostgreSQL and every Redis answer, 503 naming what is down otherwise."""
    checks = {"postgres": _postgres_ok(), **redis_checks()}
    ready = all(checks.values())
    return JsonResponse(
        {
            "status": "ok" if ready else "unavailable",
            "checks": {k: "ok" if v else "down" for k, v in checks.items()},
        },
        status=200 if ready else 503,
    )
