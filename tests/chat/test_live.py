"""Live delivery of the chat over the real ASGI application and the real Redis channel layer: the
customer's order stream and the driver's socket get each message and receipt; the side without an
open socket gets a phone notification instead, decided by the presence those sockets keep."""

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator

from loship import presence
from loship.events.relay import publish_pending
from notifications.models import Channel, DeliveryAttempt, Notification
from orders.services import lifecycle
from tests.chat.conftest import Chat, open_chat
from tests.factories import DeviceFactory, UserFactory
from tests.orders.factories import make_menu
from tests.realtime.conftest import TIMEOUT, communicator, open_stream
from users.models import Role

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_channel_layer() -> Iterator[None]:
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def chat_tx(transactional_db: None) -> Chat:
    chat = open_chat(make_menu())
    DeviceFactory(user=chat.customer, token="customer-phone")
    DeviceFactory(user=chat.driver, token="driver-phone")
    return chat


async def next_of(ws: WebsocketCommunicator, kind: str) -> dict[str, Any]:
    """The next message of type `kind` (heartbeats and order events on the way are skipped)."""
    while True:
        message = json.loads(await ws.receive_from(timeout=TIMEOUT))
        if message.get("type") == kind:
            return message


async def until(condition: Any) -> None:
    for _ in range(100):
        if await sync_to_async(condition)():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met")


async def open_both(chat: Chat) -> tuple[WebsocketCommunicator, WebsocketCommunicator]:
    customer_ws = communicator(f"/ws/orders/{chat.order.pk}/", user=chat.customer)
    driver_ws = communicator("/ws/driver/", user=chat.driver)
    for ws in (customer_ws, driver_ws):
        accepted, _ = await open_stream(ws)
        assert accepted
    await until(lambda: presence.is_present(presence.driver(chat.driver.pk)))
    await until(lambda: presence.is_present(presence.order_customer(chat.order.pk, chat.customer.pk)))
    return customer_ws, driver_ws


def chat_pushes_to(user: Any) -> list[DeliveryAttempt]:
    return list(
        DeliveryAttempt.objects.filter(
            notification__user=user, notification__kind__startswith="chat.", channel=Channel.PUSH
        )
    )


def test_both_sockets_get_each_message_and_receipt_and_no_phone_is_bothered(chat_tx: Chat) -> None:
    chat = chat_tx

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        customer_ws, driver_ws = await open_both(chat)
        await sync_to_async(chat.send)(chat.customer, "Em ở cổng sau, số 0912345678")
        await sync_to_async(publish_pending)()
        at_driver = [await next_of(driver_ws, "chat.message")]
        at_customer = [await next_of(customer_ws, "chat.message")]
        await sync_to_async(chat.read)(chat.driver, 1)
        await sync_to_async(chat.send)(chat.driver, "Dạ em tới")
        await sync_to_async(publish_pending)()
        at_customer += [await next_of(customer_ws, "chat.read"), await next_of(customer_ws, "chat.message")]
        at_driver += [await next_of(driver_ws, "chat.read"), await next_of(driver_ws, "chat.message")]
        await sync_to_async(publish_pending)()  # a second pass sends nothing twice
        assert await customer_ws.receive_nothing(timeout=0.3)
        for ws in (customer_ws, driver_ws):
            await ws.disconnect()
        return at_customer, at_driver

    at_customer, at_driver = asyncio.run(scenario())

    first = at_driver[0]
    assert (first["order_id"], first["message"]["seq"], first["message"]["sender_role"]) == (
        chat.order.pk,
        1,
        "customer",
    )
    assert first["message"]["body"] == "Em ở cổng sau, số **********"
    assert "sequence" not in first  # the order stream's `sequence` is the order's version
    assert at_customer[0]["event_id"] == first["event_id"]
    assert (at_customer[1]["reader_role"], at_customer[1]["read_seq"]) == ("driver", 1)
    assert at_driver[1]["event_id"] == at_customer[1]["event_id"]
    assert (at_customer[2]["message"]["seq"], at_customer[2]["message"]["body"]) == (2, "Dạ em tới")
    assert at_driver[2]["event_id"] == at_customer[2]["event_id"]
    assert not Notification.objects.filter(kind__startswith="chat.").exists()


def test_the_side_without_an_open_socket_gets_a_push_instead(chat_tx: Chat) -> None:
    chat = chat_tx

    async def scenario() -> None:
        customer_ws, driver_ws = await open_both(chat)
        await driver_ws.disconnect()
        await until(lambda: not presence.is_present(presence.driver(chat.driver.pk)))
        await sync_to_async(chat.send)(chat.customer, "Anh ơi gọi 0987 654 321 nhé")
        await sync_to_async(chat.send)(chat.driver, "Dạ")  # the customer's stream is open: no push
        await sync_to_async(publish_pending)()
        await next_of(customer_ws, "chat.message")
        await customer_ws.disconnect()

    asyncio.run(scenario())

    [notice] = Notification.objects.filter(user=chat.driver, kind__startswith="chat.")
    assert notice.kind == "chat.from_customer"
    assert notice.title == f"Khách hàng nhắn tin về đơn {chat.order.code}"
    assert notice.body == "Anh ơi gọi **** *** *** nhé"
    assert (notice.data["order_id"], notice.data["chat_seq"]) == (chat.order.pk, 1)
    assert [attempt.target for attempt in chat_pushes_to(chat.driver)] == ["driver-phone"]
    assert not Notification.objects.filter(user=chat.customer, kind__startswith="chat.").exists()


def test_a_customer_away_from_the_order_stream_gets_the_drivers_message_on_the_phone(chat_tx: Chat) -> None:
    chat = chat_tx
    chat.customer.language = "en"
    chat.customer.save(update_fields=["language"])
    ops = UserFactory(roles=[Role.OPS])

    async def scenario() -> dict[str, Any]:
        # ops watching the order's stream is not the customer being there
        ops_ws = communicator(f"/ws/orders/{chat.order.pk}/", user=ops)
        driver_ws = communicator("/ws/driver/", user=chat.driver)
        for ws in (ops_ws, driver_ws):
            assert (await open_stream(ws))[0]
        await sync_to_async(chat.send)(chat.driver, "I'm at the gate")
        await sync_to_async(publish_pending)()
        seen = await next_of(ops_ws, "chat.message")
        for ws in (ops_ws, driver_ws):
            await ws.disconnect()
        return seen

    seen_by_ops = asyncio.run(scenario())

    assert seen_by_ops["message"]["body"] == "I'm at the gate"
    [notice] = Notification.objects.filter(user=chat.customer, kind__startswith="chat.")
    assert (notice.kind, notice.title, notice.body) == (
        "chat.from_driver",
        f"Your driver wrote about order {chat.order.code}",
        "I'm at the gate",
    )
    assert [attempt.target for attempt in chat_pushes_to(chat.customer)] == ["customer-phone"]


def test_a_driver_who_lost_the_order_hears_no_more_of_its_chat(chat_tx: Chat) -> None:
    chat = chat_tx

    async def scenario() -> bool:
        driver_ws = communicator("/ws/driver/", user=chat.driver)
        assert (await open_stream(driver_ws))[0]
        await sync_to_async(chat.send)(chat.customer, "alo")
        await sync_to_async(lifecycle.unassign_driver)(order_id=chat.order.pk, driver=chat.driver)
        await sync_to_async(publish_pending)()
        kinds = []
        while not await driver_ws.receive_nothing(timeout=0.5):
            kinds.append(json.loads(await driver_ws.receive_from(timeout=TIMEOUT)).get("type", ""))
        got_nothing = not any(kind.startswith("chat.") for kind in kinds)
        await driver_ws.disconnect()
        return got_nothing

    assert asyncio.run(scenario())
