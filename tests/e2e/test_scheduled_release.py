"""Scheduled orders are released by the beat sweep exactly once, whatever happens to the workers around
release time: a worker killed with kill -9 in the middle of a release commits nothing and the next
sweep releases the order, and workers killed and restarted while orders come due neither lose nor
double a release. Real Celery worker and beat processes against the test database."""

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from loship.events.models import OutboxEvent
from merchants.selectors import LOCAL_TZ
from orders.models import Order, OrderEvent, OrderStatus
from orders.services import Cart, CartLine, place_order
from orders.tasks import release_scheduled_orders
from tests.factories import UserFactory
from tests.orders.factories import NEAR_LAT, NEAR_LNG, Menu, make_menu
from tests.processes import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

#: The beat process sweeps for due orders this often in these tests.
SWEEP_ENV = {"SCHEDULED_RELEASE_SWEEP_SECONDS": "1"}


def scheduled_order(menu: Menu) -> Order:
    """A cash order for a slot three hours ahead, placed through the service (so priced and checked)."""
    local = (timezone.now() + timedelta(hours=3)).astimezone(LOCAL_TZ)
    slot = local.replace(minute=local.minute - local.minute % 15, second=0, microsecond=0)
    customer = UserFactory()
    cart = Cart(
        merchant_id=menu.merchant.pk,
        lines=(CartLine(item_id=menu.tea.pk, quantity=5),),
        delivery_lat=NEAR_LAT,
        delivery_lng=NEAR_LNG,
        delivery_address="20 Hai Bà Trưng",
        scheduled_for=slot,
    )
    placement = place_order(customer=customer, cart=cart, idempotency_key=f"e2e-{customer.pk}", body_hash="h")
    order = placement.order
    assert order.status == OrderStatus.SCHEDULED
    return order


def releases(order_ids: list[int]) -> dict[int, int]:
    """How many times each order was released (its history rows scheduled -> placed)."""
    counts = dict.fromkeys(order_ids, 0)
    for order_id in OrderEvent.objects.filter(
        order_id__in=order_ids, kind="placed", from_status="scheduled"
    ).values_list("order_id", flat=True):
        counts[order_id] += 1
    return counts


def announced(order_ids: list[int]) -> dict[int, int]:
    """How many `order.placed` outbox events each order has (the merchant hears of it once)."""
    counts = dict.fromkeys(order_ids, 0)
    for order_id in OutboxEvent.objects.filter(aggregate_id__in=order_ids, topic="order.placed").values_list(
        "aggregate_id", flat=True
    ):
        counts[int(order_id)] += 1
    return counts


def _release_blocked() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query ILIKE %s",
            ["%orders_orderevent%"],
        )
        (count,) = cursor.fetchone()
    return bool(count)


def test_a_worker_killed_mid_release_commits_nothing_and_the_next_sweep_releases_the_order_once(
    celery_worker_factory: Callable[..., Any], celery_beat_factory: Callable[..., Any]
) -> None:
    order = scheduled_order(make_menu())
    Order.objects.filter(pk=order.pk).update(release_at=timezone.now())
    holding, let_go = threading.Event(), threading.Event()

    def hold_the_next_history_row() -> None:
        # The release writes the order's next history row; holding that (order, version) uncommitted
        # makes the worker's release wait inside its transaction, after it changed the order's state.
        with transaction.atomic():
            OrderEvent.objects.create(
                order_id=order.pk,
                version=order.version + 1,
                kind="placed",
                from_status="scheduled",
                to_status="placed",
                actor_role="system",
            )
            holding.set()
            let_go.wait(90)
            transaction.set_rollback(True)
        connection.close()

    holder = threading.Thread(target=hold_the_next_history_row)
    holder.start()
    assert holding.wait(10)
    worker = celery_worker_factory(queues="default", concurrency=1)
    release_scheduled_orders.delay()  # the beat sweep's task, sent by hand
    try:
        wait_until(_release_blocked, timeout=60)
        worker.kill()
    finally:
        let_go.set()
        holder.join()

    order.refresh_from_db()
    assert order.status == OrderStatus.SCHEDULED
    assert releases([order.pk]) == {order.pk: 0}

    worker.start()
    celery_beat_factory(env=SWEEP_ENV)
    wait_until(lambda: Order.objects.get(pk=order.pk).status == OrderStatus.PLACED, timeout=90, interval=0.5)
    time.sleep(3)  # a few more sweeps: none may release it again

    assert releases([order.pk]) == {order.pk: 1}
    assert announced([order.pk]) == {order.pk: 1}
    assert Order.objects.get(pk=order.pk).version == order.version + 1


def test_workers_killed_and_restarted_as_orders_come_due_release_each_exactly_once(
    celery_worker_factory: Callable[..., Any], celery_beat_factory: Callable[..., Any]
) -> None:
    menu = make_menu()
    orders = [scheduled_order(menu) for _ in range(6)]
    ids = [order.pk for order in orders]
    first = celery_worker_factory(queues="default", concurrency=2)
    second = celery_worker_factory(queues="default", concurrency=2)
    celery_beat_factory(env=SWEEP_ENV)
    start = timezone.now() + timedelta(seconds=2)
    for index, order in enumerate(orders):  # one comes due every half second
        Order.objects.filter(pk=order.pk).update(release_at=start + timedelta(seconds=index / 2))

    time.sleep(max(0.0, (start - timezone.now()).total_seconds()) + 1)
    first.kill()  # kill -9 while the first orders are being released
    second.restart()  # a graceful restart while the rest come due
    first.start()
    wait_until(lambda: all(releases(ids).values()), timeout=90, interval=0.5)
    time.sleep(3)  # a few more sweeps: none may release one again

    assert releases(ids) == dict.fromkeys(ids, 1)
    assert announced(ids) == dict.fromkeys(ids, 1)
    assert set(Order.objects.filter(pk__in=ids).values_list("status", flat=True)) == {OrderStatus.PLACED}
