"""Order events reach a partner's receiver signed, once per event, through retries with backoff; a
receiver that keeps failing gets its endpoint disabled and its merchant told; nothing is ever sent
to a private address. Every receiver here is a real HTTP server on 127.0.0.1."""

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.utils import timezone
from pytest_django.fixtures import SettingsWrapper

from loship.events.models import OutboxEvent
from notifications.models import Notification
from orders.models import Order
from tests.orders.factories import Menu
from tests.webhooks.conftest import staff_of, the_delivery
from tests.webhooks.receivers import Receiver
from webhooks import services
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_receivers")]

Register = Callable[..., tuple[WebhookEndpoint, str]]


def try_now(delivery: WebhookDelivery) -> WebhookDelivery:
    """The sweep's part for a delivery whose retry has come due, then its task's."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    services.queue_due()
    delivery.refresh_from_db()
    services.deliver(delivery_id=delivery.pk, attempts_seen=delivery.attempts)
    delivery.refresh_from_db()
    return delivery


def test_partner_receives_the_order_event_signed_and_verifies_it(
    receiver: Receiver, register: Register, place_order: Callable[[], Order]
) -> None:
    endpoint, secret = register(receiver.hook_url())
    receiver.secret = secret
    order = place_order()
    delivery = the_delivery(order)

    status = services.deliver(delivery_id=delivery.pk, attempts_seen=0)

    [request] = receiver.received
    event = OutboxEvent.objects.get(topic="order.placed", aggregate_id=str(order.pk))
    assert status == DeliveryStatus.DELIVERED
    assert request.verified
    assert request.json["id"] == str(event.event_id) == request.headers["Loship-Event-Id"]
    assert request.json["type"] == "order.placed" == request.headers["Loship-Event-Type"]
    assert request.json["sequence"] == order.version
    assert request.json["data"]["code"] == order.code and request.json["data"]["total_vnd"] == order.total_vnd
    assert "customer_id" not in request.json["data"]
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.response_code, delivery.last_error) == (1, 200, "")
    assert delivery.latency_ms is not None and delivery.delivered_at is not None


def test_a_task_for_a_try_already_made_sends_nothing(
    receiver: Receiver, register: Register, place_order: Callable[[], Order]
) -> None:
    register(receiver.hook_url())
    delivery = the_delivery(place_order())
    services.deliver(delivery_id=delivery.pk, attempts_seen=0)

    again = services.deliver(delivery_id=delivery.pk, attempts_seen=0)

    assert again == DeliveryStatus.DELIVERED
    assert receiver.count() == 1


def test_an_event_is_written_once_per_endpoint_however_often_the_relay_delivers_it(
    receiver: Receiver, register: Register, place_order: Callable[[], Order]
) -> None:
    register(receiver.hook_url())
    order = place_order()
    event = OutboxEvent.objects.get(topic="order.placed", aggregate_id=str(order.pk))

    written_again = services.enqueue_event(event=event)

    assert written_again == 0
    assert WebhookDelivery.objects.filter(event_id=event.event_id).count() == 1


def test_only_subscribed_events_of_the_endpoints_own_merchant_are_sent(
    receiver: Receiver, register: Register, place_order: Callable[[], Order]
) -> None:
    register(receiver.hook_url(), events=["order.delivered"])

    place_order()

    assert not WebhookDelivery.objects.exists()


def test_an_unpaid_e_wallet_order_is_not_the_partners_business(
    receiver: Receiver, register: Register, menu: Menu
) -> None:
    register(receiver.hook_url())
    event = OutboxEvent(
        event_id=uuid.uuid4(),
        topic="order.placed",
        aggregate_type="order",
        aggregate_id="1",
        payload={"order_id": 1, "merchant_id": menu.merchant.pk, "payment_status": "pending"},
    )

    assert services.enqueue_event(event=event) == 0


def test_a_slow_receiver_times_out_and_the_retry_delivers(
    receiver: Receiver, register: Register, place_order: Callable[[], Order]
) -> None:
    register(receiver.hook_url())
    delivery = the_delivery(place_order())
    receiver.mode = "slow"

    services.deliver(delivery_id=delivery.pk, attempts_seen=0)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.response_code is None and delivery.last_error.startswith("timeout")
    assert 500 <= (delivery.latency_ms or 0) < 1500  # the read timeout, 0.5 s, not the receiver's 2 s
    wait = (delivery.next_attempt_at - timezone.now()).total_seconds()  # type: ignore[operator]
    assert 30 / 2 - 1 <= wait <= 30  # the first backoff, 30 s with jitter
    receiver.mode = "ok"
    delivery = try_now(delivery)
    assert (delivery.status, delivery.attempts, delivery.response_code) == (DeliveryStatus.DELIVERED, 2, 200)


def test_a_receiver_that_closes_the_connection_is_retried(
    receiver: Receiver, register: Register, place_order: Callable[[], Order]
) -> None:
    register(receiver.hook_url())
    delivery = the_delivery(place_order())
    receiver.mode = "close"

    services.deliver(delivery_id=delivery.pk, attempts_seen=0)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.response_code is None
    assert "RemoteProtocolError" in delivery.last_error
    receiver.mode = "ok"
    assert try_now(delivery).status == DeliveryStatus.DELIVERED
    assert receiver.count() == 2


def test_a_redirect_is_not_followed(
    receiver: Receiver, register: Register, place_order: Callable[[], Order]
) -> None:
    register(receiver.hook_url())
    delivery = the_delivery(place_order())
    receiver.mode = "redirect"

    services.deliver(delivery_id=delivery.pk, attempts_seen=0)

    delivery.refresh_from_db()
    assert [request.path for request in receiver.received] == ["/hook"]
    assert (delivery.status, delivery.response_code) == (DeliveryStatus.PENDING, 302)
    assert delivery.last_error == "redirects are not followed"


def test_a_500_is_retried_with_growing_backoff_then_the_endpoint_is_disabled_and_the_merchant_told(
    receiver: Receiver,
    register: Register,
    place_order: Callable[[], Order],
    menu: Menu,
    manager: Any,
    settings: SettingsWrapper,
) -> None:
    settings.WEBHOOKS_DISABLE_AFTER_FAILURES = 4
    settings.WEBHOOKS_DISABLE_AFTER_SECONDS = 0
    plain_staff = staff_of(menu.merchant, role="staff")
    endpoint, _ = register(receiver.hook_url())
    delivery = the_delivery(place_order())
    receiver.mode = "error"

    waits = []
    services.deliver(delivery_id=delivery.pk, attempts_seen=0)
    for _ in range(3):
        delivery.refresh_from_db()
        waits.append((delivery.next_attempt_at - delivery.last_attempt_at).total_seconds())  # type: ignore[operator]
        delivery = try_now(delivery)

    for tries, wait in enumerate(waits, start=1):
        ceiling = 30 * 2 ** (tries - 1)  # 30, 60, 120 s, each drawn between half and all of it
        assert ceiling / 2 - 1 <= wait <= ceiling + 1, (tries, wait)
    assert (delivery.attempts, delivery.response_code) == (4, 500)
    assert "HTTP 500" in delivery.last_error
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.consecutive_failures == 4
    assert endpoint.disabled_reason == "4 failed deliveries in a row"
    notices = Notification.objects.filter(kind="merchant.webhook_disabled")
    assert [notice.user_id for notice in notices] == [manager.pk]
    assert receiver.url in notices[0].body
    assert not Notification.objects.filter(user=plain_staff, kind="merchant.webhook_disabled").exists()
    # Its pending deliveries are cancelled as senders reach them; nothing more is sent.
    assert try_now(delivery).status == DeliveryStatus.CANCELLED
    assert receiver.count() == 4


def test_failures_within_a_day_do_not_disable_the_endpoint(
    receiver: Receiver, register: Register, place_order: Callable[[], Order], settings: SettingsWrapper
) -> None:
    settings.WEBHOOKS_DISABLE_AFTER_FAILURES = 2
    endpoint, _ = register(receiver.hook_url())
    delivery = the_delivery(place_order())
    receiver.mode = "error"

    services.deliver(delivery_id=delivery.pk, attempts_seen=0)
    try_now(delivery)

    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.consecutive_failures == 2
    receiver.mode = "ok"
    try_now(delivery)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0 and endpoint.failing_since is None


def test_a_delivery_is_given_up_after_its_retry_window(
    receiver: Receiver, register: Register, place_order: Callable[[], Order]
) -> None:
    register(receiver.hook_url())
    delivery = the_delivery(place_order())
    receiver.mode = "error"
    services.deliver(delivery_id=delivery.pk, attempts_seen=0)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(give_up_at=timezone.now())

    delivery = try_now(delivery)

    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (DeliveryStatus.FAILED, 2, None)
    assert services.queue_due() == 0


def test_the_retry_window_is_24_hours_and_the_last_try_falls_on_its_end(
    receiver: Receiver, register: Register, place_order: Callable[[], Order]
) -> None:
    register(receiver.hook_url())
    delivery = the_delivery(place_order())
    assert abs((delivery.give_up_at - delivery.created_at) - timedelta(hours=24)) < timedelta(seconds=5)
    receiver.mode = "error"
    WebhookDelivery.objects.filter(pk=delivery.pk).update(give_up_at=timezone.now() + timedelta(seconds=5))

    services.deliver(delivery_id=delivery.pk, attempts_seen=0)

    delivery.refresh_from_db()
    assert delivery.next_attempt_at == delivery.give_up_at


def test_a_host_that_now_resolves_to_loopback_is_refused_at_delivery(
    receiver: Receiver, register: Register, place_order: Callable[[], Order], settings: SettingsWrapper
) -> None:
    """Registered while it was allowed; by the time of the send the check says no (as when a name's DNS
    is rebound to 127.0.0.1 after registration): nothing reaches the address."""
    register(receiver.hook_url(host="localhost"))
    delivery = the_delivery(place_order())
    settings.WEBHOOKS_ALLOWED_NETWORKS = []

    services.deliver(delivery_id=delivery.pk, attempts_seen=0)

    delivery.refresh_from_db()
    assert receiver.count() == 0
    assert delivery.status == DeliveryStatus.PENDING and delivery.response_code is None
    assert delivery.last_error.startswith("refused:") and "127.0.0.1" in delivery.last_error


def test_the_sweep_queues_a_due_delivery_once_until_its_grace_runs_out(
    receiver: Receiver, register: Register, place_order: Callable[[], Order]
) -> None:
    register(receiver.hook_url())
    delivery = the_delivery(place_order())
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )

    assert services.queue_due() == 1
    assert services.queue_due() == 0
    delivery.refresh_from_db()
    assert delivery.next_attempt_at > timezone.now()  # type: ignore[operator]


@pytest.mark.parametrize("attempts", [1, 2, 5, 12, 30])
def test_the_backoff_doubles_up_to_its_cap_with_jitter(attempts: int) -> None:
    ceiling = min(3600.0, 30.0 * 2 ** (attempts - 1))

    delays = [services.retry_delay(attempts) for _ in range(50)]

    assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
    assert len(set(delays)) > 1


def test_a_secret_no_configured_key_opens_fails_the_try_without_sending(
    receiver: Receiver, register: Register, place_order: Callable[[], Order], settings: SettingsWrapper
) -> None:
    register(receiver.hook_url())
    delivery = the_delivery(place_order())
    settings.WEBHOOKS_SECRET_KEYS = [Fernet.generate_key().decode()]  # the sealing key was replaced

    services.deliver(delivery_id=delivery.pk, attempts_seen=0)

    delivery.refresh_from_db()
    assert receiver.count() == 0
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert delivery.last_error == "the signing secret cannot be unsealed"
