from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from loship.events.relay import publish_pending
from merchants.models import StaffMembership
from orders.models import Order
from tests.conftest import authenticated_client
from tests.factories import UserFactory
from tests.orders.factories import Menu, cart_body, make_menu
from tests.webhooks.receivers import Receiver, start_receiver
from users.models import Role
from webhooks.models import WebhookDelivery, WebhookEndpoint


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver, server = start_receiver()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def local_receivers(settings: SettingsWrapper) -> SettingsWrapper:
    """Let webhooks reach 127.0.0.1 (the allowlist production leaves empty), with short timeouts."""
    settings.WEBHOOKS_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.WEBHOOKS_CONNECT_TIMEOUT_SECONDS = 1.0
    settings.WEBHOOKS_READ_TIMEOUT_SECONDS = 0.5
    return settings


@pytest.fixture
def menu(db: None) -> Menu:
    return make_menu()


def staff_of(merchant: Any, role: str = StaffMembership.StaffRole.MANAGER) -> Any:
    user = UserFactory(roles=[Role.MERCHANT_STAFF])
    StaffMembership.objects.create(user=user, merchant=merchant, role=role)
    return user


@pytest.fixture
def manager(menu: Menu) -> Any:
    return staff_of(menu.merchant)


@pytest.fixture
def manager_client(manager: Any) -> APIClient:
    return authenticated_client(manager)


@pytest.fixture
def register(manager_client: APIClient, menu: Menu) -> Callable[..., tuple[WebhookEndpoint, str]]:
    """Register an endpoint through the API as the merchant's manager; returns it and its secret."""

    def _register(url: str, events: list[str] | None = None) -> tuple[WebhookEndpoint, str]:
        response = manager_client.post(
            f"/api/v1/merchant/merchants/{menu.merchant.pk}/webhooks",
            {"url": url, "events": events or ["order.placed", "order.accepted"]},
            format="json",
        )
        assert response.status_code == 201, response.json()
        return WebhookEndpoint.objects.get(pk=response.json()["id"]), response.json()["secret"]

    return _register


@pytest.fixture
def place_order(customer_client: APIClient, menu: Menu) -> Callable[[], Order]:
    """Place a cash order through the API and run the relay: its `order.placed` reaches the webhooks."""
    counter = iter(range(1, 1000))

    def _place() -> Order:
        response = customer_client.post(
            "/api/v1/orders", cart_body(menu), format="json", HTTP_IDEMPOTENCY_KEY=f"wh-{next(counter)}"
        )
        assert response.status_code == 201, response.json()
        publish_pending()
        return Order.objects.get(pk=response.json()["id"])

    return _place


def the_delivery(order: Order) -> WebhookDelivery:
    return WebhookDelivery.objects.get(order_id=order.pk)
