"""Coalescing of location messages in a WebSocket process: the fixes every connected driver sends
while the previous write is in flight are applied in one Redis round trip (`record_location_batches`),
so ingest is not bounded by one round trip per message, and a lone message is written at once. Each
sender still gets its own report."""

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from asgiref.sync import sync_to_async

from drivers.services.profiles import LocationReport, record_location_batches

#: The most messages in one batch.
MAX_MESSAGES = 500

_Pending = tuple[int, Sequence[Mapping[str, Any]], "asyncio.Future[LocationReport]"]


class FixCoalescer:
    """Per event loop: gathers (driver, fixes) messages and writes them together, one batch at a time
    (the messages that arrive during a write form the next batch)."""

    def __init__(self) -> None:
        self._pending: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, driver_id: int, fixes: Sequence[Mapping[str, Any]]) -> LocationReport:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[LocationReport] = loop.create_future()
        self._pending.append((driver_id, fixes, future))
        if self._writer is None:
            self._writer = loop.create_task(self._write_all())
        return await future

    async def _write_all(self) -> None:
        try:
            while self._pending:
                await asyncio.sleep(0)  # the messages already read in this turn of the loop join
                batch, self._pending = self._pending[:MAX_MESSAGES], self._pending[MAX_MESSAGES:]
                await self._write(batch)
        finally:
            self._writer = None

    async def _write(self, batch: list[_Pending]) -> None:
        try:
            batches = [(driver_id, fixes) for driver_id, fixes, _ in batch]
            reports = await sync_to_async(record_location_batches, thread_sensitive=False)(batches=batches)
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
