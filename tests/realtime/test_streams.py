"""Customer, merchant and ops streams: who may join, the snapshot, pushed changes once each, heartbeats."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import transaction

from loship.events.relay import publish_pending
from loship.events.services import record_event
from loship.metrics import WEBSOCKET_CONNECTIONS
from loship.push import order_group, push
from orders.models import Order
from orders.services import lifecycle
from tests.factories import UserFactory
from tests.orders.factories import Menu, make_staff
from tests.realtime.conftest import TIMEOUT, close_code, communicator, open_stream, token_for
from users.models import Role

pytestmark = pytest.mark.django_db(transaction=True)


async def receive(ws: Any) -> dict[str, Any]:
    return json.loads(await ws.receive_from(timeout=TIMEOUT))


def test_customer_gets_the_snapshot_then_each_change_once_in_order(
    place_order: Callable[[Any], Order], menu: Menu
) -> None:
    customer = UserFactory()
    order = place_order(customer)
    driver = UserFactory(roles=[Role.DRIVER])

    async def scenario() -> None:
        ws = communicator(f"/ws/orders/{order.pk}/", user=customer)
        accepted, snapshot = await open_stream(ws)
        assert accepted
        assert snapshot["type"] == "order.snapshot"
        assert snapshot["status"] == "placed" and snapshot["sequence"] == order.version
        assert [step["kind"] for step in snapshot["order"]["timeline"]] == ["placed"]
        assert snapshot["driver_position"] is None

        await sync_to_async(lifecycle.accept_order)(order_id=order.pk, actor=None, prep_minutes=10)
        await sync_to_async(lifecycle.assign_driver)(order_id=order.pk, driver=driver)
        await sync_to_async(publish_pending)()
        await sync_to_async(publish_pending)()  # a second sweep sends nothing twice
        # The same event pushed again (a relay killed before it recorded the delivery) is dropped.
        accepted_event = await receive(ws)
        await sync_to_async(push)(order_group(order.pk), accepted_event)
        assigned = await receive(ws)
        assert (accepted_event["type"], accepted_event["status"]) == ("order.accepted", "accepted")
        assert accepted_event["eta"] is not None and accepted_event["event_id"]
        assert assigned["type"] == "order.driver_assigned" and assigned["driver_id"] == driver.pk
        assert assigned["sequence"] == accepted_event["sequence"] + 1
        assert await ws.receive_nothing(timeout=0.3)
        await ws.disconnect()

    async_to_sync(scenario)()


def test_a_gap_in_the_sequence_is_healed_with_a_fresh_snapshot(place_order: Callable[[Any], Order]) -> None:
    customer = UserFactory()
    order = place_order(customer)

    async def scenario() -> None:
        ws = communicator(f"/ws/orders/{order.pk}/", user=customer)
        await open_stream(ws)
        await sync_to_async(lifecycle.accept_order)(order_id=order.pk, actor=None, prep_minutes=10)
        await sync_to_async(lifecycle.mark_preparing)(order_id=order.pk, actor=None)
        # Only the second change reaches the group (the first push was lost).
        latest = await sync_to_async(Order.objects.get)(pk=order.pk)
        await sync_to_async(push)(
            order_group(order.pk),
            {
                "type": "order.preparing",
                "order_id": order.pk,
                "sequence": latest.version,
                "status": "preparing",
            },
        )
        healed = await receive(ws)
        assert healed["type"] == "order.snapshot"
        assert healed["status"] == "preparing" and healed["sequence"] == latest.version
        await ws.disconnect()

    async_to_sync(scenario)()


def test_driver_position_passes_through_and_is_in_the_next_snapshot(
    place_order: Callable[[Any], Order],
) -> None:
    customer = UserFactory()
    order = place_order(customer)
    position = {"type": "driver.position", "order_id": order.pk, "lat": 10.78, "lng": 106.7, "heading": 90,
                "at": "2026-11-25T11:00:00+07:00"}  # fmt: skip

    async def scenario() -> None:
        ws = communicator(f"/ws/orders/{order.pk}/", user=customer)
        await open_stream(ws)
        await sync_to_async(push)(order_group(order.pk), position)
        assert await receive(ws) == position
        await ws.disconnect()
        again = communicator(f"/ws/orders/{order.pk}/", user=customer)
        _, snapshot = await open_stream(again)
        assert snapshot["driver_position"] == position
        await again.disconnect()

    async_to_sync(scenario)()


def test_order_stream_refuses_strangers_403_and_anonymous_401(place_order: Callable[[Any], Order]) -> None:
    customer = UserFactory()
    order = place_order(customer)
    assert close_code(f"/ws/orders/{order.pk}/", user=UserFactory()) == 4403
    assert close_code(f"/ws/orders/{order.pk}/") == 4401
    assert close_code(f"/ws/orders/{order.pk}/?token=not-a-token") == 4401
    assert close_code(f"/ws/orders/{order.pk + 1000}/", user=customer) == 4403
    assert close_code(f"/ws/orders/{order.pk}/", user=UserFactory(roles=[Role.OPS])) is None
    assert close_code(f"/ws/orders/{order.pk}/", user=customer) is None


def test_bearer_subprotocol_authenticates_and_is_not_echoed_when_another_is_offered(
    place_order: Callable[[Any], Order],
) -> None:
    customer = UserFactory()
    order = place_order(customer)

    async def scenario() -> None:
        ws = communicator(
            f"/ws/orders/{order.pk}/", subprotocols=["loship.v1", f"bearer.{token_for(customer)}"]
        )
        connected, subprotocol = await ws.connect(timeout=TIMEOUT)
        assert connected and subprotocol == "loship.v1"
        assert (await receive(ws))["type"] == "order.snapshot"
        await ws.disconnect()

    async_to_sync(scenario)()


def test_foreign_origin_is_refused_and_allowed_origin_accepted(
    place_order: Callable[[Any], Order], settings: Any
) -> None:
    settings.WEBSOCKET_ALLOWED_ORIGINS = ["https://ops.loship.vn", "localhost"]
    customer = UserFactory()
    order = place_order(customer)
    path = f"/ws/orders/{order.pk}/"
    assert close_code(path, user=customer, headers=[(b"origin", b"https://evil.example")]) == 4403
    assert close_code(path, user=customer, headers=[(b"origin", b"https://ops.loship.vn")]) is None
    assert close_code(path, user=customer, headers=[(b"origin", b"http://localhost:8000")]) is None


def test_merchant_stream_is_for_its_staff_and_shows_new_orders_and_cancellations(
    place_order: Callable[[Any], Order], menu: Menu
) -> None:
    staff = make_staff(menu.merchant)
    customer = UserFactory()
    first = place_order(customer)
    assert close_code(f"/ws/merchants/{menu.merchant.pk}/", user=customer) == 4403
    assert close_code(f"/ws/merchants/{menu.merchant.pk}/", user=make_staff(menu.merchant)) is None

    async def scenario() -> None:
        ws = communicator(f"/ws/merchants/{menu.merchant.pk}/", user=staff)
        _, snapshot = await open_stream(ws)
        assert snapshot["type"] == "merchant.snapshot"
        assert [o["order_id"] for o in snapshot["orders"]] == [first.pk]
        await sync_to_async(publish_pending)()  # first's `order.placed` is already in the snapshot
        assert await ws.receive_nothing(timeout=0.3)
        second = await sync_to_async(lambda: place_order(customer))()
        await sync_to_async(lifecycle.cancel_order)(order_id=first.pk, actor=customer, by="customer")
        await sync_to_async(publish_pending)()
        got = [await receive(ws), await receive(ws)]
        assert {(e["type"], e["order_id"]) for e in got} == {
            ("order.placed", second.pk),
            ("order.cancelled", first.pk),
        }
        await ws.disconnect()

    async_to_sync(scenario)()


def test_merchant_hears_when_the_driver_arrives(place_order: Callable[[Any], Order], menu: Menu) -> None:
    staff = make_staff(menu.merchant)
    order = place_order(UserFactory())

    async def scenario() -> None:
        ws = communicator(f"/ws/merchants/{menu.merchant.pk}/", user=staff)
        await open_stream(ws)

        def driver_arrives() -> None:
            with transaction.atomic():
                record_event(
                    topic="job.arrived_at_pickup",
                    aggregate_type="job",
                    aggregate_id=1,
                    payload={"job_id": 1, "order_id": order.pk, "driver_id": 5, "sequence": 1},
                )
            publish_pending()

        await sync_to_async(driver_arrives)()
        arrival = await receive(ws)
        assert arrival["type"] == "job.arrived_at_pickup"
        assert (arrival["order_id"], arrival["merchant_id"], arrival["job_sequence"]) == (
            order.pk,
            menu.merchant.pk,
            1,
        )
        await ws.disconnect()

    async_to_sync(scenario)()


def test_ops_feed_takes_ops_by_jwt_or_admin_session_from_an_allowed_origin(
    place_order: Callable[[Any], Order], settings: Any
) -> None:
    settings.WEBSOCKET_ALLOWED_ORIGINS = ["https://ops.loship.vn"]
    ops = UserFactory(roles=[Role.OPS], is_staff=True)
    place_order(UserFactory())
    assert close_code("/ws/ops/city/", user=UserFactory()) == 4403
    assert close_code("/ws/ops/city/", user=ops) is None

    session = SessionStore()
    session[SESSION_KEY] = str(ops.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = ops.get_session_auth_hash()
    session.save()
    cookie = (b"cookie", f"sessionid={session.session_key}".encode())
    good_origin = (b"origin", b"https://ops.loship.vn")
    assert close_code("/ws/ops/city/", headers=[cookie, good_origin]) is None
    assert close_code("/ws/ops/city/", headers=[cookie, (b"origin", b"https://evil.example")]) == 4403
    assert close_code("/ws/ops/city/", headers=[cookie]) == 4401  # a cookie without an origin
    # The session is for the admin page only: the customer stream wants a token.

    async def scenario() -> None:
        ws = communicator("/ws/ops/city/", headers=[cookie, good_origin])
        _, snapshot = await open_stream(ws)
        assert snapshot["type"] == "ops.snapshot" and snapshot["counts"] == {"placed": 1}
        await ws.send_json_to({"type": "ping"})
        assert (await receive(ws))["type"] == "pong"
        await ws.send_json_to({"type": "snapshot"})
        assert (await receive(ws))["type"] == "ops.snapshot"
        await ws.send_json_to({"type": "dance"})
        assert (await receive(ws)) == {"type": "error", "code": "unknown_message"}
        await ws.disconnect()

    async_to_sync(scenario)()


def test_idle_connections_get_heartbeats(place_order: Callable[[Any], Order], settings: Any) -> None:
    settings.WEBSOCKET_HEARTBEAT_SECONDS = 0.2
    customer = UserFactory()
    order = place_order(customer)

    async def scenario() -> None:
        ws = communicator(f"/ws/orders/{order.pk}/", user=customer)
        await open_stream(ws)
        assert (await receive(ws))["type"] == "heartbeat"
        assert (await receive(ws))["type"] == "heartbeat"
        await ws.disconnect()

    async_to_sync(scenario)()


def test_connection_gauge_counts_open_sockets(place_order: Callable[[Any], Order]) -> None:
    customer = UserFactory()
    order = place_order(customer)
    gauge = WEBSOCKET_CONNECTIONS.labels(stream="customer")

    async def scenario() -> tuple[float, float, float]:
        before = gauge._value.get()
        ws = communicator(f"/ws/orders/{order.pk}/", user=customer)
        await open_stream(ws)
        during = gauge._value.get()
        await ws.disconnect()
        return before, during, gauge._value.get()

    before, during, after = async_to_sync(scenario)()
    assert (during - before, after - before) == (1, 0)
