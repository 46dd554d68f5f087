"""Order placement over HTTP, beside a raw DRF single-row insert (the baseline), in one run.

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/orders_bench.py [--seconds 10] [--concurrency 8]
        [--workers 1] [--baseline PATH] [--baseline-db NAME]

Starts the project under uvicorn (DEBUG=0, `--workers` processes, default one) on a free loopback port
against the given database, seeds a merchant with a menu (3 lines with options) and a promo code,
starts the baseline (`rawdrf.py`, plain Django + DRF, under gunicorn with as many workers), then
alternates rounds of `POST /items` on the baseline and `POST /api/v1/orders` on the project (JWT auth,
a fresh Idempotency-Key each, a promo), and prints requests/s and p99 of both and their ratios.
Goal: placement >= 50% of the baseline's requests/s, and p99 <= 2x the baseline's.
"""

import argparse
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import SERVER_ENV, load, median_of, migrate, uvicorn_server  # noqa: E402
from bench.rawdrf_baseline import add_baseline_arguments, baseline_database, rawdrf_server  # noqa: E402

ENV = {**SERVER_ENV, "MERCHANT_ACCEPT_MINUTES": "600"}


def seed(customers: int) -> dict[str, Any]:
    """Create the bench merchant, menu, promo and customers; return what the clients send."""
    import django

    django.setup()
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone
    from rest_framework_simplejwt.tokens import RefreshToken

    from merchants.models import MenuItem, Merchant, Option, OptionGroup
    from orders.models import Promotion
    from users.models import Role, User

    tag = uuid.uuid4().hex[:8]
    merchant = Merchant.objects.create(
        name=f"Bench {tag}", slug=f"bench-{tag}", lat=Decimal("10.776900"), lng=Decimal("106.700900"),
        address="1 Lê Lợi", phone="+842838000000", min_order_vnd=40000, delivery_radius_m=8000,
        prep_minutes=15, is_active=True,
    )  # fmt: skip
    _make_always_open(merchant)
    lines = []
    for n in range(3):
        item = MenuItem.objects.create(
            merchant=merchant, name=f"Món {n}", price_vnd=40000 + n * 5000, is_available=True
        )
        size = OptionGroup.objects.create(
            item=item, name="Size", is_required=True, min_select=1, max_select=1
        )
        large = Option.objects.create(group=size, name="Lớn", price_delta_vnd=10000)
        Option.objects.create(group=size, name="Nhỏ", price_delta_vnd=0)
        extra = OptionGroup.objects.create(
            item=item, name="Thêm", is_required=False, min_select=0, max_select=3
        )
        egg = Option.objects.create(group=extra, name="Trứng", price_delta_vnd=5000)
        lines.append({"item_id": item.pk, "quantity": 1 + n % 2, "option_ids": [large.pk, egg.pk]})
    now = timezone.now()
    promo = Promotion.objects.create(
        code=f"BENCH{tag}".upper(), kind="percent", value=10, max_discount_vnd=20000,
        starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=1), usage_limit=10**9,
    )  # fmt: skip
    tokens = []
    batch = uuid.uuid4().int % 1000
    for n in range(customers):
        user, _ = User.objects.get_or_create(
            phone=f"+8497{batch:03d}{n:04d}", defaults={"roles": [Role.CUSTOMER], "full_name": f"Bench {n}"}
        )
        tokens.append(str(RefreshToken.for_user(user).access_token))
    body = {
        "merchant_id": merchant.pk,
        "lines": lines,
        "delivery_lat": "10.785000",
        "delivery_lng": "106.707000",
        "delivery_address": "20 Hai Bà Trưng",
        "promo_code": promo.code,
    }
    return {"tokens": tokens, "order_body": body}


def _make_always_open(merchant: Any) -> None:
    """Open around the clock every day (opens_at == closes_at means all day)."""
    from datetime import time as dtime

    from merchants.models import OpeningHours

    OpeningHours.objects.bulk_create(
        OpeningHours(merchant=merchant, weekday=day, opens_at=dtime(0), closes_at=dtime(0))
        for day in range(7)
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1, help="worker processes of each server")
    add_baseline_arguments(parser)
    args = parser.parse_args()
    for name in ("DATABASE_URL", "REDIS_URL"):
        if name not in os.environ:
            print(f"{name} must be set (a scratch database: the bench writes rows)", file=sys.stderr)
            return 2
    os.environ.update(ENV)
    migrate()
    data = seed(customers=max(args.concurrency * 4, 16))
    tokens: list[str] = data["tokens"]
    order_body = json.dumps(data["order_body"]).encode()
    raw_body = json.dumps({"name": "bench", "price": 1}).encode()

    def raw_request(index: int, n: int) -> tuple[bytes, dict[str, str]]:
        return raw_body, {"Content-Type": "application/json"}

    def order_request(index: int, n: int) -> tuple[bytes, dict[str, str]]:
        token = tokens[(index * 7 + n) % len(tokens)]
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        return order_body, {**headers, "Idempotency-Key": uuid.uuid4().hex}

    raw_server = rawdrf_server(args.baseline, workers=args.workers, database=baseline_database(args))
    with raw_server as raw_port, uvicorn_server(workers=args.workers) as port:
        load(raw_port, "/items", raw_request, 2, args.concurrency)  # warm-up
        load(port, "/api/v1/orders", order_request, 2, args.concurrency)
        results: dict[str, list[dict[str, float]]] = {"raw": [], "orders": []}
        for _ in range(args.rounds):
            results["raw"].append(load(raw_port, "/items", raw_request, args.seconds, args.concurrency))
            results["orders"].append(
                load(port, "/api/v1/orders", order_request, args.seconds, args.concurrency)
            )

    raw, orders = median_of(results["raw"]), median_of(results["orders"])
    report = {
        "concurrency": args.concurrency,
        "workers": args.workers,
        "seconds_per_round": args.seconds,
        "rounds": args.rounds,
        "raw_insert": raw,
        "place_order": orders,
        "rps_ratio": orders["rps"] / raw["rps"],
        "p99_ratio": orders["p99_ms"] / raw["p99_ms"],
    }
    print(json.dumps(report, indent=2))
    ok = report["rps_ratio"] >= 0.5 and report["p99_ratio"] <= 2.0 and orders["errors"] == 0
    print("GOAL MET" if ok else "GOAL NOT MET")
    return 0


if __name__ == "__main__":
    sys.exit(main())
