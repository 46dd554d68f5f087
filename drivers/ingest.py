"""Coalescing of location messages in a WebSocket process: the fixes every connected driver sends
within a few milliseconds are applied in one Redis round trip (`record_location_batches`), so ingest
is not bounded by one round trip per message. Each sender still gets its own report."""

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from asgiref.sync import sync_to_async

from drivers.services.profiles import LocationReport, record_location_batches

#: How long the first message of a batch waits for others, and the most messages in one batch.
MAX_WAIT_SECONDS = 0.005
MAX_MESSAGES = 500

_Pending = tuple[int, Sequence[Mapping[str, Any]], "asyncio.Future[LocationReport]"]


class FixCoalescer:
    """Per event loop: gathers (driver, fixes) messages and flushes them together."""

    def __init__(self) -> None:
        self._pending: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None

    async def submit(self, driver_id: int, fixes: Sequence[Mapping[str, Any]]) -> LocationReport:
        future: asyncio.Future[LocationReport] = asyncio.get_running_loop().create_future()
        self._pending.append((driver_id, fixes, future))
        if len(self._pending) >= MAX_MESSAGES:
            await self._flush()
        elif self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(self._flush_soon())
        return await future

    async def _flush_soon(self) -> None:
        await asyncio.sleep(MAX_WAIT_SECONDS)
        self._flusher = None
        await self._flush()

    async def _flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            reports = await sync_to_async(record_location_batches, thread_sensitive=False)(
                batches=[(driver_id, fixes) for driver_id, fixes, _ in batch]
            )
        except Exception as error:
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for (_, _, future), report in zip(batch, reports, strict=True):
            if not future.done():
                future.set_result(report)


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
