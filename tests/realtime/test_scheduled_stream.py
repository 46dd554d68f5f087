"""The merchant's tablet hears of a scheduled order live: as upcoming when it is placed, and as a new
order to accept when the sweep releases it (real ASGI stack and Redis channel layer)."""

import json
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.utils import timezone

from loship.events.relay import publish_pending
from merchants.selectors import LOCAL_TZ
from orders.models import Order
from orders.services.scheduling import release_due_orders
from tests.conftest import authenticated_client
from tests.factories import UserFactory
from tests.orders.factories import Menu, cart_body, make_staff
from tests.realtime.conftest import TIMEOUT, communicator, open_stream

pytestmark = pytest.mark.django_db(transaction=True)


def schedule(menu: Menu, key: str) -> Order:
    local = (timezone.now() + timedelta(hours=3)).astimezone(LOCAL_TZ)
    slot = local.replace(minute=local.minute - local.minute % 15, second=0, microsecond=0)
    response = authenticated_client(UserFactory()).post(
        "/api/v1/orders",
        cart_body(menu, scheduled_for=slot.isoformat()),
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert response.status_code == 201, response.json()
    return Order.objects.get(pk=response.json()["id"])


async def receive(ws: Any) -> dict[str, Any]:
    return json.loads(await ws.receive_from(timeout=TIMEOUT))


def test_the_tablet_sees_upcoming_orders_in_its_snapshot_then_hears_each_scheduled_and_released(
    menu: Menu,
) -> None:
    staff = make_staff(menu.merchant)
    first = schedule(menu, "first")
    publish_pending()

    async def scenario() -> None:
        ws = communicator(f"/ws/merchants/{menu.merchant.pk}/", user=staff)
        _, snapshot = await open_stream(ws)
        assert [(o["order_id"], o["status"]) for o in snapshot["orders"]] == [(first.pk, "scheduled")]
        assert snapshot["orders"][0]["scheduled_for"] is not None

        second = await sync_to_async(schedule)(menu, "second")
        await sync_to_async(publish_pending)()
        upcoming = await receive(ws)
        await sync_to_async(release_due_orders)(now=first.release_at)
        await sync_to_async(publish_pending)()
        released = await receive(ws)

        assert (upcoming["type"], upcoming["order_id"], upcoming["status"]) == (
            "order.scheduled",
            second.pk,
            "scheduled",
        )
        assert upcoming["scheduled_for"] is not None
        assert (released["type"], released["order_id"], released["status"]) == (
            "order.placed",
            first.pk,
            "placed",
        )
        await ws.disconnect()

    async_to_sync(scenario)()
