"""The read paths in process: each one's SQL timed (median of N) and its query plans, in whatever
city the database holds (the 53-merchant demo of `seed_demo`, or the city of `seed_city`).

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/read_paths.py --label demo [--n 200] [--plans FILE]

Times, without HTTP: the nearby list (open now, by distance, 20 rows) and the search `bun bo hue`
straight from the database (the list cache bypassed), the merchant page warm from Redis and cold from
the database, and the order list (first page and a page deep in the history) and an order detail of
the customer with the most orders. Prints one JSON object of medians in milliseconds; with
`--plans`, writes `EXPLAIN (ANALYZE, BUFFERS)` of every statement each path sends.
"""

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loship.settings")
os.environ.setdefault("SECRET_KEY", "bench")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from merchants.catalog import NearbyQuery, build_page, merchant_page_json, nearby_merchants  # noqa: E402
from orders.models import Order  # noqa: E402
from orders.selectors import order_detail_queryset, orders_for_customer  # noqa: E402
from users.models import User  # noqa: E402

#: Quận 1, the densest part of the city.
POINT = (10.7769, 106.7009)
PAGE = 20


def median_ms(read: Callable[[], object], n: int) -> float:
    read()  # warm: connection, caches, the planner's statistics
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        read()
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 3)


def explain(read: Callable[[], object]) -> list[str]:
    """`EXPLAIN (ANALYZE, BUFFERS)` of every statement `read` sends, each after its SQL."""
    with CaptureQueriesContext(connection) as captured:
        read()
    plans = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}")
            plans.append(query["sql"] + "\n\n" + "\n".join(row[0] for row in cursor.fetchall()))
    return plans


def summary(plan: str) -> dict[str, Any]:
    """A plan's execution and planning time and its root node's buffers."""
    lines = plan.split("\n\n", 1)[1].splitlines()
    found: dict[str, Any] = {"root": lines[0].split("  (")[0].strip()}
    for line in lines:
        if line.startswith(("Execution Time", "Planning Time")):
            found[line.split(":")[0].lower().replace(" ", "_") + "_ms"] = float(line.split()[2])
        elif "buffers" not in found and line.strip().startswith("Buffers:"):
            found["buffers"] = line.strip().removeprefix("Buffers: ")
    return found


def read_paths() -> dict[str, Callable[[], object]]:
    nearby = NearbyQuery(lat=POINT[0], lng=POINT[1], radius_m=5_000, open_now=True)
    search = NearbyQuery(lat=POINT[0], lng=POINT[1], radius_m=5_000, q="bun bo hue")

    heavy = User.objects.annotate(n=Count("orders")).order_by("-n").first()
    assert heavy is not None, "no orders: seed the demo or the city first"
    orders = orders_for_customer(heavy).select_related("merchant").order_by("-created_at")
    middle = orders[orders.count() // 2]
    merchant_id = nearby_merchants(nearby, limit=1).rows[0]["id"]

    return {
        "nearby": lambda: nearby_merchants(nearby, limit=PAGE),
        "search": lambda: nearby_merchants(search, limit=PAGE),
        "merchant_page_warm": lambda: merchant_page_json(merchant_id),
        "merchant_page_cold": lambda: build_page(merchant_id),
        "order_list_first": lambda: list(orders[: PAGE + 1]),
        "order_list_deep": lambda: list(orders.filter(created_at__lt=middle.created_at)[: PAGE + 1]),
        "order_detail": lambda: order_detail_queryset().get(pk=middle.pk, customer=heavy),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--label", default="")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--plans", type=Path)
    args = parser.parse_args()
    paths = read_paths()
    result: dict[str, Any] = {"label": args.label}
    with connection.cursor() as cursor:
        for table in ("merchants_merchant", "merchants_menuitem", "orders_order"):
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed names
            result[table] = cursor.fetchone()[0]
    result["median_ms"] = {name: median_ms(read, args.n) for name, read in paths.items()}
    result["orders_of_heaviest_customer"] = (
        Order.objects.values("customer_id").annotate(n=Count("id")).order_by("-n")[0]["n"]
    )
    if args.plans:
        plans = {name: explain(read) for name, read in paths.items()}
        result["plans"] = {name: [summary(plan) for plan in found] for name, found in plans.items()}
        sections = [f"## {name}\n\n" + "\n\n".join(found) for name, found in plans.items()]
        args.plans.write_text(f"# {args.label}\n\n" + "\n\n".join(sections) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
