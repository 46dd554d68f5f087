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

No hop per message. Channels runs `close_old_connections` in the process's one sync thread before
every message a consumer handles and after every disconnect, so each pushed event, each message from
the app and each socket that closes would wait in line for that thread behind whatever database work it
is doing (a burst of snapshots when thousands of sockets reconnect, say). Streams touch the database
only through `in_database_thread`, which closes stale connections itself around each call, so
`LiveStream` dispatches without that hop.
"""

import asyncio
import contextlib
import functools
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

import orjson
from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django.db import close_old_connections

from loship import presence
from loship.connections import once_more_if_lost
from loship.metrics import WEBSOCKET_CONNECTIONS

logger = logging.getLogger(__name__)

CLOSE_TRY_AGAIN_LATER = 1013
#: How many orders / event ids a socket remembers for de-duplication.
DEDUP_MEMORY = 5000

P = ParamSpec("P")
R = TypeVar("R")


def in_database_thread(function: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """`function` run in one of the event loop's worker threads, with stale connections closed around
    it, as Channels' `database_sync_to_async` does, but not all in the one sync thread: thousands of
    sockets reconnecting at once wait on PostgreSQL side by side. Each thread keeps its own connection
    (the ws process runs with DB_CONN_MAX_AGE), so a process holds at most one per worker thread. A
    call whose connection is lost under it runs once more on a fresh one (`loship.connections`).

    A plain `run_in_executor`, not asgiref's `SyncToAsync`: that one copies the caller's context
    variables into the thread and back out again, a fifth of the cost of opening a stream, and a
    stream's database work reads none of them."""
    guarded = once_more_if_lost(function)

    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        close_old_connections()
        try:
            return guarded(*args, **kwargs)
        finally:
            close_old_connections()

    @functools.wraps(function)
    async def call(*args: P.args, **kwargs: P.kwargs) -> R:
        return await asyncio.get_running_loop().run_in_executor(None, functools.partial(run, *args, **kwargs))

    return call


@functools.cache
def _connections(stream: str) -> Any:
    """The open-sockets gauge of one stream (looking the labelled child up costs more than counting)."""
    return WEBSOCKET_CONNECTIONS.labels(stream=stream)


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
    """The base of every stream's consumer: `join` (or refuse with 1013), `refuse`, `accept_counted`,
    `leave`, the snapshot, and pushed events forwarded once to a socket that may have just closed.

    A subclass sets `stream` (the label of the connection gauge) and `dedup` before `join`, and
    implements `snapshot`; it may set `presence`, the subjects (`loship.presence`) the socket holds
    while it is open, before `accept_counted`. Opening a socket: join the groups (named by the URL or
    the token), read the user, the permission and the snapshot in one `in_database_thread` call, then
    accept or refuse; the groups come first, so no event falls between the snapshot and the
    subscription."""

    stream = "stream"
    dedup: Dedup

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.joined: list[str] = []
        self.counted = False
        self.presence: list[str] = []
        self.arrival: asyncio.Task[None] | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Channels' `AsyncConsumer.__call__`, except for the loop. Channels waits on the socket and the
        channel layer with `asyncio.wait` and a new task for every message, which costs more than the
        rest of a driver's location message; here one long-lived task per source dispatches what it
        receives, one message at a time (a lock), as Channels does. The channel layer is read only
        once the socket is accepted (a socket refused while Redis is down never touches it), and if
        Redis goes away under an open socket, the socket is closed with 1013 (the app reconnects and
        gets a fresh snapshot) rather than ending in a traceback."""
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = await self.channel_layer.new_channel()
        self.base_send = send
        self.subscribed = asyncio.Event()
        one_at_a_time = asyncio.Lock()

        async def pump_socket() -> None:
            while True:
                message = await receive()
                async with one_at_a_time:
                    await self.dispatch(message)

        async def pump_layer() -> None:
            await self.subscribed.wait()
            while True:
                try:
                    message = await self.channel_layer.receive(self.channel_name)
                except Exception:
                    logger.warning("%s stream: channel layer lost, closing with 1013", self.stream)
                    with contextlib.suppress(Exception):  # the socket may have closed meanwhile
                        await self.close(code=CLOSE_TRY_AGAIN_LATER)
                    return
                async with one_at_a_time:
                    await self.dispatch(message)

        socket, layer = asyncio.ensure_future(pump_socket()), asyncio.ensure_future(pump_layer())
        try:
            done, _ = await asyncio.wait([socket, layer], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # a bug in a handler surfaces; the layer's own loss returned quietly
            await socket  # until the socket's disconnect ends the consumer
        except StopConsumer:
            pass
        finally:
            for task in (socket, layer):
                task.cancel()
            await asyncio.gather(socket, layer, return_exceptions=True)

    @classmethod
    async def encode_json(cls, content: Any) -> str:
        """Every frame a stream sends (snapshots, pushes, heartbeats) encoded by orjson: several
        times faster than the standard library's encoder on a snapshot, and the same JSON."""
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS).decode()

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch without its hop to the sync thread (module docstring)."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        await self.disconnect(message["code"])
        raise StopConsumer()

    async def join(self, groups: list[str], *, subprotocol: str | None) -> bool:
        """Join `groups`; when the channel layer is unreachable, accept and close with 1013 instead
        (nothing left joined) and return False."""
        self.joined = []
        try:
            for group in groups:
                await self.channel_layer.group_add(group, self.channel_name)
                self.joined.append(group)
        except Exception:
            logger.warning(
                "%s stream: channel layer unreachable, refusing with 1013", self.stream, exc_info=True
            )
            await self.refuse(CLOSE_TRY_AGAIN_LATER, subprotocol=subprotocol)
            return False
        return True

    async def refuse(self, code: int, *, subprotocol: str | None) -> None:
        """Leave any group joined, then accept and close at once with `code`, so the app reads it."""
        await self.leave()
        await self.accept(subprotocol)
        await self.close(code=code)

    async def accept_counted(self, subprotocol: str | None) -> None:
        """Accept the socket, count it, and start reading the channel layer for it."""
        await self.accept(subprotocol)
        _connections(self.stream).inc()
        self.counted = True
        self.subscribed.set()
        if self.presence:  # written beside the snapshot, not before it
            self.arrival = asyncio.create_task(presence.book().arrive(self.presence, self.channel_name))

    async def leave(self) -> None:
        """Uncount the socket, withdraw its presence and leave its groups (the layer may be down:
        memberships expire anyway)."""
        if self.counted:
            _connections(self.stream).dec()
            self.counted = False
        if self.arrival is not None:
            await asyncio.gather(self.arrival, return_exceptions=True)  # withdrawn after it was written
            self.arrival = None
            await presence.book().depart(self.presence, self.channel_name)
        for group in self.joined:
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(group, self.channel_name)
        self.joined = []

    async def snapshot(self) -> dict[str, Any]:
        raise NotImplementedError

    async def send_snapshot(self, body: dict[str, Any] | None = None) -> None:
        """Send a snapshot (read now unless given), remembering the order versions it shows."""
        if body is None:
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
