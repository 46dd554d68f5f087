"""A city of customers, merchants and drivers acting through the real API and WebSockets, optionally with
one part of the system broken mid-run.

    DATABASE_URL=... python bench/city/simulate.py --spawn --orders-per-minute 40 --drivers 40 \\
        --merchants 15 --customers 100 --seconds 150 [--fault worker|redis|web|ws|db|none --fault-at 40 \\
        --fault-repeat 2 --fault-every 60] [--results bench/city_faults_RESULTS] [--capacity]

`--spawn` starts the system as `make run` does (bench/city/stack.py): the Procfile's release line, then
web, ws, worker, beat and relay, against DATABASE_URL and a private redis-server (never the machine's
shared one), with pushes going to a local FCM stand-in. Without it the apps drive a running system at
`--base-url` (and `--ws-url`), and no fault can be injected. Setup writes the actors through the ORM
(idempotent, phones +8498xxxxxx); everything after that goes through HTTP and sockets, by apps that
behave as real ones do (bench/city/apps.py: retries with the same keys, sockets reopened, snapshots
acted on). Customers place orders for `--seconds`; the apps then keep working until every order of the
run has ended in PostgreSQL (at most `--drain-seconds`), so what stays open is the system's doing.

The ledger (bench/city/ledger.py) then compares what the apps saw with what PostgreSQL holds: orders
stuck or doubled, outbox events unpublished, notifications and pushes lost, doubled or late (more than
10 s after the heal), customer sockets not ending on the final status, events doubled on a socket, 5xx
answers by endpoint, and for each fault the time to heal. `--fault` runs write their column of
`<results>.json` / `.md`; other runs write `<results>.json` with throughput, latencies and, with
`--capacity`, the location-fix, socket and queue limits that `manage.py record_capacity` stores.
"""

import argparse
import asyncio
import json
import logging
import os
import random
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loship.settings")

from bench.city import capacity  # noqa: E402
from bench.city.apps import City, Knobs  # noqa: E402
from bench.city.faults import (  # noqa: E402
    KINDS,
    REDIS_DOWN_SECONDS,
    SIMULATION_APPLICATION_NAME,
    Breaker,
)
from bench.city.ledger import heal  # noqa: E402
from bench.city.push_receiver import PushReceiver  # noqa: E402
from bench.city.stack import Stack, private_redis  # noqa: E402
from bench.harness import percentile  # noqa: E402

logging.getLogger("httpx").setLevel(logging.WARNING)

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


def with_application_name(url: str, name: str) -> str:
    """`url` whose sessions name themselves `name` in pg_stat_activity (so the db fault spares them)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["application_name"] = name
    return urlunsplit(parts._replace(query=urlencode(query)))


def server_env(*, database_url: str, redis_url: str, receiver: PushReceiver, log_dir: Path) -> dict[str, str]:
    """Production settings (DEBUG off, JSON logs) for loopback HTTP, the run's database and Redis."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "STATIC_MANIFEST": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "FAST_PASSWORD_HASHING": "1",
        "METRICS_TOKEN": capacity.METRICS_TOKEN,
        "METRICS_PUBLISH_SECONDS": "1",
        "LOG_FORMAT": "json",
        "BEAT_SCHEDULE": str(log_dir / "celerybeat-schedule"),
        "PYTHONUNBUFFERED": "1",
        **receiver.env(),
    }


async def run(
    args: argparse.Namespace,
    *,
    http_url: str,
    ws_url: str,
    stack: Stack | None,
    breaker: Breaker | None,
    receiver: PushReceiver | None,
) -> dict[str, Any]:
    from django.utils import timezone

    from bench.city import results, world

    rng = random.Random(args.seed)
    actors = await asyncio.to_thread(
        world.seed_city, merchants=args.merchants, customers=args.customers, drivers=args.drivers, rng=rng
    )
    customer_ids = [customer["id"] for customer in actors.customers]
    driver_ids = [driver["id"] for driver in actors.drivers]
    since = timezone.now()
    cash_before = await asyncio.to_thread(world.cash_balances, driver_ids)
    knobs = Knobs(args.orders_per_minute, args.fix_interval, args.prep_seconds, args.ride_seconds)
    city = City(actors, knobs, http_url, ws_url, rng)
    tasks_before = await capacity.tasks_done(city.api.client, http_url)
    log_offsets = stack.log_sizes() if stack else {}
    for merchant in actors.merchants:
        city.spawn(city.tablet(merchant))
    for driver in actors.drivers:
        city.spawn(city.phone(driver))
    await asyncio.sleep(1.0)
    started = time.time()
    schedule = None
    if args.fault not in (None, "none") and breaker is not None:
        schedule = asyncio.create_task(
            breaker.run_schedule(
                args.fault, first_at=started + args.fault_at, repeat=args.fault_repeat, every=args.fault_every
            )
        )
    await city.place_orders(until=started + args.seconds)
    load_ended = time.time()
    # The apps keep working until every order of the run has ended (or the cap), then each customer
    # app has `--grace` seconds to see its order's end.
    while time.time() < load_ended + args.drain_seconds:
        if (schedule is None or schedule.done()) and not await asyncio.to_thread(
            world.open_orders, since=since, customer_ids=customer_ids
        ):
            break
        await asyncio.sleep(2.0)
    if city.watchers:
        await asyncio.wait(set(city.watchers), timeout=args.grace)
    drained = time.time()
    city.stop_watching.set()
    city.stop.set()
    leftover = {*city.tasks, *city.watchers}
    if leftover:
        _, pending = await asyncio.wait(leftover, timeout=5)
        for task in pending:
            task.cancel()
    faults_done = await schedule if schedule is not None else []
    # What the system still owes (outbox events, pushes) gets until `--settle` to arrive; what has not
    # by then counts as lost.
    settle_until = time.time() + args.settle
    await asyncio.sleep(5.0)
    while time.time() < settle_until and await asyncio.to_thread(world.pending_work, since=since):
        await asyncio.sleep(2.0)
    receipts = list(receiver.receipts) if receiver is not None else None
    seen = results.activity(city, receipts or [])
    faults, fault_rows = [], []
    for fault, detail in faults_done:
        healed, back = heal(fault, seen)
        faults.append(healed)
        slowest = max((k for k, v in back.items() if v is not None), key=lambda k: back[k] or 0, default=None)
        fault_rows.append(
            {
                "kind": fault.kind,
                "at_seconds": round(fault.started_at - started, 1),
                "broken_seconds": round(fault.ended_at - fault.started_at, 1),
                "time_to_heal_seconds": round((healed.healed_at or fault.ended_at) - fault.ended_at, 2),
                "slowest": slowest,
                "back_after_seconds": back,
                **detail,
            }
        )
    facts = await asyncio.to_thread(
        world.collect, since=since, customer_ids=customer_ids, driver_ids=driver_ids
    )
    cash_after = await asyncio.to_thread(world.cash_balances, driver_ids)
    found = results.integrity(city, facts, faults, receipts, cash_before=cash_before, cash_after=cash_after)
    elapsed = load_ended - started
    tasks_in_run = await capacity.tasks_done(city.api.client, http_url) - tasks_before
    out: dict[str, Any] = {
        "run": {
            "seconds": round(elapsed, 1),
            "drain_seconds": round(drained - load_ended, 1),
            "orders_per_minute_asked": args.orders_per_minute,
            "drivers": len(actors.drivers),
            "merchants": len(actors.merchants),
            "customers": len(actors.customers),
            "fix_interval_seconds": args.fix_interval,
            "orders_placed": len(city.acknowledged),
            "orders_dispatched": len(city.dispatch_seconds),
            "orders_delivered": len(city.door_seconds),
        },
        "faults": fault_rows,
        **found,
        "problems": results.problems(found),
        "server_error_lines": stack.error_lines(log_offsets) if stack else {},
        "app_crashes": dict(city.crashes),
        "load": {
            "orders_per_minute": round(len(city.acknowledged) / elapsed * 60, 1),
            "location_fixes_per_second": round(city.fixes_acked / elapsed, 1),
            "open_sockets": city.sockets.peak,
        },
        **results.latencies(city),
        "endpoints": endpoints(city, elapsed),
        "celery_tasks_in_run": tasks_in_run,
        "celery_tasks_per_order": round(tasks_in_run / len(city.acknowledged), 1)
        if city.acknowledged
        else None,
    }
    if args.capacity:
        out["headroom"] = await measure_capacity(args, city, http_url, ws_url, out["load"])
    await city.api.client.aclose()
    return out


def endpoints(city: City, elapsed: float) -> dict[str, Any]:
    """Per endpoint (client side, every try): count, rate, p50/p99 and the tries that failed."""
    failed: dict[str, int] = {}
    for attempt in city.api.attempts:
        if attempt.status is None or attempt.status >= 400:
            failed[attempt.endpoint] = failed.get(attempt.endpoint, 0) + 1
    return {
        name: {
            "count": len(values),
            "per_second": round(len(values) / elapsed, 2),
            "p50_ms": round(percentile(values, 0.5) * 1000, 1),
            "p99_ms": round(percentile(values, 0.99) * 1000, 1),
            "failed": failed.get(name, 0),
        }
        for name, values in sorted(city.api.latencies.items())
    }


async def measure_capacity(
    args: argparse.Namespace, city: City, http_url: str, ws_url: str, load: dict[str, Any]
) -> dict[str, Any]:
    """The saturation runs, each limit beside this run's load and the HCMC peak's."""
    drivers = city.actors.drivers
    limits: dict[str, float] = {}
    limits["location_fixes_per_second"] = await capacity.fix_capacity(drivers[:20], ws_url, seconds=10)
    held, _probe_ms = await capacity.socket_capacity(
        drivers, ws_url, city.api.client, http_url, target=args.socket_target
    )
    limits["open_sockets"] = held
    drain = await capacity.queue_capacity(tasks=args.queue_tasks)
    limits["queue_depth"] = drain * 60  # a backlog is tolerable while the workers clear it within a minute
    headroom: dict[str, Any] = {"worker_drain_tasks_per_second": round(drain, 1)}
    for figure, limit in limits.items():
        headroom[figure] = {
            "limit": round(limit, 1),
            "this_run_load": load.get(figure),
            "this_run_headroom": round(limit / load[figure], 1) if load.get(figure) else None,
            "hcmc_peak_load": HCMC_PEAK.get(figure),
            "hcmc_peak_headroom": round(limit / HCMC_PEAK[figure], 2) if HCMC_PEAK.get(figure) else None,
        }
    return headroom


def conditions(args: argparse.Namespace) -> str:
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} cores shared with other engineers' runs (load average {load} at the end), "
        f"PostgreSQL local, a private redis-server, the Procfile's web/ws/worker/beat/relay lines; "
        f"{args.orders_per_minute:g} orders/min for {args.seconds:g} s, {args.drivers} drivers "
        f"(a fix every {args.fix_interval:g} s), {args.merchants} merchant tablets, "
        f"{args.customers} customers; "
        f"preparation {args.prep_seconds:g} s, ride {args.ride_seconds:g} s"
    )


def save(args: argparse.Namespace, result: dict[str, Any]) -> None:
    from bench.city import results

    result["measured_at"] = results.stamp()
    result["command"] = "python bench/city/simulate.py " + shlex.join(sys.argv[1:])
    result["conditions"] = conditions(args)
    if args.fault:
        result["fault"] = (
            f"db burst {args.db_burst:g} s" if args.fault == "db" and args.db_burst else args.fault
        )
        results.save_fault_run(Path(args.results), result)
        return
    result["capacity"] = [
        {
            "figure": figure,
            "limit": entry["limit"],
            "basis": "bench/city/simulate.py --capacity on this machine",
        }
        for figure, entry in result.get("headroom", {}).items()
        if isinstance(entry, dict)
    ]
    Path(args.results + ".json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="without --spawn: the system")
    parser.add_argument("--ws-url", help="without --spawn: where /ws/ is served (default: --base-url's)")
    parser.add_argument("--orders-per-minute", type=float, default=40)
    parser.add_argument("--drivers", type=int, default=40)
    parser.add_argument("--merchants", type=int, default=15)
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--fix-interval", type=float, default=4.0)
    parser.add_argument("--prep-seconds", type=float, default=5.0)
    parser.add_argument("--ride-seconds", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=90, help="how long customers place orders")
    parser.add_argument("--drain-seconds", type=float, default=300, help="the cap on the apps' work after it")
    parser.add_argument("--grace", type=float, default=20, help="for customer sockets to see their order end")
    parser.add_argument(
        "--settle", type=float, default=120, help="at most, for what the system still owes (then it is lost)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fault", choices=[*KINDS, "none"], help="break this part mid-run (needs --spawn)")
    parser.add_argument("--fault-at", type=float, default=40, help="seconds into the load")
    parser.add_argument("--fault-repeat", type=int, default=2)
    parser.add_argument("--fault-every", type=float, default=60, help="seconds between repeats")
    parser.add_argument("--redis-down", type=float, default=REDIS_DOWN_SECONDS, help="seconds Redis is down")
    parser.add_argument("--db-burst", type=float, default=0.0, help="db: terminate again for that long")
    parser.add_argument("--capacity", action="store_true", help="then measure fix, socket and queue limits")
    parser.add_argument("--socket-target", type=int, default=1000)
    parser.add_argument("--queue-tasks", type=int, default=2000)
    parser.add_argument("--spawn", action="store_true", help="start the system from the Procfile here")
    parser.add_argument("--results", help="write <path>.json (fault runs: their column of <path>.json/.md)")
    args = parser.parse_args()
    if args.fault and not args.spawn:
        parser.error("--fault needs --spawn (the run breaks processes it started)")
    return args


def main() -> None:
    args = options()
    os.environ.setdefault("SECRET_KEY", "city-bench-" + "c" * 40)
    os.environ.setdefault("JWT_ACCESS_MINUTES", "120")  # the apps' tokens outlive a long drain
    database_url = os.environ["DATABASE_URL"]
    log_dir = Path(tempfile.mkdtemp(prefix="loship-city-"))
    redis = receiver = stack = breaker = None
    try:
        if args.spawn:
            redis = private_redis(log_dir)
            os.environ["REDIS_URL"] = redis.url()
            receiver = PushReceiver()
            env = server_env(
                database_url=database_url, redis_url=redis.url(), receiver=receiver, log_dir=log_dir
            )
            stack = Stack(env=env, log_dir=log_dir)
            stack.start()
            breaker = Breaker(stack, redis, database_url, redis_down=args.redis_down, db_burst=args.db_burst)
            http_url, ws_url = stack.http_url, stack.ws_url
        else:
            http_url = args.base_url.rstrip("/")
            ws_url = (args.ws_url or "ws" + http_url.removeprefix("http")).rstrip("/")
        os.environ["DATABASE_URL"] = with_application_name(database_url, SIMULATION_APPLICATION_NAME)
        import django

        django.setup()
        result = asyncio.run(
            run(args, http_url=http_url, ws_url=ws_url, stack=stack, breaker=breaker, receiver=receiver)
        )
    finally:
        if stack is not None:
            stack.stop()
        if redis is not None:
            redis.stop()
        if receiver is not None:
            receiver.close()
    result["logs"] = str(log_dir)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.results:
        save(args, result)


if __name__ == "__main__":
    main()
