"""The live streams: customer order stream, merchant stream and the ops city feed.

Every stream: authenticate (JWT from `?token=` / `bearer.<token>` subprotocol, or for the ops feed the
admin's session cookie), check the browser's origin, check the user may see the groups, join them,
send the snapshot, then forward pushed events. Refusals are accepted and closed at once with a code
the client can act on: 4401 (no or bad credentials), 4403 (not allowed, or a foreign origin), 1013
(the channel layer is unreachable: retry). Heartbeats: the server sends `{"type": "heartbeat"}`
every WEBSOCKET_HEARTBEAT_SECONDS; a client may send `{"type": "ping"}` (answered with `pong`) or
`{"type": "snapshot"}` (answered with a fresh snapshot, e.g. after it saw a gap in `sequence`).

Exactly once at the socket: pushed events can arrive twice (a relay retried) or out of date (the
snapshot already shows them). Order events are forwarded only when their `sequence` is newer than
what this socket has for that order; other events are forwarded once per `event_id`.
"""

import asyncio
import contextlib
import logging
from collections import OrderedDict
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.http import is_same_domain

from loship.consumers import LeanJsonConsumer, in_database_thread
from loship.metrics import WEBSOCKET_CONNECTIONS
from loship.push import OPS_GROUP, merchant_group, order_group
from loship.timefmt import iso
from orders.models import ORDER_TOPIC_PREFIX
from realtime import snapshots
from users.sockets import BEARER_SUBPROTOCOL_PREFIX, authenticate

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TRY_AGAIN_LATER = 1013
#: How many orders / event ids a socket remembers for de-duplication.
DEDUP_MEMORY = 5000


def origin_allowed(origin: str) -> bool:
    """Is a browser `Origin` one of WEBSOCKET_ALLOWED_ORIGINS (full origins, hosts, `.domain` or `*`)?"""
    parsed = urlsplit(origin)
    if not parsed.scheme or not parsed.hostname:
        return False
    for pattern in settings.WEBSOCKET_ALLOWED_ORIGINS:
        if pattern == "*" or pattern.rstrip("/") == origin.rstrip("/"):
            return True
        if "://" not in pattern and (
            is_same_domain(parsed.hostname, pattern) or is_same_domain(parsed.netloc, pattern)
        ):
            return True
    return False


class Dedup:
    """What one socket has already forwarded: the newest sequence per order, and recent event ids."""

    def __init__(self) -> None:
        self.sequences: OrderedDict[int, int] = OrderedDict()
        self.event_ids: OrderedDict[str, None] = OrderedDict()

    def seen_order(self, order_id: int, sequence: int) -> None:
        if sequence > self.sequences.get(order_id, 0):
            self.sequences[order_id] = sequence
            self.sequences.move_to_end(order_id)
            if len(self.sequences) > DEDUP_MEMORY:
                self.sequences.popitem(last=False)

    def is_new(self, event: dict[str, Any]) -> bool:
        if str(event.get("type", "")).startswith(ORDER_TOPIC_PREFIX) and event.get("order_id") is not None:
            order_id, sequence = int(event["order_id"]), int(event.get("sequence") or 0)
            if sequence <= self.sequences.get(order_id, 0):
                return False
            self.seen_order(order_id, sequence)
            return True
        event_id = event.get("event_id")
        if event_id is None:
            return True
        if event_id in self.event_ids:
            return False
        self.event_ids[event_id] = None
        if len(self.event_ids) > DEDUP_MEMORY:
            self.event_ids.popitem(last=False)
        return True


class StreamConsumer(LeanJsonConsumer):
    """Authentication, origin, groups, snapshot, de-duplication and heartbeats for every stream.

    Opening a stream makes one trip to the database thread (`open_stream`: the user, what they may
    watch, the snapshot) and one to Redis (joining the groups, which come from the URL). The groups are
    joined before the snapshot is read, so no event falls between the two; a refused socket leaves
    them again before anything is sent."""

    stream = "stream"
    #: Whether an admin session cookie (from an allowed origin) may stand in for a JWT.
    accepts_session = False

    async def connect(self) -> None:
        self.joined: list[str] = []
        self.counted = False
        self.dedup = Dedup()
        self.heartbeat: asyncio.Task[None] | None = None
        refusal = self.refusal()
        if refusal is None:
            refusal = await self.join(self.stream_groups())
        snapshot: dict[str, Any] = {}
        if refusal is None:
            opened = await in_database_thread(self.open_stream)()
            refusal, snapshot = (opened, {}) if isinstance(opened, int) else (None, opened)
        if refusal is not None:
            await self.leave()
            await self.accept(self.chosen_subprotocol())
            await self.close(code=refusal)
            return
        await self.accept(self.chosen_subprotocol())
        WEBSOCKET_CONNECTIONS.labels(stream=self.stream).inc()
        self.counted = True
        await self.send_snapshot(snapshot)
        self.heartbeat = asyncio.create_task(self.beat())

    def refusal(self) -> int | None:
        """What the credentials alone refuse, before any database: 4401 for a bad token (or a cookie
        where none is accepted), 4403 for a foreign origin."""
        credentials = self.scope.get("credentials")
        if credentials is None or (credentials.method == "jwt" and credentials.token is None):
            return CLOSE_UNAUTHENTICATED
        origin = self.header("origin")
        if credentials.method == "session" and (not self.accepts_session or not origin):
            return CLOSE_UNAUTHENTICATED
        if origin and not origin_allowed(origin):
            return CLOSE_FORBIDDEN
        return None

    async def join(self, groups: list[str]) -> int | None:
        """Join the stream's groups; 1013 when the channel layer is unreachable."""
        try:
            for group in groups:
                await self.channel_layer.group_add(group, self.channel_name)
                self.joined.append(group)
        except Exception:
            logger.warning("realtime: channel layer unreachable, refusing %s", self.stream, exc_info=True)
            return CLOSE_TRY_AGAIN_LATER
        return None

    async def leave(self) -> None:
        for group in self.joined:
            with contextlib.suppress(Exception):  # the layer may be down; memberships expire anyway
                await self.channel_layer.group_discard(group, self.channel_name)
        self.joined = []

    def open_stream(self) -> dict[str, Any] | int:
        """In the database thread: the user behind the credentials, whether they may watch this stream,
        and its snapshot; or the close code that refuses them."""
        user = authenticate(self.scope)
        if not user.is_authenticated or not user.is_active:
            return CLOSE_UNAUTHENTICATED
        self.scope["user"] = user
        return self.read_snapshot() if self.may_watch(user) else CLOSE_FORBIDDEN

    def header(self, name: str) -> str | None:
        for key, value in self.scope.get("headers", []):
            if key.decode("latin1").lower() == name:
                return str(value.decode("latin1"))
        return None

    def chosen_subprotocol(self) -> str | None:
        """Echo a protocol the client offered (browsers drop a connection that answers none)."""
        offered = list(self.scope.get("subprotocols", []))
        plain = [protocol for protocol in offered if not protocol.startswith(BEARER_SUBPROTOCOL_PREFIX)]
        return (plain or offered or [None])[0]

    def stream_groups(self) -> list[str]:
        """The groups of this stream, from its URL."""
        raise NotImplementedError

    def may_watch(self, user: Any) -> bool:
        """Whether this user may watch this stream (in the database thread)."""
        raise NotImplementedError

    def read_snapshot(self) -> dict[str, Any]:
        """The stream's current state (in the database thread)."""
        raise NotImplementedError

    async def send_snapshot(self, body: dict[str, Any] | None = None) -> None:
        """Send a snapshot (read now unless given), remembering the order versions it shows."""
        if body is None:
            body = await in_database_thread(self.read_snapshot)()
        if body.get("type") == "order.snapshot":
            self.dedup.seen_order(int(body["order_id"]), int(body["sequence"]))
        for order in body.get("orders", []):
            self.dedup.seen_order(int(order["order_id"]), int(order["version"]))
        await self.send_json(body)

    async def beat(self) -> None:
        interval = float(settings.WEBSOCKET_HEARTBEAT_SECONDS)
        while True:
            await asyncio.sleep(interval)
            await self.send_json({"type": "heartbeat", "at": iso(timezone.now())})

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong", "at": iso(timezone.now())})
        elif kind == "snapshot":
            await self.send_snapshot()
        else:
            await self.send_json({"type": "error", "code": "unknown_message"})

    async def stream_event(self, message: dict[str, Any]) -> None:
        event = message["event"]
        if self.dedup.is_new(event):
            await self.send_json(event)

    async def disconnect(self, code: int) -> None:
        if self.heartbeat is not None:
            self.heartbeat.cancel()
        if self.counted:
            WEBSOCKET_CONNECTIONS.labels(stream=self.stream).dec()
            self.counted = False
        await self.leave()


class OrderStreamConsumer(StreamConsumer):
    """`/ws/orders/<order_id>/`: one order's status, ETA, timeline and the driver's position."""

    stream = "customer"

    @property
    def order_id(self) -> int:
        return int(self.scope["url_route"]["kwargs"]["order_id"])

    def stream_groups(self) -> list[str]:
        return [order_group(self.order_id)]

    def open_stream(self) -> dict[str, Any] | int:
        """The order's customer and ops may watch. One query reads the order with its merchant and
        customer, and the customer's own token is checked against that row, so only another watcher
        (ops) costs a user lookup."""
        order = snapshots.order_for_stream(self.order_id)
        user = authenticate(self.scope, loaded=order.customer if order else None)
        if not user.is_authenticated or not user.is_active:
            return CLOSE_UNAUTHENTICATED
        self.scope["user"] = user
        if order is None or (order.customer_id != user.pk and not user.is_ops):
            return CLOSE_FORBIDDEN
        return snapshots.order_stream_snapshot(order)

    def read_snapshot(self) -> dict[str, Any]:
        order = snapshots.order_for_stream(self.order_id)
        return (
            snapshots.order_stream_snapshot(order) if order else {"type": "error", "code": "order_not_found"}
        )

    async def stream_event(self, message: dict[str, Any]) -> None:
        """A gap in the order's sequence (a lost push) is healed with a fresh snapshot."""
        event = message["event"]
        if (
            str(event.get("type", "")).startswith(ORDER_TOPIC_PREFIX)
            and event.get("order_id") == self.order_id
        ):
            known = self.dedup.sequences.get(self.order_id, 0)
            if int(event.get("sequence") or 0) > known + 1:
                await self.send_snapshot()
                return
        await super().stream_event(message)


class MerchantStreamConsumer(StreamConsumer):
    """`/ws/merchants/<merchant_id>/`: new orders, cancellations, driver arrival (staff of the merchant)."""

    stream = "merchant"

    @property
    def merchant_id(self) -> int:
        return int(self.scope["url_route"]["kwargs"]["merchant_id"])

    def stream_groups(self) -> list[str]:
        return [merchant_group(self.merchant_id)]

    def may_watch(self, user: Any) -> bool:
        return snapshots.staff_may_watch(user=user, merchant_id=self.merchant_id)

    def read_snapshot(self) -> dict[str, Any]:
        return snapshots.merchant_stream_snapshot(self.merchant_id)


class OpsCityConsumer(StreamConsumer):
    """`/ws/ops/city/`: every order change, driver and offer event of the city (ops only; the admin
    page may use its session cookie)."""

    stream = "ops"
    accepts_session = True

    def stream_groups(self) -> list[str]:
        return [OPS_GROUP]

    def may_watch(self, user: Any) -> bool:
        return bool(user.is_ops)

    def read_snapshot(self) -> dict[str, Any]:
        return snapshots.ops_stream_snapshot()
