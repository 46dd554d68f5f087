"""One time convention in every output: a moment is ISO-8601 in Ho Chi Minh City time (`+07:00`), so
the same instant reads the same over REST, the WebSocket streams and their snapshots."""

import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.utils import timezone

from drivers import location
from drivers import services as driver_services
from drivers.selectors import driver_snapshot
from loship.events.models import OutboxEvent
from loship.events.relay import publish_pending
from loship.push import stream_body
from orders.models import Order
from orders.selectors import read_order_snapshot
from orders.services import lifecycle
from realtime import snapshots
from tests.conftest import authenticated_client
from tests.factories import UserFactory
from tests.realtime.conftest import TIMEOUT, communicator, open_stream
from users.models import Role

pytestmark = pytest.mark.django_db(transaction=True)

OFFSET = "+07:00"
ISO_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$")


def datetimes_in(body: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(where, value) of every datetime string anywhere in a JSON body."""
    if isinstance(body, dict):
        for key, value in body.items():
            yield from datetimes_in(value, f"{path}.{key}")
    elif isinstance(body, list):
        for index, value in enumerate(body):
            yield from datetimes_in(value, f"{path}[{index}]")
    elif isinstance(body, str) and ISO_DATETIME.match(body):
        yield path, body


def test_the_same_order_reads_the_same_over_rest_and_its_stream(
    place_order: Callable[[Any], Order],
) -> None:
    customer = UserFactory()
    order = place_order(customer)

    async def scenario() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        ws = communicator(f"/ws/orders/{order.pk}/", user=customer)
        _, snapshot = await open_stream(ws)
        await sync_to_async(lifecycle.accept_order)(order_id=order.pk, actor=None, prep_minutes=10)
        await sync_to_async(publish_pending)()
        accepted = json.loads(await ws.receive_from(timeout=TIMEOUT))
        await ws.send_json_to({"type": "ping"})
        pong = json.loads(await ws.receive_from(timeout=TIMEOUT))
        await ws.disconnect()
        return snapshot, accepted, pong

    snapshot, accepted, pong = async_to_sync(scenario)()
    rest = authenticated_client(customer).get(f"/api/v1/orders/{order.pk}").json()

    assert rest["created_at"].endswith(OFFSET)
    assert snapshot["order"]["created_at"] == rest["created_at"]
    rest_times = {step["version"]: step["created_at"] for step in rest["timeline"]}
    assert [step["at"] for step in snapshot["order"]["timeline"]] == [rest_times[1]]
    # The event's `at` is its outbox row's time, a moment apart from the history row's: same offset.
    assert accepted["type"] == "order.accepted"
    event_at, history_at = (datetime.fromisoformat(moment) for moment in (accepted["at"], rest_times[2]))
    assert event_at.utcoffset() == history_at.utcoffset() == timedelta(hours=7)
    assert abs(event_at - history_at) < timedelta(seconds=5)
    assert accepted["eta"] == rest["eta"] and rest["eta"].endswith(OFFSET)
    assert pong["at"].endswith(OFFSET)


def test_no_stream_body_or_snapshot_carries_another_offset(place_order: Callable[[Any], Order]) -> None:
    customer = UserFactory()
    order = place_order(customer)
    driver = UserFactory(roles=[Role.DRIVER])
    driver_services.go_online(user=driver, shift_ends_at=timezone.now() + timedelta(hours=4))
    lifecycle.accept_order(order_id=order.pk, actor=None, prep_minutes=10)
    driver_services.enter_pool(order_id=order.pk)
    driver_services.assign_by_ops(actor=UserFactory(roles=[Role.OPS]), order_id=order.pk, driver_id=driver.pk)
    location.set_carrying(driver.pk, [order.pk])  # as after pickup: the driver's fixes reach the order
    now_ms = int(timezone.now().timestamp() * 1000)
    fix = {"lat": 10.7769, "lng": 106.7009, "timestamp": now_ms}
    driver_services.record_location_fixes(driver_id=driver.pk, fixes=[fix])

    bodies: dict[str, Any] = {
        event.topic: stream_body(event) for event in OutboxEvent.objects.order_by("created_at", "id")
    }
    order_snapshot = read_order_snapshot(order.pk)
    assert order_snapshot is not None
    bodies["order.snapshot"] = snapshots.order_stream_snapshot(order_snapshot)
    bodies["merchant.snapshot"] = snapshots.merchant_stream_snapshot(order.merchant_id)
    bodies["ops.snapshot"] = snapshots.ops_stream_snapshot()
    bodies["driver.snapshot"] = driver_snapshot(driver_services.ensure_profile(user=driver))
    bodies["driver profile (REST)"] = authenticated_client(driver).get("/api/v1/driver/profile").json()

    found = list(datetimes_in(bodies))
    assert [(where, value) for where, value in found if not value.endswith(OFFSET)] == []
    # The walk saw the moments it is about: event times, ETAs, the timeline, the driver's position,
    # the offer, the job and the driver's shift.
    seen = {where.rsplit(".", 1)[-1] for where, _ in found}
    assert {"at", "eta", "created_at", "expires_at", "pickup_eta", "shift_ends_at"} <= seen
    assert bodies["order.snapshot"]["driver_position"]["at"].endswith(OFFSET)
