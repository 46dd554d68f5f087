"""Real WebSocket clients (the `websockets` library) and HTTP helpers for the end-to-end tests."""

import json
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.realtime.conftest import token_for


class StreamClient:
    """One socket, read by a thread that stamps every message with its arrival time."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.inbox: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        self.close_code: int | None = None
        self.closed = threading.Event()
        self.ws: ClientConnection = connect(url, open_timeout=10, close_timeout=2)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        try:
            for raw in self.ws:
                self.inbox.put((time.time(), json.loads(raw)))
        except ConnectionClosed:
            pass
        except OSError:
            pass
        finally:
            if self.ws.close_code is not None:
                self.close_code = self.ws.close_code
            self.closed.set()

    def next(
        self, accept: Callable[[dict[str, Any]], bool] = lambda m: True, timeout: float = 15.0
    ) -> tuple[float, dict[str, Any]]:
        """The next message `accept` takes (others, e.g. heartbeats, are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no matching message on {self.url} within {timeout} s")
            try:
                stamp, message = self.inbox.get(timeout=min(remaining, 0.2))
            except queue.Empty:
                continue
            if accept(message):
                return stamp, message

    def order_events(self, count: int, timeout: float = 15.0) -> list[tuple[float, dict[str, Any]]]:
        return [
            self.next(lambda m: str(m.get("type", "")).startswith("order."), timeout) for _ in range(count)
        ]

    def drain(self) -> list[dict[str, Any]]:
        messages = []
        while not self.inbox.empty():
            messages.append(self.inbox.get_nowait()[1])
        return messages

    def close(self) -> None:
        self.ws.close()
        self.reader.join(timeout=5)


def order_stream_url(ws_base: str, order_id: int, user: Any) -> str:
    return f"{ws_base}/ws/orders/{order_id}/?token={token_for(user)}"


def refusal_code(url: str) -> int | None:
    """The close code the server answers `url` with (None if it sends a first message instead)."""
    client = StreamClient(url)
    try:
        client.closed.wait(timeout=10)
        return client.close_code if client.inbox.empty() else None
    finally:
        client.close()


def connect_with_retry(url: str, *, timeout: float = 30.0) -> tuple[StreamClient, dict[str, Any]]:
    """What an app does after an outage: reconnect (with a short pause) until a snapshot arrives."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            client = StreamClient(url)
        except (OSError, InvalidStatus, TimeoutError):
            time.sleep(0.3)
            continue
        try:
            _, first = client.next(timeout=5)
        except AssertionError:
            client.close()
            time.sleep(0.3)
            continue
        if first.get("type", "").endswith(".snapshot"):
            return client, first
        client.close()
    raise AssertionError(f"could not reconnect to {url} within {timeout} s")


def api(base_url: str, user: Any) -> httpx.Client:
    return httpx.Client(
        base_url=base_url + "/api/v1", headers={"Authorization": f"Bearer {token_for(user)}"}, timeout=20
    )
