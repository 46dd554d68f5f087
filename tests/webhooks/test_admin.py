"""Ops register a partner's endpoint in the admin and see its secret once, read the delivery log
(status, tries, latency, response code, error) and redeliver from it."""

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from orders.models import Order
from tests.factories import UserFactory
from tests.orders.factories import Menu
from tests.webhooks.conftest import the_delivery
from tests.webhooks.receivers import Receiver
from users.models import Role
from webhooks import sealing, services
from webhooks.models import DeliveryStatus, WebhookEndpoint

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_receivers")]


@pytest.fixture
def browser() -> Client:
    browser = Client()
    browser.force_login(UserFactory(roles=[Role.OPS], is_staff=True, is_superuser=True))
    return browser


def test_an_endpoint_added_in_the_admin_shows_its_secret_once(
    browser: Client, menu: Menu, receiver: Receiver
) -> None:
    added = browser.post(
        "/admin/webhooks/webhookendpoint/add/",
        {
            "merchant": menu.merchant.pk,
            "url": receiver.hook_url(),
            "events": ["order.placed"],
            "description": "",
        },
        follow=True,
    )

    endpoint = WebhookEndpoint.objects.get()
    secret = sealing.unseal(endpoint.sealed_secret)
    shown = [str(message) for message in get_messages(added.wsgi_request)]
    assert added.status_code == 200
    assert any(secret in message for message in shown)
    assert endpoint.events == ["order.placed"]
    page = browser.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/").content.decode()
    assert secret not in page and endpoint.sealed_secret not in page


def test_the_admin_refuses_a_private_target(browser: Client, menu: Menu, settings: Any) -> None:
    settings.WEBHOOKS_ALLOWED_NETWORKS = []

    refused = browser.post(
        "/admin/webhooks/webhookendpoint/add/",
        {"merchant": menu.merchant.pk, "url": "https://169.254.169.254/", "events": ["order.placed"]},
    )

    assert refused.status_code == 200 and "non-public" in refused.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_delivery_log_shows_the_answer_and_redelivers(
    browser: Client, register: Callable[..., Any], receiver: Receiver, place_order: Callable[[], Order]
) -> None:
    register(receiver.hook_url())
    delivery = the_delivery(place_order())
    receiver.mode = "error"
    services.deliver(delivery_id=delivery.pk, attempts_seen=0)

    log = browser.get("/admin/webhooks/webhookdelivery/").content.decode()
    browser.post(
        "/admin/webhooks/webhookdelivery/",
        {"action": "redeliver", "_selected_action": [delivery.pk]},
    )
    receiver.mode = "ok"
    delivery.refresh_from_db()
    services.deliver(delivery_id=delivery.pk, attempts_seen=delivery.attempts)

    assert "HTTP 500" in log and ">500<" in log
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == (DeliveryStatus.DELIVERED, 2, 200)
