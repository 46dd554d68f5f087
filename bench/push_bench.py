"""Live pushes: commit-to-client latency with many open sockets, and messages per second through the
channel layer, each beside a baseline measured in the same run.

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/push_bench.py [--sockets 1000,5000] [--samples 300]

Runs the Procfile's `ws` line (one process) and its `relay` line (the outbox relay) against the given
database and Redis, seeds one customer with one accepted order per socket, raises the open-files
limit, and for each socket count:

1. opens that many customer order streams (`/ws/orders/<id>/`, JWT), each waiting for its snapshot;
2. baseline latency: `group_send` -> `receive` round trips of the bench process through the same
   Redis channel layer (no Django, no database, no Celery);
3. commit-to-client latency: `orders.services.lifecycle.update_eta` on a random watched order, timed
   from the moment its transaction commits (an on_commit hook registered first) to the arrival of
   `order.eta_updated` on that order's socket: the whole path (NOTIFY at commit -> relay process ->
   group_send -> ws process -> socket);
4. throughput: one `group_send` to every watched order's group at once, timed until every socket has
   its message (delivered messages/s), beside the same sends to groups nobody listens to (the
   layer's own rate, the baseline).

Prints a Markdown table and writes bench/push_RESULTS.json (capacity: the largest socket count whose
p99 stayed within the goal). Goal: p99 <= 50 ms at 5,000 sockets.
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import (  # noqa: E402
    SERVER_ENV,
    ProcfileProcess,
    accepted_order,
    bench_merchant,
    free_port,
    migrate,
    percentile,
    procfile_line,
)

GOAL_P99_MS = 50.0
#: Handshakes in flight at once: uvicorn closes a WebSocket whose handshake takes over 10 s.
CONNECT_PARALLELISM = 20


def raise_open_files_limit(needed: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def seed(count: int) -> tuple[Any, list[int]]:
    """One customer with `count` accepted orders at one merchant (bulk rows: setup, not measured)."""
    from django.utils import timezone

    from orders.models import Order
    from users.models import Role, User

    tag = uuid.uuid4().hex[:8]
    customer = User.objects.create_user(
        f"+8498{random.randint(0, 9_999_999):07d}", "bench", roles=[Role.CUSTOMER]
    )
    merchant = bench_merchant(name=f"Push bench {tag}", slug=f"push-bench-{tag}")
    now = timezone.now()
    orders = Order.objects.bulk_create(
        accepted_order(code=f"PB{tag[:4]}{n:06d}", customer=customer, merchant=merchant, now=now)
        for n in range(count)
    )
    return customer, [order.pk for order in orders]


class Sockets:
    """Many customer order streams in this process; records when each order event arrives."""

    def __init__(self, ws_base: str, token: str) -> None:
        self.ws_base = ws_base
        self.token = token
        self.connections: list[Any] = []
        self.readers: list[asyncio.Task[None]] = []
        self.arrivals: dict[tuple[int, int], float] = {}  # (order_id, sequence) -> arrival time
        self.waiters: dict[tuple[int, int], asyncio.Future[float]] = {}
        self.burst_arrivals: list[float] = []
        self.burst_expected = 0
        self.burst_done: asyncio.Event = asyncio.Event()

    async def open(self, order_ids: list[int]) -> float:
        from websockets.asyncio.client import connect

        gate = asyncio.Semaphore(CONNECT_PARALLELISM)
        started = time.perf_counter()

        async def one(order_id: int) -> None:
            async with gate:
                ws = await connect(
                    f"{self.ws_base}/ws/orders/{order_id}/",
                    subprotocols=[f"bearer.{self.token}"],
                    open_timeout=120,
                    ping_interval=None,
                )
                snapshot = json.loads(await ws.recv())
                assert snapshot["type"] == "order.snapshot", snapshot
                self.connections.append(ws)
                self.readers.append(asyncio.create_task(self.read(ws)))

        await asyncio.gather(*(one(order_id) for order_id in order_ids))
        return time.perf_counter() - started

    async def read(self, ws: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in ws:
                now = time.perf_counter()
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "bench.burst":
                    self.burst_arrivals.append(now)
                    if len(self.burst_arrivals) >= self.burst_expected:
                        self.burst_done.set()
                elif kind == "order.eta_updated":
                    key = (int(message["order_id"]), int(message["sequence"]))
                    self.arrivals[key] = now
                    waiter = self.waiters.pop(key, None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(now)
        except ConnectionClosed:
            pass

    async def close(self) -> None:
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*(ws.close() for ws in self.connections), return_exceptions=True)
        self.connections, self.readers = [], []


async def layer_round_trips(samples: int) -> list[float]:
    """Baseline: group_send -> receive through the same Redis layer, in this process."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    channel = await layer.new_channel()
    group = f"bench.baseline.{uuid.uuid4().hex[:6]}"
    await layer.group_add(group, channel)
    latencies = []
    for _ in range(samples):
        started = time.perf_counter()
        await layer.group_send(group, {"type": "stream.event", "event": {"type": "bench.ping"}})
        await layer.receive(channel)
        latencies.append(time.perf_counter() - started)
    await layer.group_discard(group, channel)
    return latencies


def commit_eta_change(order_id: int) -> tuple[int, float]:
    """Change the order's ETA; returns (new version, perf_counter at commit)."""
    from django.db import transaction
    from django.utils import timezone

    from orders.models import Order
    from orders.services.lifecycle import update_eta

    committed: list[float] = []
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.perf_counter()))  # runs before the relay's hook
        update_eta(order_id=order_id, eta=timezone.now() + timedelta(minutes=random.randint(10, 60)))
        version = Order.objects.filter(pk=order_id).values_list("version", flat=True).get()
    return version, committed[0]


async def commit_to_client(sockets: Sockets, order_ids: list[int], samples: int) -> tuple[list[float], int]:
    """Latency of `samples` ETA changes, one at a time, 20 ms apart; returns (latencies, lost)."""
    from asgiref.sync import sync_to_async

    loop = asyncio.get_running_loop()
    latencies, lost = [], 0
    for _ in range(samples):
        order_id = random.choice(order_ids)
        # The waiter must exist before the commit: the push can beat this coroutine back.
        version_hint = await sync_to_async(_current_version)(order_id)
        key = (order_id, version_hint + 1)
        waiter: asyncio.Future[float] = loop.create_future()
        sockets.waiters[key] = waiter
        version, committed_at = await sync_to_async(commit_eta_change)(order_id)
        assert version == key[1]
        try:
            arrived = sockets.arrivals.get(key) or await asyncio.wait_for(waiter, 10)
        except TimeoutError:
            lost += 1
            continue
        latencies.append(arrived - committed_at)
        await asyncio.sleep(0.02)
    return latencies, lost


def _current_version(order_id: int) -> int:
    from orders.models import Order

    return int(Order.objects.filter(pk=order_id).values_list("version", flat=True).get())


#: Messages in flight to the sockets at most: one uvicorn process reads all its sockets' messages from
#: one Redis queue, which drops what is over CHANNEL_CAPACITY (1,000), so a sender must pace itself.
BURST_WINDOW = 500


async def burst(sockets: Sockets, order_ids: list[int]) -> tuple[float, float, int]:
    """(delivered messages/s to sockets, baseline group_sends/s to empty groups, messages lost)."""
    from channels.layers import get_channel_layer

    from loship.push import order_group

    layer = get_channel_layer()
    message = {"type": "stream.event", "event": {"type": "bench.burst"}}
    empty = [f"bench.empty.{uuid.uuid4().hex[:6]}.{n}" for n in range(len(order_ids))]
    started = time.perf_counter()
    await _send_all(layer, empty, message)
    baseline_rate = len(empty) / (time.perf_counter() - started)

    sockets.burst_arrivals, sockets.burst_expected = [], len(order_ids)
    sockets.burst_done = asyncio.Event()
    groups = [order_group(order_id) for order_id in order_ids]
    started = time.perf_counter()
    for start in range(0, len(groups), 100):
        while start - len(sockets.burst_arrivals) > BURST_WINDOW:
            await asyncio.sleep(0.001)
        await asyncio.gather(*(layer.group_send(group, message) for group in groups[start : start + 100]))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(sockets.burst_done.wait(), 30)
    delivered_rate = len(sockets.burst_arrivals) / (max(sockets.burst_arrivals) - started)
    return delivered_rate, baseline_rate, len(groups) - len(sockets.burst_arrivals)


async def _send_all(layer: Any, groups: list[str], message: dict[str, Any]) -> None:
    for start in range(0, len(groups), 200):
        await asyncio.gather(*(layer.group_send(group, message) for group in groups[start : start + 200]))


async def measure(ws_base: str, token: str, order_ids: list[int], count: int, samples: int) -> dict[str, Any]:
    watched = order_ids[:count]
    sockets = Sockets(ws_base, token)
    connect_seconds = await sockets.open(watched)
    await asyncio.sleep(1.0)
    baseline = await layer_round_trips(samples)
    push, lost = await commit_to_client(sockets, watched, samples)
    delivered_rate, baseline_rate, burst_lost = await burst(sockets, watched)
    await sockets.close()
    return {
        "sockets": count,
        "connect_seconds": connect_seconds,
        "baseline_p50_ms": statistics.median(baseline) * 1000,
        "baseline_p99_ms": percentile(baseline, 0.99) * 1000,
        "push_p50_ms": statistics.median(push) * 1000,
        "push_p99_ms": percentile(push, 0.99) * 1000,
        "push_samples": len(push),
        "push_lost": lost,
        "delivered_per_s": delivered_rate,
        "burst_lost": burst_lost,
        "layer_sends_per_s": baseline_rate,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sockets", default="1000,5000")
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    counts = [int(n) for n in args.sockets.split(",")]

    os.environ.update(SERVER_ENV)
    os.environ.setdefault("WEBSOCKET_HEARTBEAT_SECONDS", "25")
    limit = raise_open_files_limit(max(counts) * 2 + 1000)
    migrate()
    import django

    django.setup()
    from rest_framework_simplejwt.tokens import AccessToken

    customer, order_ids = seed(max(counts))
    token = str(AccessToken.for_user(customer))
    log_path = Path("/tmp") / f"push-bench-{os.getpid()}.log"
    port = free_port()
    rows = []
    with (
        ProcfileProcess(procfile_line("relay"), log_path=log_path),
        ProcfileProcess(procfile_line("ws"), port=port, log_path=log_path),
    ):
        for count in counts:
            rows.append(asyncio.run(measure(f"ws://127.0.0.1:{port}", token, order_ids, count, args.samples)))
            print(json.dumps(rows[-1]), flush=True)

    print(f"\nopen-files limit {limit}; {args.samples} samples per row; one ws process, one relay process\n")
    print(
        "| sockets | connect all (s) | layer round trip p50 / p99 (ms) | commit-to-client p50 / p99 (ms)"
        " | p99 / baseline p99 | lost | delivered msg/s (lost) | layer sends/s, no sockets | ratio |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(
            f"| {row['sockets']:,} | {row['connect_seconds']:.1f} "
            f"| {row['baseline_p50_ms']:.2f} / {row['baseline_p99_ms']:.2f} "
            f"| {row['push_p50_ms']:.1f} / {row['push_p99_ms']:.1f} "
            f"| {row['push_p99_ms'] / row['baseline_p99_ms']:.1f}x | {row['push_lost']} "
            f"| {row['delivered_per_s']:,.0f} ({row['burst_lost']}) | {row['layer_sends_per_s']:,.0f} "
            f"| {row['delivered_per_s'] / row['layer_sends_per_s']:.2f} |"
        )
    within_goal = [
        row["sockets"] for row in rows if row["push_p99_ms"] <= GOAL_P99_MS and not row["push_lost"]
    ]
    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "rows": rows,
        "capacity": [
            {
                "figure": "open_sockets",
                "limit": max(within_goal) if within_goal else 0,
                "basis": f"largest measured socket count with commit-to-client p99 <= {GOAL_P99_MS:.0f} ms, "
                "one ws process (bench/push_bench.py)",
            }
        ],
    }
    (ROOT / "bench" / "push_RESULTS.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
