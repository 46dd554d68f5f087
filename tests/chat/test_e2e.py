"""The order chat end to end with real processes: uvicorn (HTTP and WebSocket), the outbox relay
process, a Celery worker on the notifications queue, the real Redis channel layer, real WebSocket
clients, and pushes sent by the real FCM client to a local server speaking FCM's protocol.

Connected sides get each message and receipt over their sockets within a second and no push; a
driver whose socket is closed gets the customer's message as a push, and live again once back."""

import time
from collections.abc import Callable
from typing import Any

import pytest

from loship import presence
from tests.chat.conftest import Chat, open_chat
from tests.e2e.streams import StreamClient, api, order_stream_url
from tests.factories import DeviceFactory
from tests.notifications.conftest import fake_fcm  # noqa: F401  (the local FCM server)
from tests.notifications.servers import FakeFcm
from tests.orders.factories import make_menu
from tests.processes import CeleryWorker, LiveServer, RelayProcess, wait_until
from tests.realtime.conftest import token_for

pytestmark = [pytest.mark.e2e]


def is_chat(kind: str) -> Callable[[dict[str, Any]], bool]:
    return lambda message: message.get("type") == kind


def send(base_url: str, user: Any, chat: Chat, body: str) -> dict[str, Any]:
    with api(base_url, user) as client:
        response = client.post(f"/orders/{chat.order.pk}/chat/messages", json={"body": body})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_connected_sides_chat_live_and_an_absent_driver_gets_a_push(
    asgi_server_factory: Callable[..., LiveServer],
    relay_process_factory: Callable[..., RelayProcess],
    celery_worker_factory: Callable[..., CeleryWorker],
    fake_fcm: FakeFcm,  # noqa: F811
) -> None:
    server = asgi_server_factory()
    relay_process_factory(env=fake_fcm.process_env)
    celery_worker_factory(queues="notifications", concurrency=1, env=fake_fcm.process_env)
    chat = open_chat(make_menu())
    DeviceFactory(user=chat.driver, token="driver-phone")
    driver_url = f"{server.ws_url}/ws/driver/?token={token_for(chat.driver)}"
    driver_present = presence.driver(chat.driver.pk)

    customer_ws = StreamClient(order_stream_url(server.ws_url, chat.order.pk, chat.customer))
    driver_ws = StreamClient(driver_url)
    customer_ws.next(lambda m: m["type"] == "order.snapshot")
    driver_ws.next(lambda m: m["type"] == "snapshot")
    wait_until(lambda: presence.is_present(driver_present))
    wait_until(lambda: presence.is_present(presence.order_customer(chat.order.pk, chat.customer.pk)))

    sent_at = time.time()
    send(server.url, chat.customer, chat, "Em ở cổng sau, gọi 0912 345 678")
    arrived, at_driver = driver_ws.next(is_chat("chat.message"))
    _, at_customer = customer_ws.next(is_chat("chat.message"))
    assert at_driver["message"]["body"] == "Em ở cổng sau, gọi **** *** ***"
    assert at_customer["event_id"] == at_driver["event_id"]
    assert arrived - sent_at < 1.0

    with api(server.url, chat.driver) as client:
        assert client.post(f"/orders/{chat.order.pk}/chat/read", json={"seq": 1}).status_code == 200
    _, receipt = customer_ws.next(is_chat("chat.read"))
    assert (receipt["reader_role"], receipt["read_seq"]) == ("driver", 1)

    driver_ws.close()
    wait_until(lambda: not presence.is_present(driver_present))
    send(server.url, chat.customer, chat, "Anh tới chưa ạ?")
    push = wait_until(lambda: [m for m in fake_fcm.messages if m["token"] == "driver-phone"])
    assert len(push) == 1
    assert push[0]["notification"]["body"] == "Anh tới chưa ạ?"
    assert push[0]["data"]["chat_seq"] == "2" and push[0]["data"]["order_id"] == str(chat.order.pk)

    driver_ws = StreamClient(driver_url)
    driver_ws.next(lambda m: m["type"] == "snapshot")
    wait_until(lambda: presence.is_present(driver_present))
    send(server.url, chat.customer, chat, "Em thấy anh rồi")
    _, live_again = driver_ws.next(is_chat("chat.message"))
    assert live_again["message"]["seq"] == 3
    time.sleep(1.0)  # a push would have been sent by now (the first took well under this)
    assert len([m for m in fake_fcm.messages if m["token"] == "driver-phone"]) == 1
    for client in (customer_ws, driver_ws):
        client.close()


def test_a_burst_of_messages_both_ways_arrives_in_order_each_within_a_second(
    asgi_server: LiveServer, relay_process: RelayProcess, record_property: Callable[[str, object], None]
) -> None:
    chat = open_chat(make_menu())
    customer_ws = StreamClient(order_stream_url(asgi_server.ws_url, chat.order.pk, chat.customer))
    driver_ws = StreamClient(f"{asgi_server.ws_url}/ws/driver/?token={token_for(chat.driver)}")
    customer_ws.next(lambda m: m["type"] == "order.snapshot")
    driver_ws.next(lambda m: m["type"] == "snapshot")

    sent_at = []
    for n in range(20):
        sent_at.append(time.time())
        send(asgi_server.url, chat.driver if n % 2 else chat.customer, chat, f"tin {n}")
    arrivals = {
        "customer": [customer_ws.next(is_chat("chat.message")) for _ in range(20)],
        "driver": [driver_ws.next(is_chat("chat.message")) for _ in range(20)],
    }

    for side, received in arrivals.items():
        assert [m["message"]["seq"] for _, m in received] == list(range(1, 21)), side
        latencies = sorted(at - sent for (at, _), sent in zip(received, sent_at, strict=True))
        record_property(f"{side}_latency_ms_median_max", (latencies[9] * 1000, latencies[-1] * 1000))
        assert latencies[-1] < 1.0, (side, latencies)
    for client in (customer_ws, driver_ws):
        client.close()
