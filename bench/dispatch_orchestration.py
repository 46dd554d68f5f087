"""A full dispatch round against PostgreSQL and Redis: 5,000 online drivers, 100 orders waiting.

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/dispatch_orchestration.py [--rounds 30]

`run_round` as production runs it: expire and prune sweeps, the advisory lock, the pool query (with
its orders and merchants, locked), GEOSEARCH around each merchant, the free-driver query, the pure
policy, and the offers persisted with their outbox events. Each round is rolled back afterwards, so
every round sees the same 100 orders; the bench data lives in one transaction rolled back at the end
(the Redis positions are removed). Beside it, in the same run, the two halves measured alone: loading
the round's input (pool + drivers), and the pure policy on that input. Goal: p99 <= 1 s.
Writes bench/dispatch_orchestration_RESULTS.md.
"""

import argparse
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loship.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("SECRET_KEY", "bench-only-" + "b" * 40)

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.harness import percentile  # noqa: E402
from drivers import location  # noqa: E402
from drivers.dispatch import orchestration  # noqa: E402
from drivers.dispatch.entities import PendingOrder  # noqa: E402
from drivers.dispatch.geometry import Point  # noqa: E402
from drivers.dispatch.policy import plan_round  # noqa: E402
from drivers.models import DispatchRequest, DriverProfile  # noqa: E402
from merchants.models import Merchant  # noqa: E402
from orders.models import Order, OrderStatus, PaymentMethod, PaymentStatus  # noqa: E402
from users.models import Role, User  # noqa: E402

LAT_RANGE, LNG_RANGE = (10.72, 10.86), (106.62, 106.78)


class Rollback(Exception):
    pass


def seed(rng: random.Random, drivers: int, orders: int) -> list[int]:
    now = timezone.now()
    users = User.objects.bulk_create(
        User(phone=f"+8496{n:07d}", full_name=f"Bench {n}", roles=[Role.DRIVER], password="!")
        for n in range(drivers)
    )
    DriverProfile.objects.bulk_create(DriverProfile(user=user, is_online=True) for user in users)
    customer = User.objects.create(phone="+84950000000", full_name="Bench customer", password="!")
    merchants = Merchant.objects.bulk_create(
        Merchant(
            name=f"Bench {n}",
            slug=f"bench-dispatch-{n}",
            address="Bench",
            lat=Decimal(f"{rng.uniform(*LAT_RANGE):.6f}"),
            lng=Decimal(f"{rng.uniform(*LNG_RANGE):.6f}"),
        )
        for n in range(60)
    )
    created = Order.objects.bulk_create(
        Order(
            code=f"BENCH{n:06d}",
            customer=customer,
            merchant=rng.choice(merchants),
            status=OrderStatus.READY_FOR_PICKUP,
            delivery_address="Bench",
            delivery_lat=Decimal(f"{rng.uniform(*LAT_RANGE):.6f}"),
            delivery_lng=Decimal(f"{rng.uniform(*LNG_RANGE):.6f}"),
            customer_phone="+84950000000",
            distance_m=3000,
            subtotal_vnd=100_000,
            delivery_fee_vnd=20_000,
            total_vnd=120_000,
            payment_method=PaymentMethod.CASH,
            payment_status=PaymentStatus.COD_PENDING,
        )
        for n in range(orders)
    )
    DispatchRequest.objects.bulk_create(
        DispatchRequest(
            order=order,
            ready_at=now - timedelta(minutes=rng.uniform(0, 3)),
            dispatchable_at=now - timedelta(minutes=5),
            searching_since=now - timedelta(seconds=20),
            search_radius_m=3000,
        )
        for order in created
    )
    pipe = location.client().pipeline()
    fix_ms = int(time.time() * 1000)
    for user in users:
        pipe.geoadd(location.GEO_KEY, (rng.uniform(*LNG_RANGE), rng.uniform(*LAT_RANGE), user.pk))
        pipe.zadd(location.SEEN_KEY, {str(user.pk): fix_ms})
    pipe.execute()
    return [user.pk for user in users]


def load_input() -> tuple[list[PendingOrder], list[orchestration.AvailableDriver]]:
    """The round's input as `run_round` loads it (pool with orders and merchants, nearby free drivers)."""
    now = timezone.now()
    requests = list(
        DispatchRequest.objects.select_related("order__merchant").filter(
            status="waiting", dispatchable_at__lte=now
        )
    )
    drivers = orchestration._free_drivers_near(requests, now)
    clock = orchestration._Clock(now)
    orders = [
        PendingOrder(
            id=str(r.order_id),
            merchant_id=str(r.order.merchant_id),
            pickup=Point(float(r.order.merchant.lng), float(r.order.merchant.lat)),
            dropoff=Point(float(r.order.delivery_lng), float(r.order.delivery_lat)),
            placed_at=clock.minutes(r.order.created_at) - 15,
            ready_at=clock.minutes(r.ready_at),
        )
        for r in requests
    ]
    return orders, drivers


def timed(action: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    value = action()
    return time.perf_counter() - started, value


def one_round() -> orchestration.RoundResult:
    try:
        with transaction.atomic():
            result = orchestration.run_round()
            raise Rollback(result)
    except Rollback as rolled_back:
        round_result: orchestration.RoundResult = rolled_back.args[0]
        return round_result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--drivers", type=int, default=5000)
    parser.add_argument("--orders", type=int, default=100)
    args = parser.parse_args()
    rng = random.Random(7)
    full, loading, policy, offers, candidates = [], [], [], [], []
    driver_ids: list[int] = []
    try:
        with transaction.atomic():
            driver_ids = seed(rng, args.drivers, args.orders)
            params = orchestration.policy_params()
            one_round()  # warm-up: connections, prepared type lookups, imports
            for _ in range(args.rounds):
                seconds, result = timed(one_round)
                assert isinstance(result, orchestration.RoundResult) and result.ran
                full.append(seconds)
                offers.append(len(result.offers))
                candidates.append(result.drivers)
                seconds, loaded = timed(load_input)
                loading.append(seconds)
                orders, drivers = loaded  # type: ignore[misc]
                policy.append(timed(lambda o=orders, d=drivers: plan_round(o, d, 0.0, params))[0])
            raise Rollback()
    except Rollback:
        pass
    finally:
        if driver_ids:
            location.client().zrem(location.GEO_KEY, *driver_ids)
            location.client().zrem(location.SEEN_KEY, *driver_ids)
    rows = [
        ("`run_round` (load, policy, persist offers + outbox)", full),
        ("part: load the input (pool query, GEOSEARCH, free drivers)", loading),
        ("part: the pure policy on that input", policy),
    ]
    lines = [
        "# Dispatch round with orchestration",
        "",
        f"`bench/dispatch_orchestration.py --rounds {args.rounds}`: {args.drivers} online drivers with live",
        f"positions in Redis GEO and {args.orders} orders waiting (ready now, 60 merchants, random Ho Chi",
        "Minh City points), PostgreSQL 15 and Redis 7 on the same 2-core machine shared with other work;",
        f"Python {platform.python_version()}. Each round is rolled back so every round sees the same pool.",
        "",
        "| what | p50 ms | p99 ms | max ms | ratio p99 to the pure policy |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    policy_p99 = percentile(policy, 0.99)
    for label, values in rows:
        lines.append(
            f"| {label} | {percentile(values, 0.5) * 1000:.1f} | {percentile(values, 0.99) * 1000:.1f} "
            f"| {max(values) * 1000:.1f} | {percentile(values, 0.99) / policy_p99:.2f} |"
        )
    lines += [
        "",
        f"Per round: {sum(candidates) / len(candidates):.0f} candidate drivers (within the orders' search",
        f"radius, GEOSEARCH COUNT 60 per merchant), {sum(offers) / len(offers):.1f} offers made.",
        f"Goal p99 <= 1000 ms: {'met' if percentile(full, 0.99) <= 1.0 else 'NOT met'}.",
    ]
    text = "\n".join(lines) + "\n"
    (ROOT / "bench" / "dispatch_orchestration_RESULTS.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
