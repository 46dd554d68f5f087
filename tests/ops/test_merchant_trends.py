"""The merchant dashboard's 30-day charts: the figures PostgreSQL aggregates match the orders seeded,
days are Ho Chi Minh City's, one query per chart, and the page draws them."""

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from merchants.models import Merchant
from ops.trends import DayMean, DaySales, merchant_trends
from orders.models import Order, OrderLine, OrderStatus, PaymentStatus, Rating
from tests.factories import UserFactory
from tests.ops.factories import make_order
from tests.orders.factories import make_merchant, make_staff
from users.models import Role

pytestmark = pytest.mark.django_db

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=HCM)
DELIVERED, CANCELLED, REJECTED = OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.REJECTED


def at(day: str, hh_mm: str) -> datetime:
    return datetime.fromisoformat(f"2026-{day}T{hh_mm}").replace(tzinfo=HCM)


def lines(order: Order, *dishes: tuple[int, str]) -> Order:
    for quantity, name in dishes:
        OrderLine.objects.create(
            order=order, name=name, base_price_vnd=10_000, unit_price_vnd=10_000, quantity=quantity,
            line_total_vnd=10_000 * quantity,
        )  # fmt: skip
    return order


def rate(order: Order, stars: int, when: datetime) -> None:
    rating = Rating.objects.create(
        order=order, customer=order.customer, merchant=order.merchant, merchant_stars=stars
    )
    Rating.objects.filter(pk=rating.pk).update(created_at=when)


@pytest.fixture
def shop() -> Merchant:
    """The last 30 days are 09/02 .. 10/03 (Ho Chi Minh City days):

    10/03 10:00 delivered 100 000, 2 phở + 1 trà, prep 10 min, rated 5 (10/03 11:00)
    09/03 23:30 delivered  50 000, 1 phở, prep 20 min, rated 3 at 10/03 00:20 (a 10/03 rating)
    10/03 00:30 cancelled  70 000 "hết món", 3 bún chả (16:30 and 17:30 UTC on 09/03: local days differ)
    10/03 09:00 rejected   40 000 "quán đóng cửa"
    08/03 12:00 cancelled  30 000 "hết món"
    09/02 00:10 delivered  20 000, 1 cơm tấm, prep 15 min, rated 2 (09/02 20:00)
    and, counting nowhere: 08/02 (before the window), an unpaid e-wallet order, another merchant's.
    """
    merchant, other = make_merchant(), make_merchant()
    today = make_order(merchant, total_vnd=100_000, created_at=at("03-10", "10:00"), status=DELIVERED,
                       accepted_at=at("03-10", "10:01"), ready_at=at("03-10", "10:11"))  # fmt: skip
    rate(lines(today, (2, "Phở bò"), (1, "Trà đá")), 5, at("03-10", "11:00"))
    late_night = make_order(merchant, total_vnd=50_000, created_at=at("03-09", "23:30"), status=DELIVERED,
                            accepted_at=at("03-09", "23:31"), ready_at=at("03-09", "23:51"))  # fmt: skip
    rate(lines(late_night, (1, "Phở bò")), 3, at("03-10", "00:20"))
    lines(
        make_order(merchant, total_vnd=70_000, created_at=at("03-10", "00:30"), status=CANCELLED,
                   status_reason="hết món"),
        (3, "Bún chả"),
    )  # fmt: skip
    make_order(merchant, total_vnd=40_000, created_at=at("03-10", "09:00"), status=REJECTED,
               status_reason="quán đóng cửa")  # fmt: skip
    make_order(merchant, total_vnd=30_000, created_at=at("03-08", "12:00"), status=CANCELLED,
               status_reason="hết món")  # fmt: skip
    first_day = make_order(merchant, total_vnd=20_000, created_at=at("02-09", "00:10"), status=DELIVERED,
                           accepted_at=at("02-09", "00:10"), ready_at=at("02-09", "00:25"))  # fmt: skip
    rate(lines(first_day, (1, "Cơm tấm")), 2, at("02-09", "20:00"))
    before = make_order(merchant, total_vnd=999_000, created_at=at("02-08", "23:50"), status=DELIVERED,
                        accepted_at=at("02-08", "23:50"), ready_at=at("02-08", "23:55"))  # fmt: skip
    rate(lines(before, (9, "Phở bò")), 1, at("02-08", "23:58"))
    lines(
        make_order(merchant, total_vnd=500_000, created_at=at("03-10", "11:00"),
                   payment_status=PaymentStatus.PENDING),
        (5, "Phở bò"),
    )  # fmt: skip
    lines(
        make_order(other, total_vnd=300_000, created_at=at("03-10", "11:00"), status=DELIVERED), (4, "Phở bò")
    )
    return merchant


def test_the_30_day_figures_match_the_orders(shop: Merchant) -> None:
    with CaptureQueriesContext(connection) as queries:
        trends = merchant_trends(shop, NOW)
    assert len(queries) == 5  # one per chart (sales and orders share theirs)

    assert (trends.days[0], trends.days[-1], len(trends.days)) == (date(2026, 2, 9), date(2026, 3, 10), 30)
    busy = [row for row in trends.sales if row.orders]
    assert busy == [
        DaySales(date(2026, 2, 9), 1, 20_000),
        DaySales(date(2026, 3, 8), 1, 0),
        DaySales(date(2026, 3, 9), 1, 50_000),
        DaySales(date(2026, 3, 10), 3, 100_000),
    ]
    assert trends.top_dishes == [("Phở bò", 3), ("Cơm tấm", 1), ("Trà đá", 1)]
    assert trends.cancellation_reasons == [("hết món", 2), ("quán đóng cửa", 1)]
    assert [row for row in trends.prep_minutes if row.count] == [
        DayMean(date(2026, 2, 9), 15.0, 1),
        DayMean(date(2026, 3, 9), 20.0, 1),
        DayMean(date(2026, 3, 10), 10.0, 1),
    ]
    assert trends.mean_prep_minutes == 15.0
    assert [row for row in trends.ratings if row.count] == [
        DayMean(date(2026, 2, 9), 2.0, 1),
        DayMean(date(2026, 3, 10), 4.0, 2),
    ]
    assert trends.mean_stars == 3.3


def test_a_merchant_without_orders_gets_empty_charts() -> None:
    trends = merchant_trends(make_merchant(), NOW)
    assert [row.orders for row in trends.sales] == [0] * 30
    assert trends.top_dishes == [] and trends.cancellation_reasons == []
    assert trends.mean_prep_minutes is None and trends.mean_stars is None


def bars(html: str, figure: str) -> dict[str, str]:
    """{label: value} of the bars in the dashboard's `<figure id=figure>`."""
    section = html.split(f'id="{figure}"', 1)[1].split("</figure>", 1)[0]
    return dict(re.findall(r'data-label="([^"]*)" data-value="([^"]*)"', section))


@pytest.mark.parametrize("role", ["staff", "ops"])
def test_the_dashboard_draws_the_charts_from_those_figures(
    shop: Merchant, monkeypatch: Any, role: str
) -> None:
    monkeypatch.setattr("ops.trends.timezone.now", lambda: NOW)
    user = make_staff(shop) if role == "staff" else UserFactory(roles=[Role.OPS], is_staff=True)
    client = Client()
    client.force_login(user)
    html = client.get("/admin/ops/merchant/", {"merchant": shop.pk}).content.decode()

    sales = bars(html, "chart-sales")
    assert len(sales) == 30
    assert (sales["10/03"], sales["09/03"], sales["08/03"], sales["09/02"]) == (
        "100000",
        "50000",
        "0",
        "20000",
    )
    assert bars(html, "chart-orders")["10/03"] == "3"
    assert bars(html, "chart-dishes") == {"Phở bò": "3", "Cơm tấm": "1", "Trà đá": "1"}
    assert bars(html, "chart-reasons") == {"hết món": "2", "quán đóng cửa": "1"}
    assert bars(html, "chart-prep")["09/03"] == "20.0"
    assert bars(html, "chart-ratings")["10/03"] == "4.0"
    mean_prep = html.split('data-figure="mean_prep_30d">', 1)[1]
    assert mean_prep.startswith(("15.0 ", "15,0 "))  # the reader's locale writes the decimal
