"""The in-process cost of one placement: `place_order` called in a loop on one persistent connection.

    DATABASE_URL=... REDIS_URL=... SECRET_KEY=... python bench/relay_placement.py [--orders 300]

Seeds a merchant with the test menu and a customer, places `--orders` cash orders (two lines with
options, a fresh idempotency key each) after a warm-up, and prints the median and p90 wall time of one
call and the SQL statements one placement sends. Nothing else runs: no relay process, no worker (the
events stay in the outbox), so the figure is what the request itself pays.
"""

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loship.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.harness import percentile  # noqa: E402
from orders.services.placement import Cart, CartLine, place_order  # noqa: E402
from tests.factories import UserFactory  # noqa: E402
from tests.orders.factories import NEAR_LAT, NEAR_LNG, make_menu, make_merchant  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args()
    menu = make_menu(make_merchant(slug=f"relay-bench-{uuid.uuid4().hex[:8]}"))
    customer = UserFactory(phone=f"+8491{uuid.uuid4().int % 10**7:07d}")
    cart = Cart(
        merchant_id=menu.merchant.pk,
        lines=(
            CartLine(item_id=menu.pho.pk, quantity=1, option_ids=(menu.size_large.pk, menu.egg.pk)),
            CartLine(item_id=menu.tea.pk, quantity=2),
        ),
        delivery_lat=NEAR_LAT,
        delivery_lng=NEAR_LNG,
        delivery_address="20 Hai Bà Trưng, Quận 1",
    )

    def place() -> None:
        place_order(customer=customer, cart=cart, idempotency_key=uuid.uuid4().hex, body_hash="bench")

    for _ in range(args.warmup):
        place()
    with CaptureQueriesContext(connection) as capture:
        place()
    seconds = []
    for _ in range(args.orders):
        started = time.perf_counter()
        place()
        seconds.append(time.perf_counter() - started)
    sent = [q["sql"].split(None, 1)[0] for q in capture.captured_queries]
    print(f"statements of one placement: {len(sent)} ({', '.join(sent)})")
    print(
        f"place_order over {args.orders} calls: median {statistics.median(seconds) * 1000:.2f} ms, "
        f"p90 {percentile(seconds, 0.9) * 1000:.2f} ms, mean {statistics.fmean(seconds) * 1000:.2f} ms"
    )


if __name__ == "__main__":
    main()
