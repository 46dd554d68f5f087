"""The delivery attempt row in PostgreSQL, not the Celery message, is the durable copy of a push: a
message Redis lost, or a worker killed in the middle of the send, delays the push by seconds (the
sweep sends it once its deadline passes), and two sweeps at once send each attempt once.

Real processes for the faults (the relay, a Celery worker and beat, a private redis-server the test
restarts); pushes go to the local FCM-protocol server.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.utils import timezone

from notifications import services
from notifications.models import DeliveryAttempt, DeliveryStatus, Notification
from orders.services import lifecycle
from tests.concurrency import run_at_once
from tests.factories import DeviceFactory, UserFactory
from tests.notifications.servers import FakeFcm
from tests.orders.factories import make_menu
from tests.processes import CeleryWorker, RedisServer, RelayProcess, wait_until
from tests.realtime.conftest import order_placer

#: The broker's list for the `notifications` queue (settings: global_keyprefix "loship:").
NOTIFICATIONS_QUEUE_KEY = "loship:notifications"
#: Comfortably above the sweep's deadline (5 s) plus its interval (2 s) on a loaded machine; the
#: sweep this replaced took 60 to 90 s.
WITHIN_SECONDS = 20


def _accepted_order_notification(token: str) -> Notification:
    """A customer with one phone, whose order the merchant accepts; the relay writes the inbox row."""
    customer = UserFactory()
    DeviceFactory(user=customer, token=token)
    order = order_placer(make_menu())(customer)
    lifecycle.accept_order(order_id=order.pk, actor=None, prep_minutes=10)
    found: Notification = wait_until(
        lambda: Notification.objects.filter(user=customer, kind="order.accepted").first()
    )
    return found


def _pushes(fake: FakeFcm, notification: Notification) -> list[dict[str, Any]]:
    return [m for m in fake.messages if m["data"]["notification_id"] == str(notification.pk)]


def _sent(notification: Notification) -> DeliveryAttempt | None:
    """The notification's push attempt once it is recorded sent (just after FCM answered)."""
    return DeliveryAttempt.objects.filter(notification=notification, status=DeliveryStatus.SENT).first()


@pytest.mark.e2e
def test_a_push_whose_message_redis_lost_is_sent_within_seconds_of_the_restart(
    redis_server_factory: Callable[[], RedisServer],
    relay_process_factory: Callable[..., RelayProcess],
    celery_worker_factory: Callable[..., CeleryWorker],
    celery_beat_factory: Callable[..., Any],
    fake_fcm: FakeFcm,
) -> None:
    redis_server = redis_server_factory()
    redis_url = redis_server.url(0)
    relay_process_factory(redis_url=redis_url, env=fake_fcm.process_env)
    notification = _accepted_order_notification("customer-phone")
    broker = redis.Redis.from_url(redis_url)
    wait_until(lambda: broker.llen(NOTIFICATIONS_QUEUE_KEY) == 1)  # the send, queued by the relay

    redis_server.stop()
    redis_server.start()  # empty: the message is gone, no worker ever saw it
    assert broker.llen(NOTIFICATIONS_QUEUE_KEY) == 0
    celery_worker_factory(redis_url=redis_url, env=fake_fcm.process_env)
    celery_beat_factory(redis_url=redis_url, env=fake_fcm.process_env)

    attempt = wait_until(lambda: _sent(notification), timeout=WITHIN_SECONDS)
    assert attempt.attempts == 1
    assert len(_pushes(fake_fcm, notification)) == 1


@pytest.mark.e2e
def test_a_push_whose_worker_was_killed_mid_send_is_sent_within_seconds(
    relay_process_factory: Callable[..., RelayProcess],
    celery_worker_factory: Callable[..., CeleryWorker],
    celery_beat_factory: Callable[..., Any],
    fake_fcm: FakeFcm,
) -> None:
    relay_process_factory(env=fake_fcm.process_env)
    worker = celery_worker_factory(queues="notifications", concurrency=1, env=fake_fcm.process_env)
    celery_beat_factory(env=fake_fcm.process_env)
    notification = _accepted_order_notification("hold-phone")  # its first send hangs at FCM
    assert fake_fcm.holding.wait(timeout=60), "the worker never started the send"

    worker.kill()  # kill -9 mid-send: its message was taken off the queue, nothing acknowledged it
    celery_worker_factory(queues="notifications", concurrency=1, env=fake_fcm.process_env)

    attempt = wait_until(lambda: _sent(notification), timeout=WITHIN_SECONDS)
    # The killed send's transaction rolled back: the attempt that went through is the only one counted.
    assert attempt.attempts == 1
    assert len(_pushes(fake_fcm, notification)) == 1


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_send_each_due_attempt_once(fake_fcm: FakeFcm) -> None:
    customers = [UserFactory() for _ in range(12)]
    for index, customer in enumerate(customers):
        DeviceFactory(user=customer, token=f"phone-{index}")
        services.notify(user=customer, kind="order.picked_up", context={"code": f"LS{index}"})
    # Their tasks never ran (no worker): every first try is past its deadline.
    DeliveryAttempt.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))

    tried = run_at_once(2, lambda _: services.send_due())

    assert sum(tried) == 12
    assert sorted(m["token"] for m in fake_fcm.messages) == sorted(f"phone-{i}" for i in range(12))
    assert set(DeliveryAttempt.objects.values_list("status", "attempts")) == {(DeliveryStatus.SENT, 1)}
