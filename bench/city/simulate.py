"""A city of customers, merchants and drivers acting through the real API and WebSockets.

    DATABASE_URL=... REDIS_URL=... python bench/city/simulate.py --base-url http://127.0.0.1:8000 \
        --orders-per-minute 30 --drivers 60 --merchants 20 --seconds 90 \
        [--capacity] [--results bench/city_RESULTS]

The server (uvicorn), a Celery worker, beat and the outbox relay must run against the same database and
Redis (`make run`, or `--spawn` to start them here). Setup writes the actors through the ORM (idempotent,
phones 0988xxxxxx); everything after that goes through HTTP and sockets:

- customers place orders (Poisson arrivals at the chosen rate) and watch each on `/ws/orders/<id>/`;
- merchants watch `/ws/merchants/<id>/`, accept each new order, and mark it ready `--prep-seconds` later;
- drivers hold `/ws/driver/`, send a location fix every `--fix-interval` seconds over it, accept the
  offers dispatch pushes to them, pick the food up once ready and deliver after `--ride-seconds`.

It stops by itself after `--seconds` and reports throughput and p50/p99 per endpoint, push latency
(merchant accept sent -> `order.accepted` on the customer's socket), dispatch time (order placed ->
driver's accept answered) and, with `--capacity`, short saturation runs that measure the location-fix
and socket limits; the live load of the run and the Ho Chi Minh City peak model are compared with them.
"""

import argparse
import asyncio
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loship.settings")

import django  # noqa: E402

django.setup()
logging.getLogger("httpx").setLevel(logging.WARNING)

import httpx  # noqa: E402
import websockets  # noqa: E402
from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402

from bench.harness import percentile  # noqa: E402
from drivers import services as driver_services  # noqa: E402
from merchants.models import MenuItem, Merchant, OpeningHours, StaffMembership  # noqa: E402
from users.models import Role, User  # noqa: E402


def bearer(token: str) -> list[str]:
    """The WebSocket subprotocol that carries the access token (a token in the URL would be logged)."""
    return [f"bearer.{token}"]


# Ho Chi Minh City at the lunch peak (the model the README states):
HCMC_PEAK = {
    "orders_per_minute": 150.0,  # 60,000 orders/day in HCMC, 15% of them in the peak hour
    "drivers_online": 8000,
    "fix_interval_seconds": 4.0,  # -> 2,000 location fixes/s
    "merchant_tablets": 5000,
    "mean_click_to_door_minutes": 35.0,
}
HCMC_PEAK["location_fixes_per_second"] = HCMC_PEAK["drivers_online"] / HCMC_PEAK["fix_interval_seconds"]
# Sockets: every online driver, every merchant tablet, and a customer per order in flight.
HCMC_PEAK["open_sockets"] = (
    HCMC_PEAK["drivers_online"]
    + HCMC_PEAK["merchant_tablets"]
    + HCMC_PEAK["orders_per_minute"] * HCMC_PEAK["mean_click_to_door_minutes"]
)

CENTER = (10.7769, 106.7009)  # District 1
LOG_DIR = Path(tempfile.gettempdir())
METRICS_TOKEN = "city-bench-scrape"
PHONE_PREFIX = "+8498"


@dataclass
class Recorder:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)

    def add(self, name: str, seconds: float, ok: bool = True) -> None:
        self.latencies[name].append(seconds)
        if not ok:
            self.errors[name] += 1


@dataclass
class City:
    merchants: list[dict[str, Any]]
    customers: list[dict[str, Any]]
    drivers: list[dict[str, Any]]


def _token(user: User) -> str:
    return str(RefreshToken.for_user(user).access_token)


def _user(phone: str, role: str, name: str) -> User:
    user, _ = User.objects.get_or_create(phone=phone, defaults={"full_name": name, "roles": [role]})
    if role not in user.roles:
        user.roles = [*user.roles, role]
        user.save(update_fields=["roles"])
    return user


def seed_city(*, merchants: int, customers: int, drivers: int, rng: random.Random) -> City:
    """The actors (idempotent): merchants open all week with a small menu and a staff account,
    customers, and drivers online at a point near their area."""
    city = City([], [], [])
    for i in range(merchants):
        lat = Decimal(str(round(CENTER[0] + rng.uniform(-0.02, 0.02), 6)))
        lng = Decimal(str(round(CENTER[1] + rng.uniform(-0.02, 0.02), 6)))
        merchant, created = Merchant.objects.get_or_create(
            slug=f"sim-{i}",
            defaults={
                "name": f"Quán mô phỏng {i}",
                "address": f"{i} Lê Lợi, Q1",
                "lat": lat,
                "lng": lng,
                "phone": "+842838000000",
                "min_order_vnd": 0,
                "delivery_radius_m": 15000,
                "prep_minutes": 10,
                "is_active": True,
            },
        )
        if created:
            OpeningHours.objects.bulk_create(
                OpeningHours(merchant=merchant, weekday=day, opens_at=dtime(0), closes_at=dtime(0))
                for day in range(7)
            )
            MenuItem.objects.create(
                merchant=merchant, name="Cơm tấm sườn", price_vnd=45_000, is_available=True
            )
            MenuItem.objects.create(merchant=merchant, name="Trà đá", price_vnd=5_000, is_available=True)
        staff = _user(f"{PHONE_PREFIX}1{i:05d}", Role.MERCHANT_STAFF, f"Chủ quán {i}")
        StaffMembership.objects.get_or_create(user=staff, merchant=merchant, defaults={"role": "owner"})
        items = list(
            MenuItem.objects.filter(merchant=merchant, is_available=True).values_list("pk", flat=True)
        )
        city.merchants.append(
            {
                "id": merchant.pk,
                "lat": float(merchant.lat),
                "lng": float(merchant.lng),
                "items": items,
                "token": _token(staff),
            }
        )
    for i in range(customers):
        user = _user(f"{PHONE_PREFIX}2{i:05d}", Role.CUSTOMER, f"Khách {i}")
        city.customers.append({"id": user.pk, "token": _token(user)})
    for i in range(drivers):
        user = _user(f"{PHONE_PREFIX}3{i:05d}", Role.DRIVER, f"Tài xế {i}")
        driver_services.ensure_profile(user=user)
        driver_services.go_online(user=user)
        lat, lng = CENTER[0] + rng.uniform(-0.03, 0.03), CENTER[1] + rng.uniform(-0.03, 0.03)
        city.drivers.append({"id": user.pk, "lat": lat, "lng": lng, "token": _token(user)})
    return city


class Simulation:
    def __init__(self, city: City, args: argparse.Namespace, rng: random.Random) -> None:
        self.city, self.args, self.rng = city, args, rng
        self.base = args.base_url.rstrip("/")
        self.ws_base = "ws" + self.base.removeprefix("http")
        self.rec = Recorder()
        self.stop = asyncio.Event()
        self.placed_at: dict[int, float] = {}
        self.accept_sent: dict[int, float] = {}
        self.dispatch_seconds: list[float] = []
        self.push_seconds: list[float] = []
        self.door_seconds: list[float] = []
        self.fixes_sent = 0
        self.fixes_acked = 0
        self.sockets_open = 0
        self.peak_sockets = 0
        self.orders_placed = 0
        self.handled_offers: set[int] = set()
        self.background: set[asyncio.Task[None]] = set()
        self.ready_orders: set[int] = set()
        self.refusals: Counter[str] = Counter()
        self.merchant_events: Counter[str] = Counter()
        self.drain_per_second: float | None = None
        self.tasks_in_run = 0.0
        self.client = httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=64))

    async def call(
        self, name: str, method: str, path: str, token: str, **kwargs: Any
    ) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await self.client.request(
                method,
                self.base + path,
                headers={"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})},
                **kwargs,
            )
        except httpx.HTTPError:
            self.rec.add(name, time.perf_counter() - started, ok=False)
            return None
        self.rec.add(name, time.perf_counter() - started, ok=response.status_code < 400)
        if response.status_code >= 400:
            self.refusals[
                f"{name} -> {response.status_code} {response.json().get('error', {}).get('code')}"
            ] += 1
        return response

    def _opened(self) -> None:
        self.sockets_open += 1
        self.peak_sockets = max(self.peak_sockets, self.sockets_open)

    # --- customers -----------------------------------------------------------------------------

    async def customers(self) -> None:
        rate = self.args.orders_per_minute / 60
        watchers = []
        while not self.stop.is_set():
            await asyncio.sleep(self.rng.expovariate(rate))
            if self.stop.is_set():
                break
            customer = self.rng.choice(self.city.customers)
            merchant = self.rng.choice(self.city.merchants)
            body = {
                "merchant_id": merchant["id"],
                "lines": [
                    {"item_id": self.rng.choice(merchant["items"]), "quantity": self.rng.randint(1, 3)}
                ],
                "delivery_lat": f"{merchant['lat'] + self.rng.uniform(-0.01, 0.01):.6f}",
                "delivery_lng": f"{merchant['lng'] + self.rng.uniform(-0.01, 0.01):.6f}",
                "delivery_address": "Sim address",
            }
            started = time.perf_counter()
            response = await self.call(
                "POST /api/v1/orders",
                "POST",
                "/api/v1/orders",
                customer["token"],
                json=body,
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
            if response is None or response.status_code != 201:
                continue
            order_id = response.json()["id"]
            self.placed_at[order_id] = started
            self.orders_placed += 1
            watchers.append(asyncio.create_task(self.watch_order(order_id, customer["token"])))
        await asyncio.gather(*watchers, return_exceptions=True)

    async def watch_order(self, order_id: int, token: str) -> None:
        try:
            async with websockets.connect(
                f"{self.ws_base}/ws/orders/{order_id}/", subprotocols=bearer(token)
            ) as socket:
                self._opened()
                try:
                    while not self.stop.is_set():
                        try:
                            raw = await asyncio.wait_for(socket.recv(), timeout=1.0)
                        except TimeoutError:
                            continue
                        event = json.loads(raw)
                        if event.get("type") == "order.accepted" and order_id in self.accept_sent:
                            self.push_seconds.append(time.perf_counter() - self.accept_sent.pop(order_id))
                        if event.get("type") in ("order.delivered", "order.cancelled", "order.rejected"):
                            return
                finally:
                    self.sockets_open -= 1
        except (OSError, websockets.WebSocketException):
            self.rec.errors["ws /ws/orders/"] += 1

    # --- merchants ------------------------------------------------------------------------------

    async def merchant(self, merchant: dict[str, Any]) -> None:
        seen: set[int] = set()
        url = f"{self.ws_base}/ws/merchants/{merchant['id']}/"
        try:
            async with websockets.connect(url, subprotocols=bearer(merchant["token"])) as socket:
                self._opened()
                try:
                    while not self.stop.is_set():
                        try:
                            event = json.loads(await asyncio.wait_for(socket.recv(), timeout=1.0))
                        except TimeoutError:
                            continue
                        order_id = event.get("order_id")
                        self.merchant_events[str(event.get("type"))] += 1
                        if event.get("type") == "order.placed" and order_id and order_id not in seen:
                            seen.add(order_id)
                            self.background.add(
                                asyncio.create_task(self.prepare(order_id, merchant["token"]))
                            )
                finally:
                    self.sockets_open -= 1
        except (OSError, websockets.WebSocketException):
            self.rec.errors["ws /ws/merchants/"] += 1

    async def prepare(self, order_id: int, token: str) -> None:
        await asyncio.sleep(self.rng.uniform(0.2, 1.0))
        self.accept_sent[order_id] = time.perf_counter()
        path = f"/api/v1/merchant/orders/{order_id}"
        await self.call(
            "POST /merchant/orders/{id}/accept", "POST", f"{path}/accept", token, json={"prep_minutes": 5}
        )
        await asyncio.sleep(self.args.prep_seconds)
        response = await self.call("POST /merchant/orders/{id}/ready", "POST", f"{path}/ready", token)
        if response is not None and response.status_code == 200:
            self.ready_orders.add(order_id)

    # --- drivers --------------------------------------------------------------------------------

    async def driver(self, driver: dict[str, Any]) -> None:
        url = f"{self.ws_base}/ws/driver/"
        sent: deque[float] = deque()
        try:
            async with websockets.connect(url, subprotocols=bearer(driver["token"])) as socket:
                self._opened()
                sender = asyncio.create_task(self.send_fixes(socket, driver, sent))
                try:
                    while not self.stop.is_set():
                        try:
                            event = json.loads(await asyncio.wait_for(socket.recv(), timeout=1.0))
                        except TimeoutError:
                            continue
                        kind = event.get("type")
                        if kind == "location.ack" and sent:
                            self.fixes_acked += 1
                            self.rec.add("ws location batch -> ack", time.perf_counter() - sent.popleft())
                        elif kind == "offer.created" and event.get("offer_id") not in self.handled_offers:
                            self.handled_offers.add(event["offer_id"])
                            self.background.add(asyncio.create_task(self.take_offer(event, driver)))
                finally:
                    sender.cancel()
                    self.sockets_open -= 1
        except (OSError, websockets.WebSocketException):
            self.rec.errors["ws /ws/driver/"] += 1

    async def send_fixes(self, socket: Any, driver: dict[str, Any], sent: deque[float]) -> None:
        await asyncio.sleep(self.rng.uniform(0, self.args.fix_interval))
        while not self.stop.is_set():
            driver["lat"] += self.rng.uniform(-0.0003, 0.0003)
            driver["lng"] += self.rng.uniform(-0.0003, 0.0003)
            fix = {
                "lat": round(driver["lat"], 6),
                "lng": round(driver["lng"], 6),
                "timestamp": int(time.time() * 1000),
                "heading": 90,
                "speed": 6.0,
                "accuracy": 8,
            }
            sent.append(time.perf_counter())
            await socket.send(json.dumps({"type": "location", "fixes": [fix]}))
            self.fixes_sent += 1
            await asyncio.sleep(self.args.fix_interval)

    async def take_offer(self, offer: dict[str, Any], driver: dict[str, Any]) -> None:
        token = driver["token"]
        response = await self.call(
            "POST /driver/offers/{id}/accept",
            "POST",
            f"/api/v1/driver/offers/{offer['offer_id']}/accept",
            token,
        )
        if response is None or response.status_code != 200:
            return
        now = time.perf_counter()
        jobs = response.json()["jobs"]
        for job in jobs:
            if job["order_id"] in self.placed_at:
                self.dispatch_seconds.append(now - self.placed_at[job["order_id"]])
        for job in jobs:
            await self.step_until(job["job_id"], "arrived_at_pickup", token)
        for job in jobs:  # the driver waits at the counter until the food is ready
            while job["order_id"] not in self.ready_orders and not self.stop.is_set():
                await asyncio.sleep(0.5)
            await self.step_until(job["job_id"], "picked_up", token)
        await asyncio.sleep(self.args.ride_seconds)
        for job in jobs:
            if await self.step_until(job["job_id"], "delivered", token) and job["order_id"] in self.placed_at:
                self.door_seconds.append(time.perf_counter() - self.placed_at[job["order_id"]])

    async def step_until(self, job_id: int, to: str, token: str) -> bool:
        """Retry the step while the food is not ready yet (a 409), until the run stops."""
        while not self.stop.is_set():
            response = await self.call(
                "POST /driver/jobs/{id}/steps",
                "POST",
                f"/api/v1/driver/jobs/{job_id}/steps",
                token,
                json={"to": to},
            )
            if response is not None and response.status_code == 200:
                return True
            if response is not None and response.status_code not in (409,):
                return False
            await asyncio.sleep(1.0)
        return False

    async def run(self) -> float:
        tasks = [asyncio.create_task(self.driver(d)) for d in self.city.drivers]
        tasks += [asyncio.create_task(self.merchant(m)) for m in self.city.merchants]
        await asyncio.sleep(1.0)
        started = time.perf_counter()
        tasks.append(asyncio.create_task(self.customers()))
        await asyncio.sleep(self.args.seconds)
        self.stop.set()
        await asyncio.gather(*tasks, *self.background, return_exceptions=True)
        return time.perf_counter() - started

    # --- capacity -------------------------------------------------------------------------------

    async def fix_capacity(self, *, sockets: int, seconds: float, batch: int = 1) -> float:
        """Fixes/s the server processes with `sockets` drivers sending fixes back to back, one per message
        as in the model (an app that batches its fixes costs the server less per fix)."""
        done = 0
        deadline = time.perf_counter() + seconds

        async def hammer(driver: dict[str, Any]) -> None:
            nonlocal done
            async with websockets.connect(
                f"{self.ws_base}/ws/driver/", subprotocols=bearer(driver["token"])
            ) as socket:
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
        await asyncio.gather(*(hammer(d) for d in self.city.drivers[:sockets]), return_exceptions=True)
        return done / (time.perf_counter() - started)

    async def tasks_done(self) -> float:
        """Celery tasks finished so far, fleet-wide, from the server's /metrics (needs its token)."""
        from prometheus_client.parser import text_string_to_metric_families

        response = await self.client.get(
            self.base + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
        )
        if response.status_code != 200:
            return 0.0
        return sum(
            sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
            if sample.name == "loship_celery_tasks_total"
        )

    async def queue_capacity(self, *, tasks: int) -> float:
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

    async def socket_capacity(self, *, target: int) -> tuple[int, float]:
        """Open up to `target` idle driver sockets (each gets its snapshot); returns how many were held and
        the p99 of /healthz while they were open (ms). A lower bound of the limit, not the limit."""
        held: list[Any] = []
        for i in range(target):
            driver = self.city.drivers[i % len(self.city.drivers)]
            try:
                held.append(
                    await websockets.connect(
                        f"{self.ws_base}/ws/driver/", subprotocols=bearer(driver["token"])
                    )
                )
            except (OSError, websockets.WebSocketException):
                break
        probes = []
        for _ in range(20):
            started = time.perf_counter()
            await self.client.get(self.base + "/healthz")
            probes.append(time.perf_counter() - started)
        for socket in held:
            await socket.close()
        return len(held), percentile(probes, 0.99) * 1000


def spawn(args: argparse.Namespace) -> list[subprocess.Popen[bytes]]:
    """uvicorn (one worker), a Celery worker, beat and the relay, logging to <tmp>/loship-city-*.log."""
    port = args.base_url.rsplit(":", 1)[-1].strip("/")
    env = {
        **os.environ,
        "METRICS_TOKEN": METRICS_TOKEN,
        "METRICS_PUBLISH_SECONDS": "1",
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "plain",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "FAST_PASSWORD_HASHING": "1",
    }
    commands = [
        [
            sys.executable,
            "-m",
            "uvicorn",
            "loship.asgi:application",
            "--port",
            port,
            "--no-access-log",
            "--log-level",
            "warning",
            "--lifespan",
            "off",
        ],
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "loship",
            "worker",
            "-Q",
            "default,dispatch,notifications",
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
            "-n",
            f"city-{uuid.uuid4().hex[:6]}@%h",
        ],
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "loship",
            "beat",
            "--loglevel",
            "WARNING",
            "--schedule",
            str(ROOT / "bench/city/.beat-schedule"),
        ],
        [sys.executable, "manage.py", "relay_outbox"],
    ]
    processes = []
    for name, command in zip(("web", "worker", "beat", "relay"), commands, strict=True):
        log = (LOG_DIR / f"loship-city-{name}.log").open("ab")
        processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
    for _ in range(100):
        try:
            if httpx.get(args.base_url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    time.sleep(3)  # the worker and beat come up
    return processes


def report(
    sim: Simulation, elapsed: float, capacity: dict[str, float], args: argparse.Namespace
) -> dict[str, Any]:
    endpoints = {
        name: {
            "count": len(values),
            "per_second": round(len(values) / elapsed, 2),
            "p50_ms": round(percentile(values, 0.5) * 1000, 1),
            "p99_ms": round(percentile(values, 0.99) * 1000, 1),
            "errors": sim.rec.errors.get(name, 0),
        }
        for name, values in sorted(sim.rec.latencies.items())
    }
    load = {
        "orders_per_minute": round(sim.orders_placed / elapsed * 60, 1),
        "location_fixes_per_second": round(sim.fixes_acked / elapsed, 1),
        "open_sockets": sim.peak_sockets,
    }
    headroom: dict[str, Any] = {}
    for figure, limit in capacity.items():
        headroom[figure] = {
            "limit": round(limit, 1),
            "this_run_load": load.get(figure),
            "this_run_headroom": round(limit / load[figure], 1) if load.get(figure) else None,
            "hcmc_peak_load": HCMC_PEAK.get(figure),
            "hcmc_peak_headroom": round(limit / HCMC_PEAK[figure], 2) if HCMC_PEAK.get(figure) else None,
        }
    return {
        "run": {
            "seconds": round(elapsed, 1),
            "orders_per_minute_asked": args.orders_per_minute,
            "drivers": len(sim.city.drivers),
            "merchants": len(sim.city.merchants),
            "fix_interval_seconds": args.fix_interval,
            "orders_placed": sim.orders_placed,
            "orders_dispatched": len(sim.dispatch_seconds),
            "orders_delivered": len(sim.door_seconds),
            "socket_errors": {k: v for k, v in sim.rec.errors.items() if k.startswith("ws ")},
            "refusals": dict(sim.refusals),
            "merchant_stream_events": dict(sim.merchant_events),
        },
        "load": load,
        "endpoints": endpoints,
        "push_latency_ms": {
            "count": len(sim.push_seconds),
            "p50": round(percentile(sim.push_seconds, 0.5) * 1000, 1),
            "p99": round(percentile(sim.push_seconds, 0.99) * 1000, 1),
        },
        "dispatch_seconds": {
            "count": len(sim.dispatch_seconds),
            "p50": round(percentile(sim.dispatch_seconds, 0.5), 2),
            "p99": round(percentile(sim.dispatch_seconds, 0.99), 2),
            "mean": round(statistics.fmean(sim.dispatch_seconds), 2) if sim.dispatch_seconds else None,
        },
        "hcmc_peak_model": HCMC_PEAK,
        "worker_drain_tasks_per_second": round(sim.drain_per_second, 1) if sim.drain_per_second else None,
        "celery_tasks_in_run": sim.tasks_in_run,
        "celery_tasks_per_order": round(sim.tasks_in_run / sim.orders_placed, 1)
        if sim.orders_placed
        else None,
        "headroom": headroom,
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    city = await asyncio.to_thread(
        seed_city, merchants=args.merchants, customers=args.customers, drivers=args.drivers, rng=rng
    )
    sim = Simulation(city, args, rng)
    tasks_before = await sim.tasks_done()
    elapsed = await sim.run()
    await asyncio.sleep(2)  # the worker's last snapshot
    sim.tasks_in_run = await sim.tasks_done() - tasks_before
    capacity: dict[str, float] = {}
    if args.capacity:
        capacity["location_fixes_per_second"] = await sim.fix_capacity(
            sockets=min(20, len(city.drivers)), seconds=10
        )
        held, _probe_ms = await sim.socket_capacity(target=args.socket_target)
        capacity["open_sockets"] = held
        drain = await sim.queue_capacity(tasks=args.queue_tasks)
        # A backlog is tolerable while the workers clear it within a minute.
        capacity["queue_depth"] = drain * 60
        sim.drain_per_second = drain
    result = report(sim, elapsed, capacity, args)
    await sim.client.aclose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--orders-per-minute", type=float, default=30)
    parser.add_argument("--drivers", type=int, default=60)
    parser.add_argument("--merchants", type=int, default=20)
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--fix-interval", type=float, default=4.0)
    parser.add_argument("--prep-seconds", type=float, default=5.0)
    parser.add_argument("--ride-seconds", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--capacity", action="store_true", help="then measure fix and socket limits")
    parser.add_argument("--socket-target", type=int, default=1000)
    parser.add_argument("--queue-tasks", type=int, default=2000)
    parser.add_argument("--spawn", action="store_true", help="start uvicorn, a worker, beat and the relay")
    parser.add_argument("--results", help="write <path>.json (with a `capacity` list for record_capacity)")
    args = parser.parse_args()
    processes = spawn(args) if args.spawn else []
    try:
        result = asyncio.run(main_async(args))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.results:
        result["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        result["capacity"] = [
            {
                "figure": figure,
                "limit": entry["limit"],
                "basis": "bench/city/simulate.py --capacity on this machine",
            }
            for figure, entry in result["headroom"].items()
        ]
        Path(args.results + ".json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
