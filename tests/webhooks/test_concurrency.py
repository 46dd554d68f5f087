"""Races on real PostgreSQL connections in threads: registrations for a merchant's last endpoint slot
(the merchant's row lock serializes the count), sweeps over the same due deliveries, two senders of
one try (the row lock, skipped by the second)."""

from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from django.utils import timezone
from pytest_django.fixtures import SettingsWrapper

from loship.errors import ApplicationError
from loship.events.models import OutboxEvent
from tests.concurrency import run_at_once
from tests.orders.factories import make_merchant
from tests.webhooks.receivers import Receiver
from webhooks import services
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint


@pytest.mark.django_db(transaction=True)
def test_only_one_of_racing_registrations_takes_the_last_slot(settings: SettingsWrapper) -> None:
    settings.WEBHOOKS_MAX_ENDPOINTS_PER_MERCHANT = 2
    merchant = make_merchant()
    services.register_endpoint(
        merchant_id=merchant.pk, url="https://93.184.216.34/a", events=["order.placed"]
    )

    def register(index: int) -> Any:
        return services.register_endpoint(
            merchant_id=merchant.pk, url=f"https://93.184.216.34/{index}", events=["order.placed"]
        )

    results = run_at_once(4, register)

    made = [result for result in results if isinstance(result, tuple)]
    refused = [result for result in results if isinstance(result, ApplicationError)]
    assert len(made) == 1 and len(refused) == 3
    assert {error.code for error in refused} == {"webhook_limit_reached"}
    assert WebhookEndpoint.objects.filter(merchant=merchant).count() == 2


@pytest.mark.django_db(transaction=True)
def test_racing_sweeps_queue_each_due_delivery_once() -> None:
    merchant = make_merchant()
    endpoint, _ = services.register_endpoint(
        merchant_id=merchant.pk, url="https://93.184.216.34/a", events=["order.placed"]
    )
    past = timezone.now() - timedelta(seconds=1)
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint=endpoint,
            event_id=uuid4(),
            topic="order.placed",
            order_id=index,
            body="{}",
            next_attempt_at=past,
            give_up_at=past + timedelta(days=1),
        )
        for index in range(30)
    )

    queued = run_at_once(3, lambda _: services.queue_due())

    assert sum(queued) == 30


@pytest.mark.django_db(transaction=True)
def test_two_senders_of_the_same_try_post_it_once(
    local_receivers: SettingsWrapper, receiver: Receiver
) -> None:
    merchant = make_merchant()
    services.register_endpoint(merchant_id=merchant.pk, url=receiver.hook_url(), events=["order.placed"])
    event = OutboxEvent(
        event_id=uuid4(),
        topic="order.placed",
        aggregate_type="order",
        aggregate_id="7",
        payload={"order_id": 7, "merchant_id": merchant.pk, "payment_status": "unpaid"},
    )
    services.enqueue_event(event=event)
    delivery = WebhookDelivery.objects.get()

    outcomes = run_at_once(2, lambda _: services.deliver(delivery_id=delivery.pk, attempts_seen=0))

    # The second finds the row locked (in flight) or, if it came after, the try already made.
    assert set(outcomes) <= {DeliveryStatus.DELIVERED, services.IN_FLIGHT}
    assert receiver.count() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)
