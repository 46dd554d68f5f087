"""Builders for the drivers tests: drivers with a live position, orders waiting in the dispatch pool."""

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from drivers import services
from drivers.models import DispatchRequest
from orders import services as order_services
from orders.models import Order
from tests.conftest import authenticated_client
from tests.factories import UserFactory
from tests.orders.conftest import menu, place, sandbox  # noqa: F401  (fixtures reused from the orders tests)
from tests.orders.factories import MERCHANT_LAT, MERCHANT_LNG
from users.models import Role, User


def now_ms() -> int:
    return int(time.time() * 1000)


def fix(lat: Any, lng: Any, *, at_ms: int | None = None, **extra: Any) -> dict[str, Any]:
    return {"lat": float(lat), "lng": float(lng), "timestamp": at_ms or now_ms(), **extra}


def make_driver(*, lat: Any = MERCHANT_LAT, lng: Any = MERCHANT_LNG, online: bool = True) -> User:
    """A driver with a profile, online, whose live position is (lat, lng)."""
    user = UserFactory(roles=[Role.DRIVER])
    services.ensure_profile(user=user)
    if online:
        services.go_online(user=user)
    # A second in the past, so a fix the test sends next is newer even within the same millisecond.
    services.record_location_fixes(driver_id=user.pk, fixes=[fix(lat, lng, at_ms=now_ms() - 1_000)])
    return user


def offset(metres_north: float) -> Decimal:
    """The merchant's latitude moved north by about this many metres."""
    return MERCHANT_LAT + Decimal(str(round(metres_north / 111_195, 6)))


@pytest.fixture
def pooled_order(place: Callable[..., Any]) -> Callable[..., Order]:  # noqa: F811
    """Place an order, have the merchant accept it (and say it is ready), and put it in the pool."""

    def make(*, ready: bool = True, **overrides: Any) -> Order:
        response = place(**overrides)
        assert response.status_code == 201, response.json()
        order_id = response.json()["id"]
        order_services.accept_order(order_id=order_id, actor=None, prep_minutes=10)
        services.enter_pool(order_id=order_id)
        if ready:
            order_services.mark_ready(order_id=order_id, actor=None)
            services.mark_food_ready(order_id=order_id)
        assert DispatchRequest.objects.filter(pk=order_id, status="waiting").exists()
        return Order.objects.get(pk=order_id)

    return make


def client_for(user: User) -> APIClient:
    return authenticated_client(user)


def later(**delta: float) -> Any:
    return timezone.now() + timezone.timedelta(**delta)
