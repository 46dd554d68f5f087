"""Opening streams: how many customer order streams one `ws` process opens per second (JWT, checks,
group, snapshot), against the bare ASGI app (`bench/echo_asgi.py`) with the same client in the same
run; then a mass reconnect: thousands of open sockets dropped by restarting the `ws` process, timed
until every client is back on a fresh snapshot.

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/ws_opens_bench.py \
        [--sockets 2000] [--rounds 3] [--client-processes 2] [--parallel 32] [--reconnect 5000] [--write]

Opens: each round, `--client-processes` forked clients (asyncio + `websockets`) open `--sockets`
sockets in all, at most `--parallel` handshakes in flight per process, each counted open when its
first message (the snapshot) has arrived; the sockets stay open until the round ends. Rounds alternate
bare, project, bare, ...; medians. A refusal is any socket that did not reach its snapshot.

Mass reconnect: `--reconnect` sockets are opened on the project, then the `ws` process is restarted as a
deploy does (SIGTERM, then the same line started again). While it is down every order's version is
bumped, so a client is healed only by a snapshot read after the restart. Clients behave as the apps
do: on a closed socket they wait a random 0-1 s, then retry with exponential backoff and jitter (0.5 s
doubling to 8 s) while the port refuses connections. The figure is the time from the restart to the
last client holding a fresh snapshot; refused counts handshakes the new process answered with anything
but a snapshot.

Both servers run the Procfile's `ws:` line exactly (PORT, WS_CONCURRENCY=1), the bare app with only the
application swapped. `--write` writes bench/ws_opens_RESULTS.md. The bench's rows are deleted at the end.
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import random
import statistics
import sys
import time
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

for _name, _value in SERVER_ENV.items():
    os.environ.setdefault(_name, _value)

import django  # noqa: E402

django.setup()

import websockets  # noqa: E402
from django.db.models import F  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from merchants.models import Merchant  # noqa: E402
from orders.models import Order  # noqa: E402
from users.models import Role, User  # noqa: E402

PHONE_PREFIX = "+8497"
MERCHANT_SLUG = "ws-opens-bench"
PROJECT_APP = "loship.asgi:application"
BARE_APP = "bench.echo_asgi:app"
RESULTS = ROOT / "bench" / "ws_opens_RESULTS.md"
GOAL_OPENS = 500
#: A client not back within this long after the restart counts as not healed.
HEAL_DEADLINE_S = 300.0
#: (order id, access token) of one customer watching one order.
Watcher = tuple[int, str]


def seed(count: int) -> list[Watcher]:
    """`count` customers, each with one accepted order, and their access tokens (setup, not measured)."""
    cleanup()
    merchant = bench_merchant(name="WS opens bench", slug=MERCHANT_SLUG)
    customers = User.objects.bulk_create(
        User(phone=f"{PHONE_PREFIX}{n:07d}", full_name=f"Watcher {n}", roles=[Role.CUSTOMER], password="!")
        for n in range(count)
    )
    now = timezone.now()
    orders = Order.objects.bulk_create(
        accepted_order(code=f"WO{n:08d}", customer=customer, merchant=merchant, now=now)
        for n, customer in enumerate(customers)
    )
    return [
        (order.pk, str(AccessToken.for_user(customer)))
        for order, customer in zip(orders, customers, strict=False)
    ]


def cleanup() -> None:
    Order.objects.filter(merchant__slug=MERCHANT_SLUG).delete()
    Merchant.objects.filter(slug=MERCHANT_SLUG).delete()
    User.objects.filter(phone__startswith=PHONE_PREFIX).delete()


# --- the client (runs in forked processes) --------------------------------------------------------


def _url(port: int, order_id: int) -> str:
    return f"ws://127.0.0.1:{port}/ws/orders/{order_id}/"


async def _open(port: int, watcher: Watcher) -> tuple[Any, dict[str, Any]]:
    """A socket past its first message, and that message."""
    order_id, token = watcher
    socket = await websockets.connect(
        _url(port, order_id),
        subprotocols=[websockets.Subprotocol(f"bearer.{token}")],
        open_timeout=60,
        max_queue=None,
    )
    try:
        first = json.loads(await asyncio.wait_for(socket.recv(), 60))
    except BaseException:
        await socket.close()
        raise
    return socket, first


def _snapshot_ok(first: dict[str, Any], order_id: int, bare: bool) -> bool:
    if bare:
        return first.get("type") == "snapshot"
    return first.get("type") == "order.snapshot" and first.get("order_id") == order_id


def _opens_process(port: int, watchers: list[Watcher], parallel: int, bare: bool, results: Any) -> None:
    async def main() -> dict[str, Any]:
        gate = asyncio.Semaphore(parallel)
        sockets: list[Any] = []
        latencies: list[float] = []
        refused = 0

        async def one(watcher: Watcher) -> None:
            nonlocal refused
            async with gate:
                began = time.time()
                try:
                    socket, first = await _open(port, watcher)
                except Exception:
                    refused += 1
                    return
                sockets.append(socket)
                if _snapshot_ok(first, watcher[0], bare):
                    latencies.append(time.time() - began)
                else:
                    refused += 1

        started = time.time()
        await asyncio.gather(*(one(watcher) for watcher in watchers))
        ended = time.time()
        await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)
        return {"started": started, "ended": ended, "latencies": latencies, "refused": refused}

    results.put(asyncio.run(main()))


def _fork_clients(target: Any, port: int, watchers: list[Watcher], processes: int, *args: Any) -> list[Any]:
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [
        context.Process(target=target, args=(port, watchers[number::processes], *args, results))
        for number in range(processes)
    ]
    for worker in workers:
        worker.start()
    rows = [results.get(timeout=900) for _ in workers]
    for worker in workers:
        worker.join()
    return rows


def opens_round(
    port: int, watchers: list[Watcher], *, processes: int, parallel: int, bare: bool
) -> dict[str, Any]:
    rows = _fork_clients(_opens_process, port, watchers, processes, parallel, bare)
    latencies = [latency for row in rows for latency in row["latencies"]]
    elapsed = max(row["ended"] for row in rows) - min(row["started"] for row in rows)
    return {
        "opens_per_s": len(latencies) / elapsed,
        "opened": len(latencies),
        "refused": sum(row["refused"] for row in rows),
        "p50_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


def _reconnect_process(port: int, watchers: list[Watcher], parallel: int, opened: Any, results: Any) -> None:
    """Open every socket, meet the other processes at `opened`, then keep every socket open through the
    restart: a socket that closes reconnects (jitter, then backoff while refused) until it holds a
    snapshot read by the new process."""

    async def main() -> dict[str, Any]:
        gate = asyncio.Semaphore(parallel)
        refused = attempts = 0
        healed_at: list[float] = []
        versions: dict[int, int] = {}
        everyone_back = asyncio.Event()

        async def first_open(watcher: Watcher) -> Any:
            async with gate:
                socket, _ = await _open(port, watcher)
                return socket

        async def watch(watcher: Watcher, socket: Any) -> None:
            nonlocal refused, attempts
            await socket.wait_closed()  # the restart drops it
            await asyncio.sleep(random.uniform(0, 1))
            backoff = 0.5
            while True:
                attempts += 1
                try:
                    socket, first = await _open(port, watcher)
                except OSError:  # nothing listens yet: the process is restarting
                    first = None
                except Exception:
                    refused += 1
                    first = None
                if first is not None and first.get("type") == "order.snapshot":
                    break
                if first is not None:
                    refused += 1
                    await socket.close()
                await asyncio.sleep(backoff * random.uniform(0.5, 1.5))
                backoff = min(backoff * 2, 8.0)
            healed_at.append(time.time())
            versions[watcher[0]] = int(first["sequence"])
            await everyone_back.wait()
            await socket.close()

        sockets = await asyncio.gather(*(first_open(watcher) for watcher in watchers))
        await asyncio.to_thread(opened.wait)
        tasks = [
            asyncio.create_task(watch(watcher, socket))
            for watcher, socket in zip(watchers, sockets, strict=False)
        ]
        deadline = time.time() + HEAL_DEADLINE_S
        while len(healed_at) < len(watchers) and time.time() < deadline:
            await asyncio.sleep(0.2)
        everyone_back.set()
        for task in tasks:
            if not task.done() and len(healed_at) < len(watchers):
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return {"healed_at": healed_at, "refused": refused, "attempts": attempts, "versions": versions}

    results.put(asyncio.run(main()))


def reconnect(
    server: ProcfileProcess, watchers: list[Watcher], *, processes: int, parallel: int
) -> dict[str, Any]:
    context = multiprocessing.get_context("fork")
    opened, results = context.Barrier(processes + 1), context.Queue()
    workers = [
        context.Process(
            target=_reconnect_process,
            args=(server.port, watchers[number::processes], parallel, opened, results),
        )
        for number in range(processes)
    ]
    for worker in workers:
        worker.start()
    opened.wait(timeout=900)
    time.sleep(2)  # every socket is idle on the open stream
    order_ids = [order_id for order_id, _ in watchers]
    restarted = time.time()
    server.stop()
    Order.objects.filter(pk__in=order_ids).update(version=F("version") + 1)
    server.start()
    up = time.time()
    rows = [results.get(timeout=900) for _ in workers]
    for worker in workers:
        worker.join()
    healed = [moment for row in rows for moment in row["healed_at"]]
    seen = {order_id: version for row in rows for order_id, version in row["versions"].items()}
    current = dict(Order.objects.filter(pk__in=order_ids).values_list("pk", "version"))
    stale = sum(1 for order_id in order_ids if seen.get(order_id) != current[order_id])
    return {
        "sockets": len(watchers),
        "healed": len(healed),
        "stale": stale,
        "refused": sum(row["refused"] for row in rows),
        "attempts": sum(row["attempts"] for row in rows),
        "restart_s": up - restarted,
        "heal_s": max(healed) - restarted,
        "p50_heal_s": statistics.median(healed) - restarted,
        "p99_heal_s": percentile(healed, 0.99) - restarted,
    }


def summary(rows: list[dict[str, Any]]) -> dict[str, float]:
    return {key: statistics.median(row[key] for row in rows) for key in ("opens_per_s", "p50_ms", "p99_ms")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sockets", type=int, default=2000, help="sockets opened per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--parallel", type=int, default=32, help="handshakes in flight per client process")
    parser.add_argument("--reconnect", type=int, default=5000, help="sockets in the mass reconnect (0: skip)")
    parser.add_argument("--only", choices=["bare", "project"], help="one server only (exploration)")
    parser.add_argument("--write", action="store_true", help="write bench/ws_opens_RESULTS.md")
    args = parser.parse_args()

    migrate()
    watchers = seed(max(args.sockets, args.reconnect))
    line = procfile_line("ws")
    names = [args.only] if args.only else ["bare", "project"]
    servers = {
        "bare": ProcfileProcess(line.replace(PROJECT_APP, BARE_APP), port=free_port()),
        "project": ProcfileProcess(line, port=free_port()),
    }
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    load_before = os.getloadavg()
    healing: dict[str, Any] | None = None
    try:
        for name in names:
            servers[name].start()
        for number in range(args.rounds):
            for name in names:
                row = opens_round(
                    servers[name].port,
                    watchers[: args.sockets],
                    processes=args.client_processes,
                    parallel=args.parallel,
                    bare=name == "bare",
                )
                rows[name].append(row)
                print(
                    f"round {number + 1} {name}: {row['opens_per_s']:,.0f} opens/s, "
                    f"{row['refused']} refused, p50 {row['p50_ms']:.1f} ms, p99 {row['p99_ms']:.1f} ms",
                    flush=True,
                )
        if args.reconnect and "project" in names:
            healing = reconnect(
                servers["project"],
                watchers[: args.reconnect],
                processes=args.client_processes,
                parallel=args.parallel,
            )
            print("mass reconnect:", {key: round(value, 2) for key, value in healing.items()}, flush=True)
    finally:
        for server in servers.values():
            server.stop()
        cleanup()
    load_after = os.getloadavg()
    medians = {name: summary(rows[name]) for name in names}
    for name in names:
        print(name, {key: round(value, 1) for key, value in medians[name].items()})
    if args.write and len(names) == 2:
        write_results(args, line, rows, medians, healing, (load_before, load_after))


def write_results(
    args: argparse.Namespace,
    line: str,
    rows: dict[str, list[dict[str, Any]]],
    medians: dict[str, dict[str, float]],
    healing: dict[str, Any] | None,
    loads: tuple[tuple[float, float, float], tuple[float, float, float]],
) -> None:
    def table_row(label: str, name: str) -> str:
        median = medians[name]
        rounds = ", ".join(f"{row['opens_per_s']:,.0f}" for row in rows[name])
        refused = sum(row["refused"] for row in rows[name])
        return (
            f"| {label} | {median['opens_per_s']:,.0f} | {refused} | {median['p50_ms']:.1f} ms "
            f"| {median['p99_ms']:.1f} ms | {rounds} |"
        )

    def load(values: tuple[float, float, float]) -> str:
        return ", ".join(f"{value:.2f}" for value in values)

    project = medians["project"]["opens_per_s"]
    ratio = project / medians["bare"]["opens_per_s"]
    met = "met" if project >= GOAL_OPENS and not sum(row["refused"] for row in rows["project"]) else "not met"
    command = (
        f"python bench/ws_opens_bench.py --sockets {args.sockets} --rounds {args.rounds} "
        f"--client-processes {args.client_processes} --parallel {args.parallel} "
        f"--reconnect {args.reconnect} --write"
    )
    healing_text = "Not run."
    if healing:
        healed = "every client" if healing["healed"] == healing["sockets"] else f"{healing['healed']} clients"
        row = " | ".join(
            [
                f"{healing['sockets']:,}",
                f"{healing['healed']:,}",
                str(healing["stale"]),
                str(healing["refused"]),
                f"{healing['attempts']:,}",
                *(f"{healing[key]:.1f} s" for key in ("heal_s", "p50_heal_s", "p99_heal_s")),
            ]
        )
        healing_text = f"""{healing["sockets"]:,} open order streams on one project process; the process
restarted (SIGTERM, started again: {healing["restart_s"]:.1f} s until it listened) while every order's
version was bumped.

| sockets | healed | stale snapshots | refused | attempts | heal time (last) | p50 | p99 |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| {row} |

{healed} back on a fresh snapshot {healing["heal_s"]:.1f} s after the restart began, with
{healing["refused"]} refused (times from the SIGTERM; attempts include those made while nothing listened)."""
    text = f"""# Opening streams, and a mass reconnect

`{command}`

Customer order streams (`/ws/orders/<id>/`, each socket its own customer's JWT as the `bearer.`
subprotocol, one accepted order each). {args.client_processes} client processes (asyncio + `websockets`),
at most {args.parallel} handshakes in flight per process; a socket counts as open when its snapshot has
arrived (the project: authenticate, check the customer may watch, join the order's group, read the
snapshot from PostgreSQL; the bare app: accept and send a fixed snapshot). {args.rounds} alternating rounds
of {args.sockets:,} opens, medians. Python {platform.python_version()}, {os.cpu_count()} cores shared
by the server, the clients, PostgreSQL and Redis. Load average (1, 5, 15 min) before: {load(loads[0])};
after: {load(loads[1])}.

Both run the Procfile's `ws` line, one process, production settings (DEBUG off):

    {line}

the bare app (`{BARE_APP}`, no Django, no Channels) with only the application swapped.

| server | opens/s (median) | refused | p50 open | p99 open | rounds (opens/s) |
| --- | ---: | ---: | ---: | ---: | --- |
{table_row("bare ASGI app, 1 process", "bare")}
{table_row("project, 1 process", "project")}

Project / bare: **{ratio:.2f}x**; the project opens **{project:,.0f} streams/s** on one process (goal
>= {GOAL_OPENS}/s, none refused): {met}.

## Mass reconnect

{healing_text}

## Where the time went

{FINDINGS}
"""
    RESULTS.write_text(text)
    print(f"wrote {RESULTS.relative_to(ROOT)}")


#: Where the time went, measured while making the changes (project only, loaded machine).
FINDINGS_ROWS = [
    (
        "before: Channels' `AuthMiddlewareStack` and JWT lookup, then the permission and the snapshot, "
        "each a `database_sync_to_async` hop to the one sync thread, a new connection per hop "
        "(`DB_CONN_MAX_AGE=0`)",
        "13-15",
    ),
    (
        "the credentials read without the database; user, permission and snapshot in one call "
        "(the customer read with the order)",
        "27-36",
    ),
    (
        "kept connections in the ws process; the last driver position through one Redis client, not "
        "Django's cache (a client per async context: a new connection per socket)",
        "56",
    ),
    (
        "no Channels per-message hop to the sync thread; the call in the event loop's worker threads, "
        "not the one sync thread",
        "56-91",
    ),
]
FINDINGS = (
    """Measured while making the changes, project only, on the loaded machine (load average 7-12, the
bare app at 340-465 opens/s there): one socket's open went from 4 trips to the process's one sync
thread and 3 new PostgreSQL connections to one trip to Redis and one database call in a worker
thread that keeps its connection.

| step | project opens/s (loaded machine) |
| --- | ---: |
"""
    + "\n".join(f"| {step} | {rate} |" for step, rate in FINDINGS_ROWS)
    + """

What is left on an open: the ORM's CPU for four queries (the order with its merchant and customer,
its lines, its events, and the user when the watcher is not the customer), the snapshot's JSON, and
Channels' consumer machinery. The bare app's handshake alone costs about a tenth of that."""
)

if __name__ == "__main__":
    main()
