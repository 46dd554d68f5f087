"""The whole path with real processes: an order placed through the API commits its outbox row, the
relay process writes the partner's delivery, a Celery worker POSTs it signed to a receiver on
127.0.0.1; a try the receiver drops is retried from the sweep that beat runs."""

from collections.abc import Callable

import pytest
from pytest_django.fixtures import SettingsWrapper

from tests.factories import UserFactory
from tests.orders.factories import Menu
from tests.processes import CeleryBeat, CeleryWorker, RelayProcess, wait_until
from tests.realtime.conftest import order_placer
from tests.webhooks.receivers import Receiver
from webhooks import services
from webhooks.models import DeliveryStatus, WebhookDelivery

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("local_receivers")]

PROCESS_ENV = {
    "WEBHOOKS_ALLOWED_NETWORKS": "127.0.0.0/8",
    "WEBHOOKS_RETRY_BASE_SECONDS": "0.5",
    "WEBHOOKS_SWEEP_SECONDS": "0.5",
    "WEBHOOKS_SEND_GRACE_SECONDS": "2",
}


def test_a_placed_order_reaches_the_partner_signed_and_a_dropped_try_is_retried(
    relay_process: RelayProcess,
    celery_worker_factory: Callable[..., CeleryWorker],
    celery_beat_factory: Callable[..., CeleryBeat],
    receiver: Receiver,
    menu: Menu,
    settings: SettingsWrapper,
) -> None:
    celery_worker_factory(queues="notifications", concurrency=1, env=PROCESS_ENV)
    celery_beat_factory(env=PROCESS_ENV)
    endpoint, receiver.secret = services.register_endpoint(
        merchant_id=menu.merchant.pk, url=receiver.hook_url(), events=["order.placed"]
    )
    place = order_placer(menu)

    first = place(UserFactory())
    wait_until(lambda: receiver.count() == 1, timeout=30)
    receiver.mode = "close"
    second = place(UserFactory())
    wait_until(lambda: receiver.count() == 2, timeout=30)
    receiver.mode = "ok"
    delivered = wait_until(
        lambda: WebhookDelivery.objects.filter(order_id=second.pk, status=DeliveryStatus.DELIVERED).first(),
        timeout=30,
    )

    assert [request.json["data"]["order_id"] for request in receiver.received] == [
        first.pk,
        second.pk,
        second.pk,
    ]
    assert all(request.verified for request in receiver.received)
    assert delivered.attempts == 2 and "RemoteProtocolError" not in delivered.last_error
    assert WebhookDelivery.objects.get(order_id=first.pk).status == DeliveryStatus.DELIVERED
