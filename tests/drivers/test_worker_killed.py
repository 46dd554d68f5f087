"""A dispatch worker killed with kill -9 in the middle of a round leaves nothing half-done, and the next
round (another worker, as beat would trigger it) dispatches the order.

The round is held mid-way deterministically: the test locks the order's dispatch row, so the worker's
round blocks on it after taking the round's advisory lock; then the worker is killed.
"""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from drivers.models import DispatchRequest, Offer
from drivers.tasks import dispatch_round
from orders.models import Order
from tests.drivers.conftest import make_driver, offset
from tests.processes import wait_until


def _round_blocked_on_the_pool() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query ILIKE %s",
            ["%drivers_dispatchrequest%"],  # the text is cut at 1 kB, before FOR UPDATE
        )
        (count,) = cursor.fetchone()
    return bool(count)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_round_leaves_no_offer_and_the_next_round_dispatches_the_order(
    pooled_order: Callable[..., Order], celery_worker_factory: Callable[..., Any]
) -> None:
    order = pooled_order()
    driver = make_driver(lat=offset(300))
    worker = celery_worker_factory(queues="dispatch", concurrency=1)
    holding, release = threading.Event(), threading.Event()

    def hold_the_pool_row() -> None:
        with transaction.atomic():
            DispatchRequest.objects.select_for_update().get(pk=order.pk)
            holding.set()
            release.wait(60)
        connection.close()

    holder = threading.Thread(target=hold_the_pool_row)
    holder.start()
    assert holding.wait(10)
    dispatch_round.delay()
    try:
        wait_until(_round_blocked_on_the_pool, timeout=60)
        worker.kill()
    finally:
        release.set()
        holder.join()

    assert not Offer.objects.exists()
    assert DispatchRequest.objects.get(pk=order.pk).status == "waiting"

    worker.start()

    def dispatched() -> bool:
        dispatch_round.delay()
        return Offer.objects.filter(order_ids__contains=[order.pk]).exists()

    wait_until(dispatched, timeout=60, interval=1.0)
    offer = Offer.objects.get(order_ids__contains=[order.pk])
    assert offer.driver_id == driver.pk
    assert offer.status == "offered"
