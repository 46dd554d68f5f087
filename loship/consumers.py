"""The base of every WebSocket consumer: Channels' JSON consumer without its per-message thread hop,
and `in_database_thread` for a consumer's database work.

Channels runs `close_old_connections` in the process's one sync thread before every message a
consumer handles and after every disconnect, so each pushed event, each message from the app and each
socket that closes waits in line for that thread behind whatever database work it is doing (a burst of
snapshots when thousands of sockets reconnect, say). Our consumers touch the database only through
`in_database_thread`, which closes stale connections itself around each call, so the hop buys
nothing here.
"""

from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from channels.consumer import get_handler_name
from channels.db import DatabaseSyncToAsync
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer

P = ParamSpec("P")
R = TypeVar("R")


def in_database_thread(function: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """`function` run in one of the event loop's worker threads, with stale connections closed around
    it, as Channels' `database_sync_to_async` does, but not all in the one sync thread: thousands of
    sockets reconnecting at once wait on PostgreSQL side by side. Each thread keeps its own connection
    (the ws process runs with DB_CONN_MAX_AGE), so a process holds at most one per worker thread."""
    return DatabaseSyncToAsync(function, thread_sensitive=False)


class LeanJsonConsumer(AsyncJsonWebsocketConsumer):
    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        await self.disconnect(message["code"])
        raise StopConsumer()
