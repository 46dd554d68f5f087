"""Short saturation runs after a city run (`--capacity`): the location-fix, socket and Celery limits of
this machine, which `manage.py record_capacity` stores from the results file."""

import asyncio
import json
import time
from typing import Any

import httpx
import websockets

from bench.city.client import bearer
from bench.harness import percentile

METRICS_TOKEN = "city-bench-scrape"


async def fix_capacity(
    drivers: list[dict[str, Any]], ws_url: str, *, seconds: float, batch: int = 1
) -> float:
    """Fixes/s the server processes with these drivers sending fixes back to back, one per message as in
    the model (an app that batches its fixes costs the server less per fix)."""
    done = 0
    deadline = time.perf_counter() + seconds

    async def hammer(driver: dict[str, Any]) -> None:
        nonlocal done
        async with websockets.connect(f"{ws_url}/ws/driver/", subprotocols=bearer(driver["token"])) as socket:  # type: ignore[arg-type]
            while time.perf_counter() < deadline:
                base = int(time.time() * 1000)
                fixes = [
                    {
                        "lat": round(driver["lat"], 6),
                        "lng": round(driver["lng"], 6),
                        "timestamp": base + i,
                        "heading": 0,
                        "speed": 5.0,
                        "accuracy": 5,
                    }
                    for i in range(batch)
                ]
                await socket.send(json.dumps({"type": "location", "fixes": fixes}))
                while True:
                    event = json.loads(await socket.recv())
                    if event.get("type") == "location.ack":
                        done += (
                            event.get("accepted", 0)
                            + event.get("ignored", 0)
                            + len(event.get("rejected", []))
                        )
                        break

    started = time.perf_counter()
    await asyncio.gather(*(hammer(driver) for driver in drivers), return_exceptions=True)
    return done / (time.perf_counter() - started)


async def tasks_done(client: httpx.AsyncClient, http_url: str) -> float:
    """Celery tasks finished so far, fleet-wide, from the server's /metrics (needs its token)."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        response = await client.get(
            http_url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
        )
    except httpx.HTTPError:
        return 0.0
    if response.status_code != 200:
        return 0.0
    return sum(
        sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == "loship_celery_tasks_total"
    )


async def queue_capacity(*, tasks: int) -> float:
    """Tasks/s the worker drains: `tasks` cheap tasks (an outbox relay with nothing pending) sent to
    `default` at once, timed until the queue is empty again."""
    from loship.events.tasks import relay_outbox
    from ops.queues import queue_depths

    def send() -> None:
        for _ in range(tasks):
            relay_outbox.apply_async(queue="default")

    started = time.perf_counter()
    await asyncio.to_thread(send)
    while time.perf_counter() - started < 180:
        if sum((await asyncio.to_thread(queue_depths)).values()) == 0:
            break
        await asyncio.sleep(0.1)
    return tasks / (time.perf_counter() - started)


async def socket_capacity(
    drivers: list[dict[str, Any]], ws_url: str, client: httpx.AsyncClient, http_url: str, *, target: int
) -> tuple[int, float]:
    """Open up to `target` idle driver sockets (each gets its snapshot); returns how many were held and
    the p99 of /healthz while they were open (ms). A lower bound of the limit, not the limit."""
    held: list[Any] = []
    for i in range(target):
        driver = drivers[i % len(drivers)]
        try:
            held.append(
                await websockets.connect(f"{ws_url}/ws/driver/", subprotocols=bearer(driver["token"]))
            )  # type: ignore[arg-type]
        except (OSError, websockets.WebSocketException):
            break
    probes = []
    for _ in range(20):
        started = time.perf_counter()
        await client.get(http_url + "/healthz")
        probes.append(time.perf_counter() - started)
    for socket in held:
        await socket.close()
    return len(held), percentile(probes, 0.99) * 1000
