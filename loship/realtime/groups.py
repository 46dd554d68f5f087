"""Channels group names and the one way to push an event to a group.

The channel layer is best effort (DESIGN.md section 5): a push can be lost, so every order event
carries the order's `sequence` and a client that sees a gap (or reconnects) gets the snapshot.
Correctness lives in the database; `push` never raises.
"""

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache

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


def push(group: str, event: dict[str, Any]) -> None:
    """Send `event` to every socket in `group`; logs and swallows channel-layer/Redis errors.

    A `driver.position` for an order is also kept as the order's last position, so the snapshot of a
    client that connects later shows where the driver is."""
    try:
        if event.get("type") == "driver.position" and event.get("order_id") is not None:
            cache.set(last_position_key(event["order_id"]), event, timeout=LAST_POSITION_SECONDS)
        push_or_raise(group, event)
    except Exception:
        logger.warning("realtime: push to %s failed (%s)", group, event.get("type"), exc_info=True)


def push_or_raise(group: str, event: dict[str, Any]) -> None:
    """Like `push`, but a layer error propagates (the outbox relay retries the destination)."""
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(group, {"type": STREAM_EVENT, "event": event})
