"""Registrations racing for a merchant's last endpoint slot: exactly one gets it (the merchant's row
lock serializes the count), on real PostgreSQL connections in threads."""

from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from django.utils import timezone
from pytest_django.fixtures import SettingsWrapper

from loship.errors import ApplicationError
from tests.concurrency import run_at_once
from tests.orders.factories import make_merchant
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint


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
