"""The outbox relay process (`manage.py relay_outbox`) against real PostgreSQL: it publishes an event
within a second of its commit with no Celery worker running, keeps each order's events in order with
two relays at work, loses and doubles nothing when one is killed mid-stream, and the beat sweep still
publishes when no relay process runs."""

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from loship.events.models import OutboxEvent
from loship.events.services import record_event
from notifications.models import Notification
from orders.services import lifecycle
from tests.e2e.backlog import assert_each_stream_got_the_backlog_once, watched_orders_with_a_backlog
from tests.e2e.streams import StreamClient, order_stream_url
from tests.factories import UserFactory
from tests.orders.factories import make_menu, make_staff
from tests.processes import CeleryBeat, CeleryWorker, LiveServer, RelayProcess, wait_until
from tests.realtime.conftest import order_placer

pytestmark = [pytest.mark.e2e]

STEPS: list[tuple[Callable[..., Any], dict[str, Any], str]] = [
    (lifecycle.accept_order, {"actor": None, "prep_minutes": 10}, "order.accepted"),
    (lifecycle.mark_preparing, {"actor": None}, "order.preparing"),
    (lifecycle.mark_ready, {"actor": None}, "order.ready_for_pickup"),
]


def published(event: OutboxEvent) -> bool:
    return OutboxEvent.objects.filter(pk=event.pk, published_at__isnull=False).exists()


def test_a_committed_event_is_published_within_a_second_without_any_worker(
    relay_process: RelayProcess,
) -> None:
    for n in range(5):
        with transaction.atomic():
            event = record_event(topic="test.ping", aggregate_type="test", aggregate_id=n, payload={})
        committed = time.monotonic()
        wait_until(lambda event=event: published(event), timeout=5, interval=0.005)
        assert time.monotonic() - committed < 1.0

    # A placement (its outbox row goes in placement's one write batch) wakes it too, and the relay
    # itself writes the merchant staff's inbox row: no task involved.
    menu = make_menu()
    staff = make_staff(menu.merchant)
    order = order_placer(menu)(UserFactory())
    placed = time.monotonic()
    wait_until(lambda: Notification.objects.filter(user=staff, data__order_id=order.pk).exists(), timeout=5)
    assert time.monotonic() - placed < 1.0


def test_two_relays_keep_each_orders_events_in_order_while_orders_keep_changing(
    asgi_server: LiveServer, relay_process_factory: Callable[..., RelayProcess]
) -> None:
    relay_process_factory()
    relay_process_factory()
    menu = make_menu()
    place = order_placer(menu)
    customers = [UserFactory() for _ in range(12)]
    orders = [place(customer) for customer in customers]
    streams = [
        StreamClient(order_stream_url(asgi_server.ws_url, o.pk, c))
        for o, c in zip(orders, customers, strict=True)
    ]
    for stream in streams:
        assert stream.next()[1]["sequence"] == 1
    # Changes commit one after another, interleaved across orders, while both relays publish.
    for step, kwargs, _ in STEPS:
        for order in orders:
            step(order_id=order.pk, **kwargs)

    assert_each_stream_got_the_backlog_once(streams)
    assert not OutboxEvent.objects.filter(published_at__isnull=True).exists()


def test_a_relay_killed_mid_stream_loses_nothing_and_doubles_nothing(
    asgi_server: LiveServer, relay_process_factory: Callable[..., RelayProcess]
) -> None:
    streams, total = watched_orders_with_a_backlog(asgi_server.ws_url)

    relay = relay_process_factory()
    wait_until(lambda: OutboxEvent.objects.filter(published_at__isnull=False).exists(), interval=0.005)
    relay.kill()  # kill -9 in the middle of the stream
    published_at_kill = OutboxEvent.objects.filter(published_at__isnull=False).count()
    assert published_at_kill < total, "the relay finished before the kill; the test needs more events"

    relay_process_factory()  # a fresh relay publishes the rest, from where the killed one stopped
    wait_until(lambda: not OutboxEvent.objects.filter(published_at__isnull=True).exists(), timeout=60)

    assert_each_stream_got_the_backlog_once(streams)
    # Notifications: one `accepted` per customer, one `new_order` per order for the staff member.
    assert Notification.objects.filter(kind="order.accepted").count() == 30
    assert Notification.objects.filter(kind="merchant.new_order").count() == 30
    assert Notification.objects.count() == 60


def test_with_no_relay_process_the_beat_sweep_still_publishes(
    celery_worker_factory: Callable[..., CeleryWorker], celery_beat_factory: Callable[..., CeleryBeat]
) -> None:
    celery_worker_factory()
    celery_beat_factory(env={"OUTBOX_SWEEP_SECONDS": "1"})
    with transaction.atomic():
        event = record_event(topic="test.ping", aggregate_type="test", aggregate_id=1, payload={})
    wait_until(lambda: published(event), timeout=20)
