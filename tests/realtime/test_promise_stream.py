"""The order stream carries the delivery promise: in the snapshot, and moved by each step that moves it."""

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.utils import timezone

from loship.events.relay import publish_pending
from loship.timefmt import iso
from orders.models import Order
from orders.services import lifecycle
from tests.factories import UserFactory
from tests.realtime.conftest import TIMEOUT, communicator, open_stream
from users.models import Role

pytestmark = pytest.mark.django_db(transaction=True)


async def receive(ws: Any) -> dict[str, Any]:
    return json.loads(await ws.receive_from(timeout=TIMEOUT))


def test_the_order_stream_carries_the_promise_and_each_new_one(place_order: Callable[[Any], Order]) -> None:
    customer = UserFactory()
    order = place_order(customer)
    driver = UserFactory(roles=[Role.DRIVER])
    at_assignment = timezone.now() + timedelta(minutes=21)
    at_pickup = timezone.now() + timedelta(minutes=9)

    async def scenario() -> None:
        ws = communicator(f"/ws/orders/{order.pk}/", user=customer)
        _, snapshot = await open_stream(ws)
        assert order.promised_at is not None
        assert snapshot["promised_at"] == snapshot["order"]["promised_at"] == iso(order.promised_at)

        accepted = await sync_to_async(lifecycle.accept_order)(order_id=order.pk, actor=None, prep_minutes=90)
        await sync_to_async(lifecycle.assign_driver)(
            order_id=order.pk, driver=driver, eta=at_assignment, promised_at=at_assignment
        )
        await sync_to_async(lifecycle.mark_picked_up)(
            order_id=order.pk, driver=driver, eta=at_pickup, promised_at=at_pickup
        )
        await sync_to_async(publish_pending)()
        events = [await receive(ws) for _ in range(3)]
        assert [event["type"] for event in events] == [
            "order.accepted",
            "order.driver_assigned",
            "order.picked_up",
        ]
        assert [event["promised_at"] for event in events] == [
            iso(accepted.promised_at),
            iso(at_assignment),
            iso(at_pickup),
        ]
        assert events[0]["promised_at"] != snapshot["promised_at"]  # ninety minutes of cooking moved it
        await ws.disconnect()

        again = communicator(f"/ws/orders/{order.pk}/", user=customer)
        _, latest = await open_stream(again)
        assert latest["promised_at"] == iso(at_pickup)
        await again.disconnect()

    async_to_sync(scenario)()
