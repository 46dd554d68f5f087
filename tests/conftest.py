"""Shared fixtures: real PostgreSQL (pytest-django's test database) and real Redis (cleared per test)."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import UserFactory
from tests.processes import (  # noqa: F401  (real-process fixtures for e2e, fault and browser tests)
    _process_registry,
    asgi_server,
    asgi_server_factory,
    celery_beat,
    celery_beat_factory,
    celery_worker,
    celery_worker_factory,
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
