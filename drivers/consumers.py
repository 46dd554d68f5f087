"""The driver stream `/ws/driver/`: location fixes up; offers and job updates down.

On connect the driver joins its group and gets a snapshot (profile, open offers, current jobs), so a
reconnect after any outage shows the latest state. Messages from the app:
    {"type": "location", "fixes": [{"lat", "lng", "timestamp", "heading", "speed", "accuracy"}, ...]}
    {"type": "snapshot"}                                    (ask for the snapshot again)
answered with {"type": "location.ack", "accepted", "ignored", "rejected"} / a snapshot.

Joining (1013 when the channel layer is unreachable), de-duplicating pushed events and sends that race
a closing socket are done as on every stream (`loship.streams.LiveStream`).
"""

import functools
import json
from typing import Any

import orjson

from drivers import selectors
from drivers.ingest import FixCoalescer, coalescer
from drivers.services.profiles import MAX_FIXES_PER_BATCH, LocationReport, ensure_profile
from loship.push import driver_group
from loship.streams import Dedup, LiveStream, in_database_thread
from orders.models import ORDER_TOPIC_PREFIX
from users.models import Role, User
from users.sockets import authenticate, token_user_id

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


@in_database_thread
def _snapshot(user: User) -> dict[str, Any]:
    return selectors.driver_snapshot(ensure_profile(user=user))


@in_database_thread
def _open(scope: dict[str, Any]) -> tuple[User, dict[str, Any]] | int:
    """In the database thread, one trip: the driver behind the token and their snapshot, or the close
    code that refuses the socket."""
    user = authenticate(scope)
    if not isinstance(user, User) or not user.is_active:
        return CLOSE_UNAUTHENTICATED
    if not user.has_role(Role.DRIVER):
        return CLOSE_FORBIDDEN
    return user, selectors.driver_snapshot(ensure_profile(user=user))


def _ack(report: LocationReport) -> str:
    """The ack's JSON; the common ones (nothing rejected) are encoded once."""
    if report.rejected:
        return json.dumps({"type": "location.ack", **report.as_dict()})
    return _plain_ack(report.accepted, report.ignored)


@functools.lru_cache(maxsize=256)
def _plain_ack(accepted: int, ignored: int) -> str:
    return json.dumps({"type": "location.ack", "accepted": accepted, "ignored": ignored, "rejected": []})


class DriverConsumer(LiveStream):
    stream = "driver"
    user: User
    user_id: int = 0
    fixes: FixCoalescer

    async def connect(self) -> None:
        """One trip to Redis (the driver's group, named by the token) and one to the database thread
        (`_open`); the group is joined before the snapshot is read, so no event falls between."""
        user_id = token_user_id(self.scope)
        if user_id is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.dedup = Dedup(order_topics=ORDER_TOPIC_PREFIX)
        subprotocol = next((p for p in self.scope.get("subprotocols", []) if p.startswith("bearer.")), None)
        if not await self.join([driver_group(user_id)], subprotocol=subprotocol):
            return
        opened = await _open(self.scope)
        if isinstance(opened, int):
            await self.leave()
            await self.close(code=opened)
            return
        self.user, snapshot = opened
        self.user_id = self.user.pk
        self.fixes = coalescer()
        await self.accept_counted(subprotocol)
        await self.send_snapshot(snapshot)

    async def snapshot(self) -> dict[str, Any]:
        return await _snapshot(self.user)

    async def disconnect(self, code: int) -> None:
        await self.leave()

    async def websocket_receive(self, message: dict[str, Any]) -> None:
        """The app's messages, decoded here rather than through Channels' `receive`, `decode_json`,
        `receive_json` and `send` layers: a location message every few seconds from every driver is
        most of what this process does, and its ack goes straight to the server."""
        try:
            content = orjson.loads(message.get("text") or "null")
        except orjson.JSONDecodeError:
            content = None
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "location":
            fixes = content.get("fixes")
            if not isinstance(fixes, list) or not 1 <= len(fixes) <= MAX_FIXES_PER_BATCH:
                await self.send_json({"type": "error", "code": "location_batch_invalid"})
                return
            report = await self.fixes.submit(self.user_id, fixes)
            await self.base_send({"type": "websocket.send", "text": _ack(report)})
        elif kind == "snapshot":
            await self.send_snapshot()
        else:
            await self.send_json({"type": "error", "code": "message_type_unknown"})
