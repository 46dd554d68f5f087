"""The live streams: customer order stream, merchant stream and the ops city feed.

Every stream: authenticate (JWT from `?token=` / `bearer.<token>` subprotocol, or for the ops feed and
the merchant stream, which admin pages open, the admin's session cookie), check the browser's origin,
check the user may see the groups, join them, send the snapshot, then forward pushed events. Refusals
are accepted and closed at once with a code the client can act on: 4401 (no or bad credentials), 4403
(not allowed, or a foreign origin), 1013 (the channel layer is unreachable: retry). Heartbeats: the
server sends `{"type": "heartbeat"}` every WEBSOCKET_HEARTBEAT_SECONDS; a client may send
`{"type": "ping"}` (answered with `pong`) or `{"type": "snapshot"}` (answered with a fresh snapshot,
e.g. after it saw a gap in `sequence`).

Joining, the 1013 refusal, de-duplication (an order event by its `sequence`, any other by its
`event_id`) and sends that race a closing socket are shared with the driver stream: `loship/streams.py`.
"""

import asyncio
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.http import is_same_domain

from loship import presence
from loship.push import OPS_GROUP, merchant_group, order_group
from loship.streams import Dedup, LiveStream, in_database_thread
from loship.timefmt import iso
from orders.models import ORDER_TOPIC_PREFIX
from orders.selectors import read_order_snapshot
from realtime import snapshots
from users.sockets import BEARER_SUBPROTOCOL_PREFIX, authenticate

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


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


class StreamConsumer(LiveStream):
    """Authentication, origin and heartbeats for the customer, merchant and ops streams; groups,
    snapshot and de-duplication as every stream does them (`loship.streams.LiveStream`).

    Opening makes one trip to Redis (the groups, named by the URL) and one to a database worker thread
    (`open_stream`: the user, what they may watch, the snapshot)."""

    #: Whether an admin session cookie (from an allowed origin) may stand in for a JWT.
    accepts_session = False

    async def connect(self) -> None:
        self.dedup = Dedup(order_topics=ORDER_TOPIC_PREFIX)
        self.heartbeat: asyncio.Task[None] | None = None
        subprotocol = self.chosen_subprotocol()
        refusal = self.refusal()
        if refusal is not None:
            await self.refuse(refusal, subprotocol=subprotocol)
            return
        if not await self.join(self.stream_groups(), subprotocol=subprotocol):
            return
        opened = await in_database_thread(self.open_stream)()
        if isinstance(opened, int):
            await self.refuse(opened, subprotocol=subprotocol)
            return
        await self.accept_counted(subprotocol)
        await self.send_snapshot(opened)
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

    def open_stream(self) -> dict[str, Any] | int:
        """In the database thread: the user behind the credentials, whether they may watch this stream,
        and its snapshot; or the close code that refuses them."""
        user = self.signed_in()
        if user is None:
            return CLOSE_UNAUTHENTICATED
        return self.read_snapshot() if self.may_watch(user) else CLOSE_FORBIDDEN

    def signed_in(self, *, loaded: Any = None) -> Any:
        """The active user behind the credentials, kept on the scope, or None (`loaded`: a user the
        caller has already read, see `authenticate`)."""
        user = authenticate(self.scope, loaded=loaded)
        if not user.is_authenticated or not user.is_active:
            return None
        self.scope["user"] = user
        return user

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

    async def snapshot(self) -> dict[str, Any]:
        return await in_database_thread(self.read_snapshot)()

    async def beat(self) -> None:
        interval = float(settings.WEBSOCKET_HEARTBEAT_SECONDS)
        while True:
            await asyncio.sleep(interval)
            await self.send_unless_closed({"type": "heartbeat", "at": iso(timezone.now())})

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong", "at": iso(timezone.now())})
        elif kind == "snapshot":
            await self.send_snapshot()
        else:
            await self.send_json({"type": "error", "code": "unknown_message"})

    async def disconnect(self, code: int) -> None:
        if self.heartbeat is not None:
            self.heartbeat.cancel()
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
        """The order's customer and ops may watch. One statement reads the snapshot with the order's
        customer, and the customer's own token is checked against that row, so only another watcher
        (ops) costs a user lookup."""
        snapshot = read_order_snapshot(self.order_id)
        user = self.signed_in(loaded=snapshot.customer if snapshot else None)
        if user is None:
            return CLOSE_UNAUTHENTICATED
        if snapshot is None or (snapshot.customer.pk != user.pk and not user.is_ops):
            return CLOSE_FORBIDDEN
        if snapshot.customer.pk == user.pk:  # the order's chat pushes to the phone while this is closed
            self.presence = [presence.order_customer(self.order_id, user.pk)]
        return snapshots.order_stream_snapshot(snapshot)

    def read_snapshot(self) -> dict[str, Any]:
        snapshot = read_order_snapshot(self.order_id)
        if snapshot is None:
            return {"type": "error", "code": "order_not_found"}
        return snapshots.order_stream_snapshot(snapshot)

    async def stream_event(self, message: dict[str, Any]) -> None:
        """A gap in the order's sequence (a lost push) is healed with a fresh snapshot."""
        event = message["event"]
        if self.dedup.is_order_event(event) and event.get("order_id") == self.order_id:
            known = self.dedup.sequences.get(self.order_id, 0)
            if int(event.get("sequence") or 0) > known + 1:
                await self.send_snapshot()
                return
        await super().stream_event(message)


class MerchantStreamConsumer(StreamConsumer):
    """`/ws/merchants/<merchant_id>/`: new orders, cancellations, driver arrival (staff of the merchant,
    and ops). The admin's incoming orders page may use its session cookie."""

    stream = "merchant"
    accepts_session = True

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
