"""Catalog reads over HTTP beside a raw DRF list of 20 rows (the baseline), in one run.

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/merchants_bench.py [--seconds 5] [--rounds 2]
        [--workers 1] [--baseline PATH] [--baseline-db NAME]

Starts the project under uvicorn (DEBUG=0) on a free loopback port, seeds (in a scratch database) a
merchant with a 50-dish menu (5 categories; every dish with a size group of 2 options and a topping
group of 3) among 60 merchants within 3 km of a point, starts the baseline (`rawdrf.py`, plain Django
+ DRF, under gunicorn with as many workers), then alternates rounds of:

- `GET /items` on the baseline: a ListAPIView + ModelSerializer over 20 rows;
- `GET /api/v1/merchants/<id>`: the merchant page with its 50 dishes (cached in Redis);
- `GET /api/v1/merchants?lat&lng&radius_m=5000`: the first page (20) of nearby merchants;
- `GET /api/v1/merchants?...&q=bun bo`: the same with an accent-insensitive search.

Prints requests/s, p50 and p99 of each, and each one's requests/s as a share of the baseline's.
Goal: the merchant page and the nearby list each >= 50% of the baseline's requests/s.
"""

import argparse
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import SERVER_ENV, load, median_of, migrate, uvicorn_server
from bench.rawdrf_baseline import add_baseline_arguments, baseline_database, rawdrf_server

#: A point with nothing else around it, so the list holds only the bench's merchants (Hanoi).
POINT = (21.028500, 105.854200)


def seed() -> dict[str, Any]:
    import django

    django.setup()
    import random
    from datetime import time
    from decimal import Decimal

    from merchants.models import MenuCategory, MenuItem, Merchant, OpeningHours, Option, OptionGroup
    from merchants.search import normalize

    tag = uuid.uuid4().hex[:8]
    rng = random.Random(7)
    merchants = []
    for n in range(60):
        merchants.append(
            Merchant.objects.create(
                name=f"Bún Bò {n} {tag}" if n % 3 == 0 else f"Cơm Tấm {n} {tag}",
                slug=f"bench-{tag}-{n}",
                address=f"{n} Hàng Bông, Hoàn Kiếm",
                lat=Decimal(f"{POINT[0] + rng.uniform(-0.025, 0.025):.6f}"),
                lng=Decimal(f"{POINT[1] + rng.uniform(-0.025, 0.025):.6f}"),
                cuisines=["noodles" if n % 3 == 0 else "rice"],
                price_level=1 + n % 3,
                rating_avg=Decimal(f"{rng.uniform(3.5, 5):.2f}"),
                rating_count=rng.randint(1, 500),
            )
        )
    OpeningHours.objects.bulk_create(
        OpeningHours(merchant=m, weekday=day, opens_at=time(0), closes_at=time(0))
        for m in merchants
        for day in range(7)
    )
    for merchant in merchants[1:]:
        for k, name in enumerate(("Bún bò Huế", "Cơm tấm sườn", "Trà đá")):
            MenuItem.objects.create(merchant=merchant, name=name, price_vnd=30_000 + 5_000 * k)
    big = merchants[0]
    categories = MenuCategory.objects.bulk_create(
        MenuCategory(merchant=big, name=f"Nhóm {c}", position=c) for c in range(5)
    )
    items = MenuItem.objects.bulk_create(
        MenuItem(
            merchant=big,
            category=categories[n % 5],
            name=f"Bún bò số {n}",
            search_text=normalize(f"Bún bò số {n}"),
            price_vnd=40_000 + 1_000 * n,
            position=n,
        )
        for n in range(50)
    )
    groups = OptionGroup.objects.bulk_create(
        [OptionGroup(item=item, name="Size", is_required=True, min_select=1, max_select=1) for item in items]
        + [OptionGroup(item=item, name="Topping", min_select=0, max_select=3, position=1) for item in items]
    )
    Option.objects.bulk_create(
        Option(group=group, name=name, price_delta_vnd=delta)
        for group in groups
        for name, delta in (
            (("Nhỏ", 0), ("Lớn", 10_000))
            if group.name == "Size"
            else (("Trứng", 5_000), ("Chả", 8_000), ("Bì", 5_000))
        )
    )
    return {"merchant_id": big.pk}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1, help="worker processes of each server")
    add_baseline_arguments(parser)
    args = parser.parse_args()
    for name in ("DATABASE_URL", "REDIS_URL"):
        if name not in os.environ:
            print(f"{name} must be set (a scratch database: the bench writes rows)", file=sys.stderr)
            return 2
    os.environ.update(SERVER_ENV)
    migrate()
    merchant_id = seed()["merchant_id"]
    near = {"lat": POINT[0], "lng": POINT[1], "radius_m": 5000}
    paths = {
        "merchant_page": f"/api/v1/merchants/{merchant_id}",
        "nearby": "/api/v1/merchants?" + urlencode(near),
        "nearby_search": "/api/v1/merchants?" + urlencode({**near, "q": "bun bo"}),
    }

    def plain_get(index: int, n: int) -> tuple[bytes | None, dict[str, str]]:
        return None, {"Accept": "application/json"}

    results: dict[str, list[dict[str, float]]] = {"raw_list": [], **{name: [] for name in paths}}
    raw_server = rawdrf_server(args.baseline, workers=args.workers, database=baseline_database(args))
    with raw_server as raw_port, uvicorn_server(workers=args.workers) as port:
        # Warm-up: connections, the merchant page's cache entry.
        load(raw_port, "/items", plain_get, 1.5, args.concurrency, method="GET")
        for path in paths.values():
            load(port, path, plain_get, 1.5, args.concurrency, method="GET")
        for _ in range(args.rounds):
            results["raw_list"].append(
                load(raw_port, "/items", plain_get, args.seconds, args.concurrency, method="GET")
            )
            for name, path in paths.items():
                results[name].append(
                    load(port, path, plain_get, args.seconds, args.concurrency, method="GET")
                )

    summary = {name: median_of(rows) for name, rows in results.items()}
    baseline = summary["raw_list"]["rps"]
    report = {
        "concurrency": args.concurrency,
        "workers": args.workers,
        "seconds_per_round": args.seconds,
        "rounds": args.rounds,
        **summary,
        "rps_share_of_baseline": {name: row["rps"] / baseline for name, row in summary.items()},
    }
    print(json.dumps(report, indent=2))
    shares = report["rps_share_of_baseline"]
    ok = shares["merchant_page"] >= 0.5 and shares["nearby"] >= 0.5
    ok = ok and all(row["errors"] == 0 for row in summary.values())
    print("GOAL MET" if ok else "GOAL NOT MET")
    return 0


if __name__ == "__main__":
    sys.exit(main())
