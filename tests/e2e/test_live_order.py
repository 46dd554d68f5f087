"""End to end with real processes: uvicorn (HTTP + WebSocket), the outbox relay process, a Celery
worker and beat, the real Redis channel layer and real WebSocket clients.

The customer's socket receives every status of an order in order, each within a second of its
commit; a stranger is refused; a reconnect gets the snapshot; a worker killed in the middle of the
beat's relay sweep loses and doubles nothing (tests/e2e/test_relay_process.py kills the relay process
itself); a Redis restart loses no order and no event.
"""

import time
from collections.abc import Callable
from typing import Any

import pytest

from loship.events.models import OutboxEvent
from notifications.models import Notification
from orders.models import Order, OrderStatus
from orders.services import lifecycle
from tests.e2e.backlog import assert_each_stream_got_the_backlog_once, watched_orders_with_a_backlog
from tests.e2e.streams import StreamClient, api, connect_with_retry, order_stream_url, refusal_code
from tests.factories import UserFactory
from tests.orders.factories import cart_body, make_menu, make_staff
from tests.processes import CeleryWorker, LiveServer, RedisServer, wait_until
from users.models import Role

pytestmark = [pytest.mark.e2e]


def place_over_http(base_url: str, customer: Any, menu: Any, key: str) -> int:
    with api(base_url, customer) as client:
        response = client.post("/orders", json=cart_body(menu), headers={"Idempotency-Key": key})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def merchant_step(
    base_url: str, staff: Any, order_id: int, step: str, body: dict[str, Any] | None = None
) -> None:
    with api(base_url, staff) as client:
        response = client.post(f"/merchant/orders/{order_id}/{step}", json=body or {})
    assert response.status_code == 200, response.text


def test_customer_sees_every_status_in_order_within_a_second_of_its_commit(
    asgi_server: LiveServer, celery_worker: CeleryWorker
) -> None:
    menu = make_menu()
    staff = make_staff(menu.merchant)
    customer, stranger = UserFactory(), UserFactory()
    driver = UserFactory(roles=[Role.DRIVER])
    order_id = place_over_http(asgi_server.url, customer, menu, "e2e-1")

    stream = StreamClient(order_stream_url(asgi_server.ws_url, order_id, customer))
    _, snapshot = stream.next()
    assert (snapshot["type"], snapshot["status"], snapshot["sequence"]) == ("order.snapshot", "placed", 1)

    committed: list[float] = []
    steps: list[Callable[[], object]] = [
        lambda: merchant_step(asgi_server.url, staff, order_id, "accept", {"prep_minutes": 10}),
        lambda: lifecycle.assign_driver(order_id=order_id, driver=driver),
        lambda: lifecycle.mark_picked_up(order_id=order_id, driver=driver),
        lambda: lifecycle.mark_delivered(order_id=order_id, driver=driver),
    ]
    received = []
    for step in steps:
        committed.append(time.time())  # just before the change commits: latencies are over-estimated
        step()
        received += stream.order_events(1)

    kinds = [(m["type"], m["status"], m["sequence"]) for _, m in received]
    assert kinds == [
        ("order.accepted", "accepted", 2),
        ("order.driver_assigned", "accepted", 3),
        ("order.picked_up", "picked_up", 4),
        ("order.delivered", "delivered", 5),
    ]
    latencies = [arrived - commit for (arrived, _), commit in zip(received, committed, strict=True)]
    assert max(latencies) < 1.0, latencies
    time.sleep(0.5)
    assert not [m for m in stream.drain() if str(m.get("type")).startswith("order.")]  # nothing twice
    stream.close()

    # Another user's order stream is refused; no token is unauthenticated.
    assert refusal_code(order_stream_url(asgi_server.ws_url, order_id, stranger)) == 4403
    assert refusal_code(f"{asgi_server.ws_url}/ws/orders/{order_id}/") == 4401

    # A reconnecting client gets the latest state and the whole timeline.
    again = StreamClient(order_stream_url(asgi_server.ws_url, order_id, customer))
    _, snapshot = again.next()
    again.close()
    assert (snapshot["status"], snapshot["sequence"]) == ("delivered", 5)
    assert [step["kind"] for step in snapshot["order"]["timeline"]] == [
        "placed", "accepted", "driver_assigned", "picked_up", "delivered",
    ]  # fmt: skip

    # The relay also filled the customer's inbox (accepted, a driver assigned, picked up, delivered).
    def inbox() -> list[str]:
        with api(asgi_server.url, customer) as client:
            return [n["kind"] for n in client.get("/me/notifications").json()["results"]]

    assert wait_until(lambda: inbox() if len(inbox()) == 4 else None) == [
        "order.delivered", "order.picked_up", "order.driver_assigned", "order.accepted",
    ]  # fmt: skip


def test_worker_killed_mid_relay_the_sweep_delivers_nothing_lost_nothing_doubled(
    asgi_server: LiveServer,
    celery_worker_factory: Callable[..., CeleryWorker],
    celery_beat_factory: Callable[..., Any],
) -> None:
    streams, total = watched_orders_with_a_backlog(asgi_server.ws_url)

    # No relay process here: the beat sweep (every second) is the relay, run by the worker.
    celery_beat_factory(env={"OUTBOX_SWEEP_SECONDS": "1"})
    worker = celery_worker_factory(concurrency=1)
    wait_until(lambda: OutboxEvent.objects.filter(published_at__isnull=False).exists(), interval=0.005)
    worker.kill()  # kill -9 in the middle of the relay
    published_at_kill = OutboxEvent.objects.filter(published_at__isnull=False).count()
    assert published_at_kill < total, "the relay finished before the kill; the test needs more events"

    # A fresh worker and the next sweeps deliver the rest; the killed worker's own messages stay
    # unacknowledged in the broker.
    celery_worker_factory(concurrency=1)
    wait_until(lambda: not OutboxEvent.objects.filter(published_at__isnull=True).exists(), timeout=60)

    assert_each_stream_got_the_backlog_once(streams)
    # Notifications: one `accepted` per customer, one `new_order` per order for the staff member.
    wait_until(lambda: Notification.objects.count() == 60, timeout=30)
    assert Notification.objects.filter(kind="order.accepted").count() == 30
    assert Notification.objects.filter(kind="merchant.new_order").count() == 30


def test_redis_restart_orders_still_stored_events_go_out_when_it_returns_clients_reconnect(
    redis_server_factory: Callable[[], RedisServer],
    asgi_server_factory: Callable[..., LiveServer],
    celery_worker_factory: Callable[..., CeleryWorker],
    celery_beat_factory: Callable[..., Any],
) -> None:
    redis_server = redis_server_factory()
    redis_url = redis_server.url(0)
    fast = {"OUTBOX_SWEEP_SECONDS": "1", "OUTBOX_RETRY_MAX_SECONDS": "2"}
    server = asgi_server_factory(redis_url=redis_url, env=fast)
    celery_worker_factory(redis_url=redis_url, env=fast)
    celery_beat_factory(redis_url=redis_url, env=fast)
    menu = make_menu()
    staff = make_staff(menu.merchant)
    customer = UserFactory()

    first = place_over_http(server.url, customer, menu, "redis-1")
    url = order_stream_url(server.ws_url, first, customer)
    stream = StreamClient(url)
    assert stream.next()[1]["status"] == "placed"
    merchant_step(server.url, staff, first, "accept", {"prep_minutes": 10})
    assert stream.order_events(1)[0][1]["type"] == "order.accepted"

    redis_server.stop()
    # Orders are still placed and changed, and stored with their events.
    second = place_over_http(server.url, customer, menu, "redis-2")
    merchant_step(server.url, staff, first, "preparing")
    assert Order.objects.get(pk=first).status == OrderStatus.PREPARING
    assert OutboxEvent.objects.filter(aggregate_id=str(second), topic="order.placed").exists()
    stream.closed.wait(timeout=10)  # the server drops sockets it can no longer feed
    stream.close()

    redis_server.start()
    wait_until(lambda: not OutboxEvent.objects.filter(published_at__isnull=True).exists(), timeout=60)
    # The client reconnects and sees the latest state, then live changes again.
    stream, snapshot = connect_with_retry(url)
    assert (snapshot["status"], snapshot["sequence"]) == ("preparing", 3)
    merchant_step(server.url, staff, first, "ready")
    assert stream.order_events(1)[0][1]["type"] == "order.ready_for_pickup"
    stream.close()
    other, snapshot = connect_with_retry(order_stream_url(server.ws_url, second, customer))
    assert snapshot["status"] == "placed"
    other.close()
