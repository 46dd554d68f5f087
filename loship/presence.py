"""Who has a live socket open right now: presence kept in Redis by the stream consumers, read by
whoever must decide between a live push and a phone notification (an order chat message).

A subject (`order_customer`, `driver`) is present while at least one socket holds it. Each socket is a
member of the subject's sorted set, scored with the moment its claim runs out; the process that holds
the socket renews every claim it holds every third of PRESENCE_SECONDS (one pipeline per process, not
a timer per socket) and withdraws it when the socket closes. A process that dies without closing its
sockets leaves claims that run out within PRESENCE_SECONDS, so nobody is shown present for long after.

Presence is advice, never the truth: when Redis cannot be read, a subject counts as absent (a
notification too many beats a message nobody hears of), and a claim that cannot be written is logged
and tried again at the next renewal.
"""

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from typing import Any

import redis
from django.conf import settings

from loship.redis_client import redis_client

logger = logging.getLogger(__name__)

KEY_PREFIX = "loship:presence:"


def order_customer(order_id: object, user_id: object) -> str:
    """The customer of an order, with that order's stream open."""
    return f"order:{order_id}:customer:{user_id}"


def driver(user_id: object) -> str:
    """A driver with the driver socket open."""
    return f"driver:{user_id}"


def _key(subject: str) -> str:
    return KEY_PREFIX + subject


def _lifetime() -> float:
    return float(settings.PRESENCE_SECONDS)


def is_present(subject: str) -> bool:
    """Whether a socket holds `subject` now (False when Redis cannot be read)."""
    try:
        return bool(redis_client().zcount(_key(subject), f"({time.time()}", "+inf"))
    except redis.RedisError:
        logger.warning("presence: %s unreadable, counted absent", subject, exc_info=True)
        return False


def _claim(claims: list[tuple[str, str]]) -> None:
    """Write (or renew) each (subject, socket) claim, and drop the run-out claims beside it."""
    now, lifetime = time.time(), _lifetime()
    pipeline = redis_client().pipeline(transaction=False)
    for subject, socket in claims:
        key = _key(subject)
        pipeline.zadd(key, {socket: now + lifetime})
        pipeline.zremrangebyscore(key, "-inf", now)
        pipeline.expire(key, int(lifetime) + 1)
    pipeline.execute()


def _withdraw(subject: str, socket: str) -> None:
    redis_client().zrem(_key(subject), socket)


async def _in_thread(function: Callable[..., None], *args: Any) -> None:
    """A blocking Redis call in one of the loop's worker threads (no context variables carried: asgiref's
    `sync_to_async` copies them there and back, which costs more than the call)."""
    await asyncio.get_running_loop().run_in_executor(None, functools.partial(function, *args))


class PresenceBook:
    """The claims of one event loop's sockets, renewed together. Writes and withdrawals take turns
    (`turn`), so a renewal that read a claim before its socket closed cannot write it back after.

    Arrivals are written together: an arrival queues its claims and waits its turn, and the first
    to get the turn writes every queued claim in one pipeline, so those queued behind it find theirs
    written and return. Thousands of sockets reconnecting at once cost a few writes, not one each."""

    def __init__(self) -> None:
        self.claims: dict[tuple[str, str], None] = {}
        self.arriving: dict[tuple[str, str], None] = {}
        self.renewer: asyncio.Task[None] | None = None
        self.turn = asyncio.Lock()

    async def arrive(self, subjects: list[str], socket: str) -> None:
        for subject in subjects:
            self.claims[(subject, socket)] = None
            self.arriving[(subject, socket)] = None
        if self.renewer is None or self.renewer.done():
            self.renewer = asyncio.get_running_loop().create_task(self._renew_forever())
        async with self.turn:
            queued, self.arriving = self.arriving, {}
            await self._write([claim for claim in queued if claim in self.claims])

    async def depart(self, subjects: list[str], socket: str) -> None:
        for subject in subjects:
            self.claims.pop((subject, socket), None)
        async with self.turn:
            for subject in subjects:
                try:
                    await _in_thread(_withdraw, subject, socket)
                except redis.RedisError:
                    logger.warning("presence: %s not withdrawn (it runs out by itself)", subject)

    async def _write(self, claims: list[tuple[str, str]]) -> None:
        if not claims:
            return
        try:
            await _in_thread(_claim, claims)
        except redis.RedisError:
            logger.warning("presence: %d claims not written, renewed later", len(claims))

    async def _renew_forever(self) -> None:
        while self.claims:
            await asyncio.sleep(_lifetime() / 3)
            async with self.turn:
                await self._write(list(self.claims))


_books: dict[int, tuple[asyncio.AbstractEventLoop, PresenceBook]] = {}


def book() -> PresenceBook:
    """The presence book of the running event loop (a closed loop's book is replaced)."""
    loop = asyncio.get_running_loop()
    found = _books.get(id(loop))
    if found is None or found[0] is not loop:
        for key in [key for key, (old, _) in _books.items() if old.is_closed()]:
            del _books[key]
        found = _books[id(loop)] = (loop, PresenceBook())
    return found[1]
