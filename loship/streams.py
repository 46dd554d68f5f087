"""What every live stream's socket does the same way, whichever app owns it (the customer, merchant and
ops streams in `realtime`, the driver stream in `drivers`): join its groups or refuse, forward each
pushed event once, and let a send that finds the socket closed go.

Refusal. When the channel layer (Redis) is unreachable at connect, the socket is accepted and closed
at once with 1013 (try again later), which an app answers by reconnecting with backoff; an HTTP error
on the handshake would read as a broken server.

Exactly once at the socket. Pushed events can arrive twice (the relay retried a destination it had
already served) or out of date (the snapshot already shows them). An order event is forwarded only
when its `sequence` (the order's version) is newer than what this socket has for that order; any other
event once per `event_id`.

A closed socket. A push, a heartbeat or a healing snapshot can be on its way when the client closes;
the server's send then raises (uvicorn: `ClientDisconnected`, or a RuntimeError once it has seen the
close). That is no fault: it is logged at DEBUG and the disconnect that follows cleans up.
"""

import contextlib
import logging
from collections import OrderedDict
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from loship.metrics import WEBSOCKET_CONNECTIONS

logger = logging.getLogger(__name__)

CLOSE_TRY_AGAIN_LATER = 1013
#: How many orders / event ids a socket remembers for de-duplication.
DEDUP_MEMORY = 5000


class Dedup:
    """What one socket has already forwarded: the newest sequence per order, and recent event ids.

    `order_topics` is the prefix of order events' topics (the orders app owns it, and the ground may
    not import it)."""

    def __init__(self, *, order_topics: str) -> None:
        self.order_topics = order_topics
        self.sequences: OrderedDict[int, int] = OrderedDict()
        self.event_ids: OrderedDict[str, None] = OrderedDict()

    def is_order_event(self, event: dict[str, Any]) -> bool:
        return str(event.get("type", "")).startswith(self.order_topics) and event.get("order_id") is not None

    def seen_order(self, order_id: int, sequence: int) -> None:
        if sequence > self.sequences.get(order_id, 0):
            self.sequences[order_id] = sequence
            self.sequences.move_to_end(order_id)
            if len(self.sequences) > DEDUP_MEMORY:
                self.sequences.popitem(last=False)

    def seen_snapshot(self, body: dict[str, Any]) -> None:
        """The order versions a snapshot shows (one order's, or a list of orders')."""
        if body.get("type") == "order.snapshot":
            self.seen_order(int(body["order_id"]), int(body["sequence"]))
        for order in body.get("orders", []):
            self.seen_order(int(order["order_id"]), int(order["version"]))

    def is_new(self, event: dict[str, Any]) -> bool:
        if self.is_order_event(event):
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


class LiveStream(AsyncJsonWebsocketConsumer):
    """The base of every stream's consumer: `open` (join or refuse with 1013, accept, count),
    `leave`, the snapshot, and pushed events forwarded once to a socket that may have just closed.

    A subclass sets `stream` (the label of the connection gauge) and `dedup` before `open`, and
    implements `snapshot`."""

    stream = "stream"
    dedup: Dedup

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.joined: list[str] = []
        self.counted = False

    async def open(self, groups: list[str], *, subprotocol: str | None) -> bool:
        """Join `groups` and accept the socket; when the channel layer is unreachable, accept and close
        with 1013 instead (nothing left joined) and return False."""
        self.joined = []
        try:
            for group in groups:
                await self.channel_layer.group_add(group, self.channel_name)
                self.joined.append(group)
        except Exception:
            logger.warning(
                "%s stream: channel layer unreachable, refusing with 1013", self.stream, exc_info=True
            )
            await self.leave()
            await self.accept(subprotocol)
            await self.close(code=CLOSE_TRY_AGAIN_LATER)
            return False
        await self.accept(subprotocol)
        WEBSOCKET_CONNECTIONS.labels(stream=self.stream).inc()
        self.counted = True
        return True

    async def leave(self) -> None:
        """Uncount the socket and leave its groups (the layer may be down: memberships expire anyway)."""
        if self.counted:
            WEBSOCKET_CONNECTIONS.labels(stream=self.stream).dec()
            self.counted = False
        for group in self.joined:
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(group, self.channel_name)
        self.joined = []

    async def snapshot(self) -> dict[str, Any]:
        raise NotImplementedError

    async def send_snapshot(self) -> None:
        body = await self.snapshot()
        self.dedup.seen_snapshot(body)
        await self.send_unless_closed(body)

    async def stream_event(self, message: dict[str, Any]) -> None:
        """A pushed event (`loship.push`), forwarded unless this socket already has it."""
        event = message["event"]
        if self.dedup.is_new(event):
            await self.send_unless_closed(event)

    async def send_unless_closed(self, content: dict[str, Any]) -> None:
        """Send `content`, or drop it if the socket closed meanwhile (module docstring)."""
        try:
            await self.send_json(content)
        except (OSError, RuntimeError) as error:
            logger.debug(
                "%s stream: socket closed before a send of %s (%r)", self.stream, content.get("type"), error
            )
