from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from orders.models import Order
from tests.conftest import authenticated_client
from tests.orders.factories import Menu, cart_body, make_menu
from tests.orders.momo_provider import MomoProvider
from tests.orders.sandbox_provider import SandboxProvider


@pytest.fixture
def menu(db: None) -> Menu:
    return make_menu()


@pytest.fixture
def place(customer_client: APIClient, menu: Menu) -> Callable[..., Any]:
    """POST a cart as an order with a fresh Idempotency-Key; returns the response."""
    counter = iter(range(1, 10_000))

    def _place(client: APIClient | None = None, key: str | None = None, **overrides: Any) -> Any:
        return (client or customer_client).post(
            "/api/v1/orders",
            cart_body(menu, **overrides),
            format="json",
            HTTP_IDEMPOTENCY_KEY=key or f"key-{next(counter)}",
        )

    return _place


@pytest.fixture
def placed_order(place: Callable[..., Any]) -> Order:
    response = place()
    assert response.status_code == 201, response.json()
    return Order.objects.get(pk=response.json()["id"])


def client_for(user: Any) -> APIClient:
    return authenticated_client(user)


@pytest.fixture
def sandbox(settings: SettingsWrapper) -> Iterator[SandboxProvider]:
    """A local sandbox e-wallet provider, with the gateway client pointed at it."""
    provider = SandboxProvider().start()
    settings.PAYMENT_SANDBOX_URL = provider.url
    settings.PAYMENT_SANDBOX_API_KEY = provider.state.api_key
    settings.PAYMENT_SANDBOX_SECRET = provider.state.secret
    yield provider
    provider.stop()


@pytest.fixture
def momo(settings: SettingsWrapper) -> Iterator[MomoProvider]:
    """A local MoMo, with MoMo as the configured provider and the client pointed at it."""
    provider = MomoProvider().start()
    settings.PAYMENT_PROVIDER = "momo"
    settings.MOMO_ENDPOINT = provider.url
    settings.MOMO_PARTNER_CODE = provider.state.partner_code
    settings.MOMO_ACCESS_KEY = provider.state.access_key
    settings.MOMO_SECRET_KEY = provider.state.secret_key
    settings.MOMO_IPN_URL = "https://api.loship.example/api/v1/payments/momo/ipn"
    settings.MOMO_TIMEOUT_SECONDS = 2.0
    yield provider
    provider.stop()
