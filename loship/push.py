"""Channels group names, the one way to push an event to a group, and the body a socket receives for
an outbox event. Every app pushes through here; the `realtime` app owns the sockets that listen.

The channel layer is best effort (docs/architecture.md, "The event path"): a push can be lost, so
every order event carries the order's `sequence` and a client that sees a gap (or reconnects) gets the
snapshot. Correctness lives in the database; `push` never raises.

Sync callers (the outbox relay in Celery, sync views) send through one long-lived event loop per
process, in a background thread: `async_to_sync` would start a fresh loop, and with it a fresh Redis
connection of the channel layer, for every push.
"""

import asyncio
import json
import logging
import os
import threading
from typing import Any, cast

import redis
from channels.layers import get_channel_layer

from loship.events.models import OutboxEvent
from loship.redis_client import redis_client
from loship.timefmt import iso

logger = logging.getLogger(__name__)

OPS_GROUP = "ops.city"
STREAM_EVENT = "stream.event"
#: How long the last `driver.position` of an order is kept for the snapshot of a (re)connecting client.
LAST_POSITION_SECONDS = 15 * 60


def order_group(order_id: object) -> str:
    return f"order.{order_id}"


def merchant_group(merchant_id: object) -> str:
    return f"merchant.{merchant_id}"


def driver_group(driver_user_id: object) -> str:
    return f"driver.{driver_user_id}"


def last_position_key(order_id: object) -> str:
    return f"realtime:last-position:{order_id}"


def last_position(order_id: object) -> dict[str, Any] | None:
    """The last `driver.position` pushed for the order, if recent (None when Redis is away)."""
    try:
        raw = cast(bytes | None, redis_client().get(last_position_key(order_id)))
    except redis.RedisError:
        return None
    return json.loads(raw) if raw else None


def stream_body(event: OutboxEvent) -> dict[str, Any]:
    """The JSON a socket receives for an outbox event."""
    return {
        **event.payload,
        "type": event.topic,
        "event_id": str(event.event_id),
        "sequence": event.sequence,
        "at": iso(event.created_at),
    }


def push(group: str, event: dict[str, Any]) -> None:
    """Send `event` to every socket in `group`; logs and swallows channel-layer/Redis errors.

    A `driver.position` for an order is also kept as the order's last position, so the snapshot of a
    client that connects later shows where the driver is."""
    try:
        if event.get("type") == "driver.position" and event.get("order_id") is not None:
            redis_client().set(
                last_position_key(event["order_id"]), json.dumps(event), ex=LAST_POSITION_SECONDS
            )
        push_or_raise(group, event)
    except Exception:
        logger.warning("realtime: push to %s failed (%s)", group, event.get("type"), exc_info=True)


def push_or_raise(group: str, event: dict[str, Any]) -> None:
    """Like `push`, but a layer error propagates (the outbox relay retries the destination)."""
    push_many_or_raise([group], event)


#: A push that takes longer than this (Redis hanging) fails, so the relay retries it later.
PUSH_TIMEOUT_SECONDS = 5.0

_loop: asyncio.AbstractEventLoop | None = None
_loop_pid = 0
_loop_lock = threading.Lock()


def _push_loop() -> asyncio.AbstractEventLoop:
    """This process's push loop (a new one after a fork: a child cannot use its parent's thread)."""
    global _loop, _loop_pid
    with _loop_lock:
        if _loop is None or _loop_pid != os.getpid() or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="realtime-push", daemon=True).start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


def push_many_or_raise(groups: list[str], event: dict[str, Any]) -> None:
    """Send `event` to several groups at once (one round of concurrent `group_send`s); raises on a
    channel-layer error or after PUSH_TIMEOUT_SECONDS."""
    layer = get_channel_layer()
    if layer is None or not groups:
        return
    message = {"type": STREAM_EVENT, "event": event}

    async def send() -> None:
        await asyncio.gather(*(layer.group_send(group, message) for group in groups))

    future = asyncio.run_coroutine_threadsafe(send(), _push_loop())
    try:
        future.result(timeout=PUSH_TIMEOUT_SECONDS)
    except TimeoutError:
        future.cancel()
        raise
