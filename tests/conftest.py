"""Shared fixtures: real PostgreSQL (pytest-django's test database) and real Redis (cleared per test)."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.tokens import RefreshToken

from drivers import location
from tests.factories import UserFactory
from tests.processes import (  # noqa: F401  (real-process fixtures for e2e, fault and browser tests)
    _process_registry,
    asgi_server,
    asgi_server_factory,
    celery_beat,
    celery_beat_factory,
    celery_worker,
    celery_worker_factory,
    free_port,
    redis_server_factory,
    relay_process,
    relay_process_factory,
)


@pytest.fixture(autouse=True)
def _clean_redis() -> Iterator[None]:
    """Each test starts with an empty cache (throttle counters, cached menus) in the test Redis DB."""
    cache.clear()
    yield


@pytest.fixture
def cut_redis(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Call it to make Redis unreachable for this process from then on: the cache and the drivers'
    live-position client point at a port nobody listens on. (The Celery broker stays; the tests with
    real processes stop a private redis-server to take it away too.)"""

    def cut() -> None:
        url = f"redis://127.0.0.1:{free_port()}/0"
        settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": url}}
        monkeypatch.setattr(location, "_client", redis.Redis.from_url(url, socket_connect_timeout=1))
        monkeypatch.setattr(location, "_script", None)  # registered on the client it was made with

    return cut


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def authenticated_client(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def customer(db: None) -> Any:
    return UserFactory()


@pytest.fixture
def customer_client(customer: Any) -> APIClient:
    return authenticated_client(customer)


@pytest.fixture
def throttle_rates(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Set throttle rates for one test, e.g. `throttle_rates(auth_phone="3/min")`."""

    def set_rates(**rates: str) -> None:
        monkeypatch.setattr(
            SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES, **rates}
        )

    return set_rates
