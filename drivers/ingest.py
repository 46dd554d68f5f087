"""Coalescing of location messages in a WebSocket process: the fixes every connected driver sends
while the previous write is in flight are applied in one Redis round trip, so ingest is not bounded by
one round trip per message, and a lone message is written at once. Each sender still gets its own
report.

The write runs on the event loop itself (an asyncio Redis client, `location.LoopFixes`): a worker
thread per batch cost a hop and a fight for the GIL with the loop that reads the sockets. Only the rare
parts go to a thread: the customers' position pushes, and the PostgreSQL save while Redis is down."""

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import redis
from asgiref.sync import sync_to_async
from django.utils import timezone

from drivers.location import LoopFixes
from drivers.services.profiles import (
    LocationReport,
    check_location_batches,
    push_positions,
    save_newest_fixes,
    settle_location_batches,
)
from loship.streams import in_database_thread

#: The most messages in one batch.
MAX_MESSAGES = 500
#: How long a message may wait for others to join its batch. At a steady trickle (each driver one
#: fix every few seconds), batches of one or two would pay Redis's per-call cost per message.
GATHER_SECONDS = 0.002

Batches = list[tuple[int, Sequence[Mapping[str, Any]]]]
_Pending = tuple[int, Sequence[Mapping[str, Any]], "asyncio.Future[LocationReport]"]


class FixCoalescer:
    """Per event loop: gathers (driver, fixes) messages and writes them together, one batch at a time
    (the messages that arrive during a write form the next batch). `write` replaces the write itself
    (tests)."""

    def __init__(self, write: Callable[[Batches], Awaitable[list[LocationReport]]] | None = None) -> None:
        self._pending: list[_Pending] = []
        self._oldest = 0.0
        self._writer: asyncio.Task[None] | None = None
        self._live: LoopFixes | None = None
        self._record = write or self._record_batches

    async def submit(self, driver_id: int, fixes: Sequence[Mapping[str, Any]]) -> LocationReport:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[LocationReport] = loop.create_future()
        if not self._pending:
            self._oldest = loop.time()
        self._pending.append((driver_id, fixes, future))
        if self._writer is None:
            self._writer = loop.create_task(self._write_all(loop))
        return await future

    async def _write_all(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            while self._pending:
                # Others join until the oldest message has waited GATHER_SECONDS (at once when it
                # already has, as after a write under load); at least the messages already read in
                # this turn of the loop.
                await asyncio.sleep(max(0.0, self._oldest + GATHER_SECONDS - loop.time()))
                batch, self._pending = self._pending[:MAX_MESSAGES], self._pending[MAX_MESSAGES:]
                self._oldest = loop.time()
                await self._write(batch)
        finally:
            self._writer = None

    async def _write(self, batch: list[_Pending]) -> None:
        try:
            reports = await self._record([(driver_id, fixes) for driver_id, fixes, _ in batch])
        except Exception as error:
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for (_, _, future), report in zip(batch, reports, strict=True):
            if not future.done():
                future.set_result(report)

    async def _record_batches(self, batches: Batches) -> list[LocationReport]:
        """`record_location_batches`, with the Redis write on this loop."""
        now = timezone.now()
        checked = check_location_batches(batches, now=now)
        if self._live is None:
            self._live = LoopFixes()
        try:
            applied = await self._live.apply(checked.entries, now=now)
        except redis.RedisError:
            applied = await in_database_thread(save_newest_fixes)(checked.entries)
        due = settle_location_batches(checked, applied)
        if due:
            await sync_to_async(push_positions, thread_sensitive=False)(due)
        return checked.reports


_coalescers: dict[int, tuple[asyncio.AbstractEventLoop, FixCoalescer]] = {}


def coalescer() -> FixCoalescer:
    """The coalescer of the running event loop (a closed loop's entry is replaced, never reused)."""
    loop = asyncio.get_running_loop()
    found = _coalescers.get(id(loop))
    if found is None or found[0] is not loop:
        for key in [key for key, (old, _) in _coalescers.items() if old.is_closed()]:
            del _coalescers[key]
        found = _coalescers[id(loop)] = (loop, FixCoalescer())
    return found[1]
