"""How the simulated apps talk to the server, as real apps do: calls retried with backoff and the same
`Idempotency-Key`, sockets reopened with jittered backoff. Every try and every socket is recorded, so
the ledger (bench/city/ledger.py) can tell what the server answered and when.
"""

import asyncio
import contextlib
import json
import random
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets

from bench.city.ledger import Attempt

#: A call is given up after this long without an answer it can act on (the server down for good).
GIVE_UP_SECONDS = 300.0
#: A socket that says nothing for this long is dead to the app (the streams send a heartbeat every
#: 25 s, the driver stream an ack every few seconds), which reopens it.
SILENT_SECONDS = 60.0


def backoff(failures: int, rng: random.Random, *, base: float = 0.25, cap: float = 5.0) -> float:
    """Exponential backoff with jitter: 0.25, 0.5, 1, 2, 4, 5, 5... seconds, each times 0.5-1."""
    return min(cap, base * 2 ** max(0, failures - 1)) * rng.uniform(0.5, 1.0)


def bearer(token: str) -> list[str]:
    """The WebSocket subprotocol that carries the access token (a token in the URL would be logged)."""
    return [f"bearer.{token}"]


def error_code(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", {}).get("code") or "")
    except ValueError:
        return ""


@dataclass
class Api:
    """An HTTP client that retries what a phone would retry: no answer, a 5xx or a 429, with backoff and
    the same idempotency key, until an answer it can act on (2xx or another 4xx) or GIVE_UP_SECONDS."""

    base: str
    rng: random.Random
    attempts: list[Attempt] = field(default_factory=list)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    client: httpx.AsyncClient = field(
        default_factory=lambda: httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=64))
    )

    async def call(
        self,
        endpoint: str,
        method: str,
        path: str,
        token: str,
        *,
        body: dict[str, Any] | None = None,
        key: str | None = None,
    ) -> httpx.Response | None:
        headers = {"Authorization": f"Bearer {token}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        failures = 0
        give_up = time.time() + GIVE_UP_SECONDS
        while True:
            started = time.perf_counter()
            response: httpx.Response | None
            try:
                response = await self.client.request(method, self.base + path, headers=headers, json=body)
            except httpx.HTTPError:
                response = None
            self.latencies[endpoint].append(time.perf_counter() - started)
            status = None if response is None else response.status_code
            code = "" if response is None or status is None or status < 400 else error_code(response)
            self.attempts.append(Attempt(endpoint, time.time(), status, retry=failures > 0, code=code))
            if response is not None and response.status_code < 500 and response.status_code != 429:
                return response
            failures += 1
            if time.time() > give_up:
                return None
            wait = backoff(failures, self.rng)
            if response is not None and response.headers.get("Retry-After", "").isdigit():
                wait = max(wait, float(response.headers["Retry-After"]))
            await asyncio.sleep(wait)

    def successes(self, endpoint_prefix: str = "") -> list[float]:
        """When 2xx answers came (for the heal): every endpoint, or those starting with the prefix."""
        return [
            attempt.at
            for attempt in self.attempts
            if attempt.status is not None
            and attempt.status < 300
            and attempt.endpoint.startswith(endpoint_prefix)
        ]


@dataclass
class Connection:
    """One opened socket: when, and the ids of the pushed events it received (in order)."""

    stream: str
    opened_at: float
    event_ids: list[str] = field(default_factory=list)


@dataclass
class Sockets:
    """Every socket the apps opened, every refusal, and when pushed events arrived."""

    rng: random.Random
    connections: list[Connection] = field(default_factory=list)
    refusals: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    event_times: list[float] = field(default_factory=list)
    open_now: int = 0
    peak: int = 0

    def refused(self, stream: str, error: BaseException) -> None:
        self.refusals[f"{stream} {describe(error)}"] += 1

    async def follow(
        self,
        stream: str,
        url: str,
        token: str,
        on_message: Callable[[dict[str, Any], Any], Awaitable[bool]],
        *,
        until: asyncio.Event,
        on_open: Callable[[Any], Awaitable[None]] | None = None,
    ) -> None:
        """Hold `url` open until `until` is set or `on_message` returns True (the app is done with it),
        reopening it with jittered backoff whenever it closes, is refused or goes silent. Each message
        goes to `on_message(message, socket)`; a pushed event (with an `event_id`) is recorded first."""
        failures = 0
        while not until.is_set():
            try:
                async with websockets.connect(
                    url,
                    subprotocols=bearer(token),
                    open_timeout=10,
                    close_timeout=2,  # type: ignore[arg-type]
                ) as socket:
                    failures = 0
                    connection = Connection(stream, time.time())
                    self.connections.append(connection)
                    self.open_now += 1
                    self.peak = max(self.peak, self.open_now)
                    try:
                        if on_open is not None:
                            await on_open(socket)
                        if await self._read(socket, connection, on_message, until):
                            return
                    finally:
                        self.open_now -= 1
                    self.refusals[f"{stream} went silent"] += 1
            except (OSError, TimeoutError, websockets.WebSocketException) as error:
                self.refused(stream, error)
            failures += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(until.wait(), backoff(failures, self.rng, base=0.5))

    async def _read(
        self,
        socket: Any,
        connection: Connection,
        on_message: Callable[[dict[str, Any], Any], Awaitable[bool]],
        until: asyncio.Event,
    ) -> bool:
        last_heard = time.monotonic()
        while not until.is_set():
            try:
                raw = await asyncio.wait_for(socket.recv(), timeout=1.0)
            except TimeoutError:
                if time.monotonic() - last_heard > SILENT_SECONDS:
                    return False
                continue
            last_heard = time.monotonic()
            message = json.loads(raw)
            if isinstance(message, dict) and message.get("event_id"):
                connection.event_ids.append(str(message["event_id"]))
                self.event_times.append(time.time())
            if await on_message(message, socket):
                return True
        return True


def describe(error: BaseException) -> str:
    """A refusal in a few words: the handshake's HTTP status, the close code, or the failure's kind."""
    if isinstance(error, websockets.InvalidStatus):
        return f"handshake HTTP {error.response.status_code}"
    if isinstance(error, websockets.ConnectionClosed):
        code = error.rcvd.code if error.rcvd is not None else None
        return f"closed {code}" if code is not None else "closed without a code"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, ConnectionResetError):
        return str(error) or "reset"
    return type(error).__name__
