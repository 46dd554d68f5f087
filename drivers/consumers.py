"""The driver stream `/ws/driver/`: location fixes up; offers and job updates down.

On connect the driver joins its group and gets a snapshot (profile, open offers, current jobs), so a
reconnect after any outage shows the latest state. Messages from the app:
    {"type": "location", "fixes": [{"lat", "lng", "timestamp", "heading", "speed", "accuracy"}, ...]}
    {"type": "snapshot"}                                    (ask for the snapshot again)
answered with {"type": "location.ack", "accepted", "ignored", "rejected"} / a snapshot.
"""

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer

from drivers import selectors
from drivers.ingest import FixCoalescer, coalescer
from drivers.services.profiles import MAX_FIXES_PER_BATCH, LocationReport, ensure_profile
from loship.metrics import WEBSOCKET_CONNECTIONS
from loship.push import driver_group
from users.models import Role, User

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


@database_sync_to_async
def _snapshot(user: User) -> dict[str, Any]:
    return selectors.driver_snapshot(ensure_profile(user=user))


def _ack(report: LocationReport) -> str:
    """The ack's JSON; the common ones (nothing rejected) are encoded once."""
    if report.rejected:
        return json.dumps({"type": "location.ack", **report.as_dict()})
    return _plain_ack(report.accepted, report.ignored)


@functools.lru_cache(maxsize=256)
def _plain_ack(accepted: int, ignored: int) -> str:
    return json.dumps({"type": "location.ack", "accepted": accepted, "ignored": ignored, "rejected": []})


class DriverConsumer(AsyncJsonWebsocketConsumer):
    user: User
    user_id: int = 0
    fixes: FixCoalescer
    group: str = ""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if not isinstance(user, User) or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not user.has_role(Role.DRIVER):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.user = user
        self.user_id = user.pk
        self.group = driver_group(user.pk)
        self.fixes = coalescer()
        await self.channel_layer.group_add(self.group, self.channel_name)
        subprotocol = next((p for p in self.scope.get("subprotocols", []) if p.startswith("bearer.")), None)
        await self.accept(subprotocol=subprotocol)
        WEBSOCKET_CONNECTIONS.labels(stream="driver").inc()
        await self.send_json(await _snapshot(self.user))

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            WEBSOCKET_CONNECTIONS.labels(stream="driver").dec()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Channels' `AsyncConsumer.__call__`, except for the loop: Channels waits on the socket and the
        channel layer with `asyncio.wait` and a new task for every message, which costs more than the
        rest of a location message. Here one long-lived task per source dispatches what it receives,
        one message at a time (a lock), as Channels does."""
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        sources = [receive]
        if self.channel_layer is not None:
            self.channel_name = await self.channel_layer.new_channel()
            self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
            sources.append(self.channel_receive)
        self.base_send = send
        one_at_a_time = asyncio.Lock()

        async def pump(source: Callable[[], Awaitable[dict[str, Any]]]) -> None:
            while True:
                message = await source()
                async with one_at_a_time:
                    await self.dispatch(message)

        pumps = [asyncio.ensure_future(pump(source)) for source in sources]
        try:
            done, _ = await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        except StopConsumer:
            pass
        finally:
            for task in pumps:
                task.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels closes stale database connections in a thread hop before every message. Messages
        from the app and pushed events skip that hop: the location path never touches the database,
        and the snapshot goes through `database_sync_to_async`, which closes them itself."""
        if message["type"] == "websocket.receive":
            await self.websocket_receive(message)
        elif message["type"] == "stream.event":
            await self.stream_event(message)
        else:
            await super().dispatch(message)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "location":
            fixes = content.get("fixes")
            if not isinstance(fixes, list) or not 1 <= len(fixes) <= MAX_FIXES_PER_BATCH:
                await self.send_json({"type": "error", "code": "location_batch_invalid"})
                return
            report = await self.fixes.submit(self.user_id, fixes)
            await self.send(text_data=_ack(report))
        elif kind == "snapshot":
            await self.send_json(await _snapshot(self.user))
        else:
            await self.send_json({"type": "error", "code": "message_type_unknown"})

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None

    async def stream_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])
