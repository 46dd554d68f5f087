"""`manage.py seed_city` on a tiny scale: the same shape as the full city, refused twice, replaced
with --reset, and listed by the catalog like any other merchants."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count

from merchants.catalog import NearbyQuery, nearby_merchants
from merchants.models import MenuItem, Merchant, OpeningHours, Option
from merchants.search import normalize
from ops.management.commands.seed_city import CENTRE, HEAVY_CUSTOMER_ORDERS, HEAVY_CUSTOMER_PHONE
from orders.models import Order, OrderEvent, OrderLine, OrderStatus
from users.models import User

pytestmark = pytest.mark.django_db

SIZES = {"merchants": 40, "dishes": 600, "orders": 800, "customers": 6}


def seed(**options: object) -> str:
    out = StringIO()
    call_command("seed_city", stdout=out, **SIZES, **options)
    return out.getvalue()


def test_a_tiny_city_has_the_shape_of_the_full_one() -> None:
    assert "city seeded" in seed()
    assert Merchant.objects.filter(slug__startswith="city-").count() == 40
    assert MenuItem.objects.count() == 600
    assert OpeningHours.objects.count() >= 40 * 7
    assert Option.objects.exists()
    item = MenuItem.objects.order_by("?").first()
    assert item is not None and item.search_text == normalize(item.name)
    merchant = Merchant.objects.order_by("?").first()
    assert merchant is not None and merchant.search_text == normalize(
        " ".join([merchant.name, *merchant.cuisines])
    )

    assert Order.objects.count() == 800
    assert Order.objects.exclude(status=OrderStatus.DELIVERED).count() == 0
    heavy = User.objects.get(phone=HEAVY_CUSTOMER_PHONE)
    assert heavy.orders.count() == HEAVY_CUSTOMER_ORDERS
    assert not Order.objects.annotate(n=Count("lines")).filter(n=0).exists()
    assert OrderEvent.objects.count() == 2 * 800
    for order in Order.objects.order_by("?")[:20]:
        lines = OrderLine.objects.filter(order=order)
        assert order.subtotal_vnd == sum(line.line_total_vnd for line in lines)
        assert {line.menu_item.merchant_id for line in lines} == {order.merchant_id}  # type: ignore[union-attr]

    # The schedule columns came through the triggers, so the catalog lists the city at once.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM merchants_merchant WHERE open_spans = '{}'")
        assert cursor.fetchone()[0] == 0
    page = nearby_merchants(NearbyQuery(lat=CENTRE[0], lng=CENTRE[1], radius_m=30_000), limit=100)
    assert page.total == 40


def test_a_second_run_is_refused_and_reset_replaces_the_city() -> None:
    seed()
    with pytest.raises(CommandError, match="--reset"):
        seed()
    seed(reset=True)
    assert Merchant.objects.count() == 40
    assert Order.objects.count() == 800
    assert User.objects.filter(phone=HEAVY_CUSTOMER_PHONE).count() == 1
