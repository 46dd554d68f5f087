"""The apps of the city, behaving as real apps do:

- customers place orders (Poisson arrivals) with an `Idempotency-Key`, retried with the same key, and
  watch each order on `/ws/orders/<id>/` until it ends, asking for a snapshot when they see a gap;
- merchant tablets watch `/ws/merchants/<id>/`, accept each new order (from a pushed event or the
  snapshot every (re)connect brings), mark it ready `prep_seconds` later;
- drivers hold `/ws/driver/`, send a location fix every `fix_interval` seconds over it, accept the offers
  they see (pushed or in the snapshot), and carry every job they have (pushed, answered or in the
  snapshot): arrive, wait for the food, pick up, ride `ride_seconds`, deliver.

Every call goes through `client.Api` (retried on no answer, 5xx and 429, with backoff and the same key)
and every socket through `client.Sockets` (reopened with jittered backoff). An answer that says no to a
retry is checked against the server's state (the first try may have done the work), as an app that
re-reads the order would. Apps keep working until `stop` is set, which the run does once their orders
have ended, so what stays open is the system's doing.
"""

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.city.client import Api, Sockets
from bench.city.ledger import TERMINAL, Sighting

#: A job's states in the order a delivery goes through them.
JOB_STEPS = (
    "en_route_to_pickup",
    "arrived_at_pickup",
    "picked_up",
    "en_route_to_dropoff",
    "arrived_at_dropoff",
    "delivered",
)
JOB_ENDED = frozenset({"cancelled", "failed"})
ORDER_STEPS = ("placed", "accepted", "preparing", "ready_for_pickup", "picked_up", "delivered")


@dataclass
class Actors:
    merchants: list[dict[str, Any]]
    customers: list[dict[str, Any]]
    drivers: list[dict[str, Any]]


@dataclass
class Knobs:
    orders_per_minute: float
    fix_interval: float
    prep_seconds: float
    ride_seconds: float


def new_key() -> str:
    return uuid.uuid4().hex


def reached(state: str, step: str, steps: tuple[str, ...] = JOB_STEPS) -> bool:
    """Is a job (or an order, with ORDER_STEPS) in `state` at `step` or past it?"""
    return state in steps and steps.index(state) >= steps.index(step)


@dataclass
class City:
    """Every app of the run, and what they saw."""

    actors: Actors
    knobs: Knobs
    http_url: str
    ws_url: str
    rng: random.Random
    api: Api = field(init=False)
    sockets: Sockets = field(init=False)
    #: Set when the apps should stop: the run's orders have ended (or the cap was reached).
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    #: Customers' watchers are told to stop only after a grace period, then this is set.
    stop_watching: asyncio.Event = field(default_factory=asyncio.Event)
    acknowledged: dict[int, float] = field(default_factory=dict)  # order id -> placement answered at
    sightings: list[Sighting] = field(default_factory=list)
    merchant_saw: dict[int, float] = field(default_factory=dict)  # order id -> first seen by its tablet
    driver_saw: dict[int, float] = field(default_factory=dict)  # offer id -> first seen by its driver
    accept_sent: dict[int, float] = field(default_factory=dict)
    push_seconds: list[float] = field(default_factory=list)
    dispatch_seconds: list[float] = field(default_factory=list)
    door_seconds: list[float] = field(default_factory=list)
    fixes_sent: int = 0
    fixes_acked: int = 0
    crashes: Counter[str] = field(default_factory=Counter)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    watchers: set[asyncio.Task[None]] = field(default_factory=set)
    kitchen: set[int] = field(default_factory=set)
    offers_taken: set[int] = field(default_factory=set)
    bundles: set[int] = field(default_factory=set)
    #: Orders whose food the merchant has handed over (marked ready), and when (time.time()): the
    #: physical world, not a message.
    food_ready: dict[int, float] = field(default_factory=dict)
    #: Order id -> click to door (placement answered -> delivered), s.
    door_by_order: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.api = Api(self.http_url, self.rng)
        self.sockets = Sockets(self.rng)

    def spawn(self, coroutine: Any, *, into: set[asyncio.Task[None]] | None = None) -> None:
        task = asyncio.create_task(coroutine)
        bucket = self.tasks if into is None else into
        bucket.add(task)
        task.add_done_callback(self._done)
        task.add_done_callback(bucket.discard)

    def _done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.crashes[repr(task.exception())[:200]] += 1

    # --- customers ---------------------------------------------------------------------------------

    async def place_orders(self, *, until: float) -> None:
        """Poisson arrivals at the asked rate until `until` (time.time()); each order is its own task."""
        rate = self.knobs.orders_per_minute / 60
        while True:
            await asyncio.sleep(self.rng.expovariate(rate))
            if time.time() >= until:
                return
            customer = self.rng.choice(self.actors.customers)
            merchant = self.rng.choice(self.actors.merchants)
            self.spawn(self.order(customer, merchant), into=self.watchers)

    async def order(self, customer: dict[str, Any], merchant: dict[str, Any]) -> None:
        body = {
            "merchant_id": merchant["id"],
            "lines": [{"item_id": self.rng.choice(merchant["items"]), "quantity": self.rng.randint(1, 3)}],
            "delivery_lat": f"{merchant['lat'] + self.rng.uniform(-0.01, 0.01):.6f}",
            "delivery_lng": f"{merchant['lng'] + self.rng.uniform(-0.01, 0.01):.6f}",
            "delivery_address": "Sim address",
        }
        started = time.time()
        response = await self.api.call(
            "POST /api/v1/orders", "POST", "/api/v1/orders", customer["token"], body=body, key=new_key()
        )
        if response is None or response.status_code not in (200, 201):
            return
        order_id = int(response.json()["id"])
        self.acknowledged[order_id] = started
        await self.watch(order_id, customer["token"])

    async def watch(self, order_id: int, token: str) -> None:
        """Follow the order until the app has seen it end (or the run stops watching)."""
        known = {"sequence": 0, "status": ""}

        async def on_message(message: dict[str, Any], socket: Any) -> bool:
            kind = str(message.get("type", ""))
            is_snapshot = kind == "order.snapshot"
            if not is_snapshot and not (kind.startswith("order.") and message.get("order_id") == order_id):
                return False
            sequence, status = int(message.get("sequence") or 0), str(message.get("status", ""))
            if not is_snapshot and sequence > known["sequence"] + 1:
                await socket.send(json.dumps({"type": "snapshot"}))  # a gap: redraw from the server
            if sequence > known["sequence"]:
                known.update(sequence=sequence, status=status)
                self.sightings.append(Sighting(order_id, time.time(), sequence, status))
            if kind == "order.accepted" and order_id in self.accept_sent:
                self.push_seconds.append(time.perf_counter() - self.accept_sent.pop(order_id))
            return known["status"] in TERMINAL

        await self.sockets.follow(
            "customer", f"{self.ws_url}/ws/orders/{order_id}/", token, on_message, until=self.stop_watching
        )

    # --- merchants ---------------------------------------------------------------------------------

    async def tablet(self, merchant: dict[str, Any]) -> None:
        token = merchant["token"]

        async def on_message(message: dict[str, Any], socket: Any) -> bool:
            kind = str(message.get("type", ""))
            if kind == "merchant.snapshot":
                for order in message.get("orders", []):
                    self.on_merchant_order(order, token)
            elif kind.startswith("order.") and message.get("order_id") is not None:
                self.on_merchant_order(message, token)
            return False

        await self.sockets.follow(
            "merchant", f"{self.ws_url}/ws/merchants/{merchant['id']}/", token, on_message, until=self.stop
        )

    def on_merchant_order(self, order: dict[str, Any], token: str) -> None:
        order_id, status = int(order["order_id"]), str(order.get("status", ""))
        self.merchant_saw.setdefault(order_id, time.time())
        if order_id in self.kitchen or status not in ("placed", "accepted", "preparing"):
            return
        self.kitchen.add(order_id)
        self.spawn(self.prepare(order_id, token, accept=status == "placed"))

    async def prepare(self, order_id: int, token: str, *, accept: bool) -> None:
        if accept:
            await asyncio.sleep(self.rng.uniform(0.2, 1.0))
            self.accept_sent[order_id] = time.perf_counter()
            if not await self.merchant_step(order_id, token, "accept", {"prep_minutes": 5}, "accepted"):
                return
            await asyncio.sleep(self.knobs.prep_seconds)
        if await self.merchant_step(order_id, token, "ready", None, "ready_for_pickup"):
            self.food_ready.setdefault(order_id, time.time())

    async def merchant_step(
        self, order_id: int, token: str, action: str, body: dict[str, Any] | None, reaches: str
    ) -> bool:
        """One merchant action; a refusal is checked against the order (a retry of an action that was
        done is refused today), and the tablet moves on when the order is already there or past it."""
        path = f"/api/v1/merchant/orders/{order_id}"
        response = await self.api.call(
            f"POST /merchant/orders/{{id}}/{action}",
            "POST",
            f"{path}/{action}",
            token,
            body=body,
            key=new_key(),
        )
        if response is None:
            return False
        if response.status_code == 200:
            return True
        current = await self.api.call("GET /merchant/orders/{id}", "GET", path, token)
        if current is None or current.status_code != 200:
            return False
        return reached(str(current.json().get("status", "")), reaches, ORDER_STEPS)

    # --- drivers -----------------------------------------------------------------------------------

    async def phone(self, driver: dict[str, Any]) -> None:
        token = driver["token"]
        sent: list[float] = []

        async def on_open(socket: Any) -> None:
            sent.clear()
            self.spawn(self.send_fixes(socket, driver, sent))

        async def on_message(message: dict[str, Any], socket: Any) -> bool:
            kind = str(message.get("type", ""))
            if kind == "location.ack":
                self.fixes_acked += 1
                if sent:
                    self.api.latencies["ws location fix -> ack"].append(time.perf_counter() - sent.pop(0))
            elif kind == "snapshot":
                for offer in message.get("offers", []):
                    self.on_offer(offer, driver)
                self.on_jobs(message.get("jobs", []), driver)
            elif kind == "offer.created":
                self.on_offer(message, driver)
            return False

        await self.sockets.follow(
            "driver", f"{self.ws_url}/ws/driver/", token, on_message, until=self.stop, on_open=on_open
        )

    async def send_fixes(self, socket: Any, driver: dict[str, Any], sent: list[float]) -> None:
        """A fix every `fix_interval` seconds while this socket is open."""
        await asyncio.sleep(self.rng.uniform(0, self.knobs.fix_interval))
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
            try:
                await socket.send(json.dumps({"type": "location", "fixes": [fix]}))
            except Exception:
                return  # the socket closed; the next one starts its own sender
            self.fixes_sent += 1
            await asyncio.sleep(self.knobs.fix_interval)

    def on_offer(self, offer: dict[str, Any], driver: dict[str, Any]) -> None:
        offer_id = int(offer["offer_id"])
        self.driver_saw.setdefault(offer_id, time.time())
        if offer.get("status", "offered") == "offered" and offer_id not in self.offers_taken:
            self.offers_taken.add(offer_id)
            self.spawn(self.take_offer(offer_id, driver))

    def on_jobs(self, jobs: list[dict[str, Any]], driver: dict[str, Any]) -> None:
        """Carry every bundle the driver has and is not carrying yet."""
        for offer_id in sorted({int(job["offer_id"]) for job in jobs} - self.bundles):
            self.bundles.add(offer_id)
            mine = sorted(
                (job for job in jobs if int(job["offer_id"]) == offer_id), key=lambda j: j["sequence"]
            )
            self.spawn(self.carry(mine, driver))

    async def take_offer(self, offer_id: int, driver: dict[str, Any]) -> None:
        token = driver["token"]
        response = await self.api.call(
            "POST /driver/offers/{id}/accept",
            "POST",
            f"/api/v1/driver/offers/{offer_id}/accept",
            token,
            key=new_key(),
        )
        if response is None:
            return
        if response.status_code != 200:  # taken, expired, or accepted by a try whose answer was lost
            response = await self.api.call(
                "GET /driver/current-job", "GET", "/api/v1/driver/current-job", token
            )
            if response is None or response.status_code != 200:
                return
        jobs = [job for job in response.json().get("jobs", []) if job["state"] not in JOB_ENDED]
        now = time.time()
        for job in jobs:
            if int(job["order_id"]) in self.acknowledged and int(job["offer_id"]) == offer_id:
                self.dispatch_seconds.append(now - self.acknowledged[int(job["order_id"])])
        self.on_jobs(jobs, driver)

    async def carry(self, jobs: list[dict[str, Any]], driver: dict[str, Any]) -> None:
        """One bundle: arrive at the merchant, pick each order up once ready, ride, deliver each."""
        token = driver["token"]
        live = [job for job in jobs if await self.step(job, "arrived_at_pickup", token)]
        picked = []
        for job in live:
            await self.wait_ready(int(job["order_id"]))
            if await self.step(job, "picked_up", token):
                picked.append(job)
        if picked:
            await asyncio.sleep(self.knobs.ride_seconds)
        for job in picked:
            order_id = int(job["order_id"])
            if await self.step(job, "delivered", token) and order_id in self.acknowledged:
                self.door_seconds.append(time.time() - self.acknowledged[order_id])
                self.door_by_order[order_id] = self.door_seconds[-1]

    async def wait_ready(self, order_id: int, *, longest: float = 60.0) -> None:
        """At the counter until the merchant hands the food over (at most `longest`: then the step tells
        whether the order still exists)."""
        deadline = time.monotonic() + longest
        while order_id not in self.food_ready and time.monotonic() < deadline and not self.stop.is_set():
            await asyncio.sleep(0.2)

    async def step(self, job: dict[str, Any], to: str, token: str) -> bool:
        """Move the job to `to`: True once it is there (or past it), False if it ended another way. A
        refusal is checked against the job: not yet possible (the food is not ready) -> again in a
        second; already done (a retry whose first try went through) -> done."""
        job_id = int(job["job_id"])
        while not self.stop.is_set():
            if reached(str(job["state"]), to):
                return True
            response = await self.api.call(
                "POST /driver/jobs/{id}/steps", "POST", f"/api/v1/driver/jobs/{job_id}/steps", token,
                body={"to": to}, key=new_key(),
            )  # fmt: skip
            if response is None:
                return False
            if response.status_code == 200:
                job["state"] = to
                return True
            current = await self.api.call(
                "GET /driver/jobs/{id}", "GET", f"/api/v1/driver/jobs/{job_id}", token
            )
            if current is None or current.status_code != 200:
                return False
            job["state"] = str(current.json()["state"])
            if job["state"] in JOB_ENDED:
                return False
            if not reached(job["state"], to):
                await asyncio.sleep(1.0)
        return False
