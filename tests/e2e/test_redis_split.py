"""The Redis split of the scale profile, on two private redis-servers: the channel layer sharded over
both (CHANNEL_REDIS_URLS), the Celery broker on a server of its own (CELERY_BROKER_URL), and a
readiness check that names whichever of them is down.

Real processes: uvicorn with real WebSocket clients, the outbox relay process pushing from another
process, a Celery worker consuming from the broker's server.
"""

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import redis
from asgiref.sync import async_to_sync
from django.db import transaction
from django.test import Client

from loship.celery import app
from loship.channel_layer import RedisChannelLayer
from loship.events.models import OutboxEvent
from loship.events.services import record_event
from loship.push import order_group
from loship.redis_urls import redis_roles
from ops.queues import queue_depths
from tests.e2e.streams import StreamClient, api, order_stream_url
from tests.factories import UserFactory
from tests.ops.conftest import METRICS_TOKEN, scrape
from tests.orders.factories import cart_body, make_menu, make_staff
from tests.processes import CeleryWorker, LiveServer, RedisServer, RelayProcess, wait_until

pytestmark = [pytest.mark.e2e]

PREFIX = "loship:asgi"  # the project's channel-layer prefix (settings.CHANNEL_LAYERS)


def _layer(urls: list[str]) -> RedisChannelLayer:
    return RedisChannelLayer(hosts=urls, prefix=PREFIX)


def _group_key(group: str) -> bytes:
    return f"{PREFIX}:group:{group}".encode()


@pytest.fixture
def two_redis(redis_server_factory: Callable[[], RedisServer]) -> tuple[RedisServer, RedisServer]:
    return redis_server_factory(), redis_server_factory()


def test_the_project_layer_keeps_each_group_on_the_shard_its_name_hashes_to(
    two_redis: tuple[RedisServer, RedisServer],
) -> None:
    """group_add (the project's one-pipeline join) writes the group on the shard group_send reads."""
    servers = [redis.Redis.from_url(server.url(0)) for server in two_redis]
    layer = _layer([server.url(0) for server in two_redis])
    groups = {layer.consistent_hash(f"g.{n}"): f"g.{n}" for n in range(20)}
    assert set(groups) == {0, 1}

    async def round_trip() -> list[dict[str, Any]]:
        channel = await layer.new_channel()
        for group in groups.values():
            await layer.group_add(group, channel)
        for group in groups.values():
            await layer.group_send(group, {"type": "stream.event", "event": {"group": group}})
        return [await layer.receive(channel) for _ in groups]

    received = async_to_sync(round_trip)()

    assert sorted(message["event"]["group"] for message in received) == sorted(groups.values())
    for shard, group in groups.items():
        assert servers[shard].zcard(_group_key(group)) == 1
        assert not servers[1 - shard].exists(_group_key(group))


def test_a_direct_send_to_a_socket_lands_on_the_shard_its_process_reads(
    two_redis: tuple[RedisServer, RedisServer],
) -> None:
    """channels_redis hashes a send by the whole channel name but reads by its process part; the
    project's layer hashes both by the process part, so no direct send is lost."""
    urls = [server.url(0) for server in two_redis]

    async def sends() -> list[str]:
        received = []
        for _ in range(12):  # a fresh process prefix each time: both shards get readers
            layer = _layer(urls)
            channel = await layer.new_channel()
            await layer.send(channel, {"type": "stream.event", "to": channel})
            received.append((await asyncio.wait_for(layer.receive(channel), 5))["to"])
        return received

    assert len(set(async_to_sync(sends)())) == 12


def _place(base_url: str, customer: Any, menu: Any, key: str) -> int:
    with api(base_url, customer) as client:
        response = client.post("/orders", json=cart_body(menu), headers={"Idempotency-Key": key})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_orders_on_different_shards_both_get_their_events_on_real_sockets(
    two_redis: tuple[RedisServer, RedisServer],
    asgi_server_factory: Callable[..., LiveServer],
    relay_process_factory: Callable[..., RelayProcess],
) -> None:
    """uvicorn holds the sockets, the relay process pushes: an order whose group lives on shard A and
    one whose group lives on shard B both see the merchant accept them."""
    main, other = two_redis
    shards = [main.url(0), other.url(0)]
    env = {"CHANNEL_REDIS_URLS": ",".join(shards)}
    server = asgi_server_factory(redis_url=main.url(0), env=env)
    relay_process_factory(redis_url=main.url(0), env=env)
    menu = make_menu()
    staff = make_staff(menu.merchant)
    layer = _layer(shards)

    placed: dict[int, tuple[int, Any]] = {}  # shard -> (order id, customer)
    for n in range(40):  # crc32 of "order.<id>" picks the shard; neighbouring ids often agree
        customer = UserFactory()
        order_id = _place(server.url, customer, menu, f"shard-{n}")
        placed.setdefault(layer.consistent_hash(order_group(order_id)), (order_id, customer))
        if len(placed) == 2:
            break
    assert set(placed) == {0, 1}

    streams = {}
    for shard, (order_id, customer) in placed.items():
        stream = StreamClient(order_stream_url(server.ws_url, order_id, customer))
        _, snapshot = stream.next()
        assert (snapshot["type"], snapshot["status"]) == ("order.snapshot", "placed")
        streams[shard] = stream
    for shard, (order_id, _) in placed.items():  # each group is held by the server it hashes to
        holder = redis.Redis.from_url(shards[shard])
        assert holder.zcard(_group_key(order_group(order_id))) == 1
        assert not redis.Redis.from_url(shards[1 - shard]).exists(_group_key(order_group(order_id)))

    with api(server.url, staff) as client:
        for order_id, _ in placed.values():
            response = client.post(f"/merchant/orders/{order_id}/accept", json={"prep_minutes": 10})
            assert response.status_code == 200, response.text
    for shard, (order_id, _) in placed.items():
        _, event = streams[shard].order_events(1)[0]
        assert (event["type"], event["order_id"], event["status"]) == ("order.accepted", order_id, "accepted")
        streams[shard].close()


def _celery_keys(client: redis.Redis) -> list[bytes]:
    """Keys kombu's Redis transport writes: bindings, queue lists, unacked bookkeeping."""
    names = (b"_kombu", b"unacked", b"default", b"dispatch", b"notifications", b"celery")
    return [key for key in client.keys("*") if any(name in key for name in names)]


def test_a_worker_consumes_from_the_broker_redis_and_the_other_redis_holds_no_celery_keys(
    two_redis: tuple[RedisServer, RedisServer],
    celery_worker_factory: Callable[..., CeleryWorker],
    settings: Any,
) -> None:
    main, broker = two_redis
    celery_worker_factory(queues="default", redis_url=main.url(0), env={"CELERY_BROKER_URL": broker.url(0)})
    with transaction.atomic():
        event = record_event(topic="test.ping", aggregate_type="test", aggregate_id=1, payload={})

    with app.connection_for_write(broker.url(0)) as connection:
        app.send_task("loship.events.tasks.relay_outbox", queue="default", connection=connection)
        # a task for a queue no worker here consumes: it waits on the broker's server
        app.send_task("ops.tasks.check_headroom", queue="notifications", connection=connection)

    wait_until(lambda: OutboxEvent.objects.filter(pk=event.pk, published_at__isnull=False).exists())
    broker_client, main_client = redis.Redis.from_url(broker.url(0)), redis.Redis.from_url(main.url(0))
    assert _celery_keys(broker_client)
    assert _celery_keys(main_client) == []
    assert main_client.exists("loship:heartbeat:worker")  # the worker's own keys stay on REDIS_URL

    settings.BROKER_REDIS_URL = broker.url(0)  # the queue-depth metric reads the broker's server
    assert queue_depths()["notifications"] == 1


def test_readyz_names_a_channel_shard_or_the_broker_that_is_down(
    two_redis: tuple[RedisServer, RedisServer], settings: Any
) -> None:
    shard, broker = two_redis
    layer = settings.CHANNEL_LAYERS["default"]
    settings.CHANNEL_LAYERS = {
        "default": {**layer, "CONFIG": {**layer["CONFIG"], "hosts": [settings.REDIS_URL, shard.url(0)]}}
    }
    settings.BROKER_REDIS_URL = broker.url(0)
    client = Client()

    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {
        "postgres": "ok",
        "redis": "ok",
        "redis_broker": "ok",
        "redis_channels_1": "ok",
    }

    shard.stop()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis_channels_1"] == "down"
    assert response.json()["checks"]["redis_broker"] == "ok"
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS = METRICS_TOKEN, []
    settings.METRICS_PUBLISH_SECONDS = 0
    metrics = scrape(client)
    assert metrics.value("loship_redis_up", role="redis_channels_1") == 0
    assert metrics.value("loship_redis_up", role="redis_broker") == 1
    assert metrics.value("loship_redis_up", role="redis") == 1

    broker.stop()
    checks = client.get("/readyz").json()["checks"]
    assert (checks["redis_broker"], checks["redis"]) == ("down", "ok")


def test_a_real_server_reports_a_down_shard_on_readyz(
    two_redis: tuple[RedisServer, RedisServer], asgi_server_factory: Callable[..., LiveServer]
) -> None:
    main, other = two_redis
    server = asgi_server_factory(
        redis_url=main.url(0), env={"CHANNEL_REDIS_URLS": f"{main.url(0)},{other.url(0)}"}
    )
    assert httpx.get(server.url + "/readyz", timeout=5).status_code == 200
    other.stop()
    response = httpx.get(server.url + "/readyz", timeout=10)
    assert response.status_code == 503
    assert response.json()["checks"] == {"postgres": "ok", "redis": "ok", "redis_channels_1": "down"}


def test_each_redis_is_checked_once_by_the_role_that_names_it_first() -> None:
    one = "redis://r:6379/0"
    assert redis_roles(main=one, broker=one, channels=[one]) == {"redis": one}
    assert redis_roles(main=one, broker="redis://b/0", channels=[one, "redis://c/0", "redis://b/0"]) == {
        "redis": one,
        "redis_broker": "redis://b/0",
        "redis_channels_1": "redis://c/0",
    }
