"""Presence as the sockets keep it in Redis: held while any socket holds it, gone when the last one
closes, and run out by itself when the process holding it died without saying goodbye."""

import asyncio
import time
from typing import Any

import pytest
import redis

from loship import presence
from loship.redis_client import redis_client


@pytest.fixture(autouse=True)
def _no_presence_left() -> None:
    for key in redis_client().scan_iter(presence.KEY_PREFIX + "*"):
        redis_client().delete(key)


def test_a_subject_is_present_while_any_of_its_sockets_is_open() -> None:
    subject = presence.driver(7)

    async def scenario() -> list[bool]:
        book = presence.book()
        seen = [presence.is_present(subject)]
        await book.arrive([subject], "socket-a")
        await book.arrive([subject], "socket-b")
        seen.append(presence.is_present(subject))
        await book.depart([subject], "socket-a")
        seen.append(presence.is_present(subject))
        await book.depart([subject], "socket-b")
        seen.append(presence.is_present(subject))
        return seen

    assert asyncio.run(scenario()) == [False, True, True, False]


def test_sockets_arriving_at_once_are_written_together_and_each_is_present() -> None:
    """Two hundred sockets reconnecting at the same moment: one or two pipelines write every claim
    (the first arrival's turn may come before the others have queued), and each arrival returns once
    its claim is in."""
    subjects = [presence.order_customer(order, 9) for order in range(200)]
    writes: list[int] = []

    async def scenario() -> list[bool]:
        book = presence.book()
        write = book._write

        async def counted(claims: list[tuple[str, str]]) -> None:
            writes.append(len(claims))
            await write(claims)

        book._write = counted  # type: ignore[method-assign]
        await asyncio.gather(*(book.arrive([subject], f"socket-{n}") for n, subject in enumerate(subjects)))
        present = [presence.is_present(subject) for subject in subjects]
        for n, subject in enumerate(subjects):
            await book.depart([subject], f"socket-{n}")
        return present

    assert asyncio.run(scenario()) == [True] * 200
    assert sum(writes) == 200 and len([size for size in writes if size]) <= 2
    assert not any(presence.is_present(subject) for subject in subjects)


def test_claims_are_renewed_while_held_and_run_out_when_no_longer_renewed(settings: Any) -> None:
    settings.PRESENCE_SECONDS = 0.6
    held, dropped = presence.order_customer(1, 2), presence.order_customer(1, 3)

    async def scenario() -> tuple[bool, bool]:
        book = presence.book()
        await book.arrive([held, dropped], "socket")
        book.claims.pop((dropped, "socket"))  # as if its process had died: never renewed again
        await asyncio.sleep(1.5)
        return presence.is_present(held), presence.is_present(dropped)

    assert asyncio.run(scenario()) == (True, False)


def test_presence_unreadable_counts_as_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable() -> Any:
        return redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)

    monkeypatch.setattr(presence, "redis_client", unreachable)
    started = time.monotonic()
    assert presence.is_present(presence.driver(1)) is False
    assert time.monotonic() - started < 2
