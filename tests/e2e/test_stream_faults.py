"""Every stream under faults, on a real uvicorn: the driver stream drops an event the relay delivered
twice, as the others do; it refuses a handshake with 1013 while Redis is down, as the others do, and
takes the driver back once Redis is; and no stream logs an error for a push that finds its socket
closed."""

import threading
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest
from websockets.exceptions import InvalidStatus

from drivers import services as driver_services
from loship.events.models import OutboxEvent
from loship.push import OPS_GROUP, driver_group, merchant_group, order_group, push
from tests.drivers.conftest import make_driver
from tests.e2e.streams import StreamClient
from tests.factories import UserFactory
from tests.orders.factories import make_menu, make_staff
from tests.processes import LiveServer, RedisServer, RelayProcess, wait_until
from tests.realtime.conftest import order_placer, token_for
from users.models import Role

pytestmark = pytest.mark.e2e

#: How many times a client closes its socket while events are pushed to it: the push that lands in
#: the moment between the close and the server's clean-up is a race, so it is run many times.
CLOSES = 25
#: Events pushed after each close, so some land while the server is still cleaning up.
PUSHES_AFTER_CLOSE = 50


def driver_stream_url(server: LiveServer, driver: Any) -> str:
    return f"{server.ws_url}/ws/driver/?token={token_for(driver)}"


def handshake_outcome(url: str) -> str:
    """How the server answers a connection: `snapshot`, `close <code>` or `HTTP <status>`."""
    try:
        client = StreamClient(url)
    except InvalidStatus as refused:
        return f"HTTP {refused.response.status_code}"
    try:
        wait_until(lambda: not client.inbox.empty() or client.closed.is_set(), timeout=10)
        if not client.inbox.empty():
            return str(client.inbox.get_nowait()[1]["type"])
        return f"close {client.close_code}"
    finally:
        client.close()


def test_the_driver_stream_sends_an_event_the_relay_delivered_twice_once(
    asgi_server: LiveServer, relay_process: RelayProcess
) -> None:
    driver = make_driver(online=False)
    client = StreamClient(driver_stream_url(asgi_server, driver))
    assert client.next()[1]["type"] == "snapshot"
    driver_services.go_online(user=driver)
    online = client.next(lambda m: m["type"] == "driver.online")[1]
    wait_until(lambda: OutboxEvent.objects.get(event_id=online["event_id"]).published_at is not None)

    # A relay killed between its push and recording the delivery: the event goes out again, with the
    # next one (the relay process publishes the driver's pending events in order).
    OutboxEvent.objects.filter(event_id=online["event_id"]).update(published_at=None, delivered_to=[])
    driver_services.go_offline(user=driver)
    received = [client.next(lambda m: m["type"] != "heartbeat")[1]]
    while received[-1]["type"] != "driver.offline":
        received.append(client.next(lambda m: m["type"] != "heartbeat")[1])
    client.close()

    wait_until(lambda: "drivers.push" in OutboxEvent.objects.get(event_id=online["event_id"]).delivered_to)
    assert [message["type"] for message in received] == ["driver.offline"]


def test_the_driver_stream_refuses_with_1013_while_redis_is_down_and_connects_when_it_is_back(
    redis_server_factory: Callable[[], RedisServer], asgi_server_factory: Callable[..., LiveServer]
) -> None:
    redis_server = redis_server_factory()
    server = asgi_server_factory(redis_url=redis_server.url(0))
    url = driver_stream_url(server, make_driver())
    assert handshake_outcome(url) == "snapshot"

    redis_server.stop()
    assert handshake_outcome(url) == "close 1013"

    redis_server.start()
    assert handshake_outcome(url) == "snapshot"


def _stream(kind: str) -> tuple[str, str, Any]:
    """A user's stream of each kind: (path, group, user)."""
    if kind == "driver":
        driver = make_driver()
        return "/ws/driver/", driver_group(driver.pk), driver
    if kind == "ops":
        return "/ws/ops/city/", OPS_GROUP, UserFactory(roles=[Role.OPS], is_staff=True)
    menu = make_menu()
    if kind == "merchant":
        return (
            f"/ws/merchants/{menu.merchant.pk}/",
            merchant_group(menu.merchant.pk),
            make_staff(menu.merchant),
        )
    customer = UserFactory()
    order = order_placer(menu)(customer)
    return f"/ws/orders/{order.pk}/", order_group(order.pk), customer


def close_while_pushed(url: str, group: str) -> None:
    """Open the stream, push events to it, close it after the first arrives and push some more."""
    client = StreamClient(url)
    client.next()  # the snapshot
    closed = threading.Event()

    def flood() -> None:
        after_close = 0
        while after_close < PUSHES_AFTER_CLOSE:
            push(group, {"type": "driver.online", "event_id": str(uuid4())})
            after_close += closed.is_set()

    pusher = threading.Thread(target=flood)
    pusher.start()
    try:
        client.next(lambda m: m["type"] == "driver.online")
        client.close()
    finally:
        closed.set()
        pusher.join()


@pytest.mark.parametrize("kind", ["driver", "customer", "merchant", "ops"])
def test_a_push_to_a_socket_that_has_just_closed_logs_no_error(kind: str, asgi_server: LiveServer) -> None:
    path, group, user = _stream(kind)
    url = f"{asgi_server.ws_url}{path}?token={token_for(user)}"

    for _ in range(CLOSES):
        close_while_pushed(url, group)
    # The server has finished with every socket: a new one is served.
    assert handshake_outcome(url).endswith("snapshot")

    errors = [
        line
        for line in asgi_server.log_since_start().splitlines()
        if " ERROR " in line or "Traceback" in line
    ]
    assert errors == []


@pytest.mark.parametrize("kind", ["driver", "customer", "merchant", "ops"])
def test_an_open_socket_whose_redis_goes_away_is_closed_with_1013_and_no_error(
    kind: str,
    redis_server_factory: Callable[[], RedisServer],
    asgi_server_factory: Callable[..., LiveServer],
) -> None:
    redis_server = redis_server_factory()
    server = asgi_server_factory(redis_url=redis_server.url(0))
    path, _, user = _stream(kind)
    client = StreamClient(f"{server.ws_url}{path}?token={token_for(user)}")
    client.next()  # the snapshot

    redis_server.stop()
    wait_until(client.closed.is_set, timeout=20)

    assert client.close_code == 1013
    errors = [
        line for line in server.log_since_start().splitlines() if " ERROR " in line or "Traceback" in line
    ]
    assert errors == []
