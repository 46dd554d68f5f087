"""The ops and merchant dashboards' figures against known data, access, and the order actions."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from drivers.models import DispatchRequest
from drivers.services import assign_by_ops
from merchants.models import MenuItem, Merchant
from ops import selectors
from orders.models import ActorRole, Order, OrderEvent, OrderStatus
from tests.drivers.conftest import make_driver
from tests.factories import UserFactory
from tests.ops.factories import make_order
from tests.orders.factories import make_menu, make_merchant, make_staff
from users.models import Role

pytestmark = pytest.mark.django_db

# Noon in Ho Chi Minh City: "today" and "the last hour" never straddle midnight.
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


@pytest.fixture
def city(db: None) -> dict[str, Any]:
    """Today at noon: 5 orders placed today (one yesterday), known outcomes.

    A: placed 11:10, delivered 11:40 (30 min), ETA 11:45 -> on time; 100 000
    B: placed 09:00, delivered 09:50 (50 min), ETA 09:40 -> late;    200 000
    C: placed 11:30, cancelled ("hết món");                            50 000
    D: placed 10:00, rejected ("quán đóng cửa");                       70 000
    E: placed 11:50, accepted 11:52, driver assigned 11:56 (4 min), still preparing; 80 000
    Y: placed yesterday, delivered yesterday;                          999 000
    """
    merchant = make_merchant()
    driver = UserFactory(roles=[Role.DRIVER])
    orders = {
        "A": make_order(merchant, total_vnd=100_000, created_at=ago(50), status=OrderStatus.DELIVERED,
                        delivered_at=ago(20), eta=ago(15), accepted_at=ago(49), ready_at=ago(35)),
        "B": make_order(merchant, total_vnd=200_000, created_at=ago(180), status=OrderStatus.DELIVERED,
                        delivered_at=ago(130), eta=ago(140), accepted_at=ago(178), ready_at=ago(160)),
        "C": make_order(merchant, total_vnd=50_000, created_at=ago(30), status=OrderStatus.CANCELLED,
                        status_reason="hết món", closed_at=ago(29)),
        "D": make_order(merchant, total_vnd=70_000, created_at=ago(120), status=OrderStatus.REJECTED,
                        status_reason="quán đóng cửa", closed_at=ago(118)),
        "E": make_order(merchant, total_vnd=80_000, created_at=ago(10), status=OrderStatus.PREPARING,
                        accepted_at=ago(8), driver=driver, eta=ago(-30)),
        "Y": make_order(merchant, total_vnd=999_000, created_at=ago(24 * 60), status=OrderStatus.DELIVERED,
                        delivered_at=ago(24 * 60 - 30), eta=ago(24 * 60 - 40)),
    }  # fmt: skip
    OrderEvent.objects.create(
        order=orders["E"], version=3, kind="driver_assigned", from_status="preparing", to_status="preparing",
        actor_role=ActorRole.SYSTEM,
    )  # fmt: skip
    OrderEvent.objects.filter(order=orders["E"]).update(created_at=ago(4))
    return {"merchant": merchant, "driver": driver, **orders}


def test_today_figures_match_the_data(city: dict[str, Any]) -> None:
    today, _ = selectors.today_and_last_hour(NOW)
    figures = selectors.order_figures(today)
    assert figures.orders == 5
    assert figures.gmv_vnd == 100_000 + 200_000 + 80_000
    assert figures.delivered == 2
    assert figures.mean_click_to_door_minutes == 40.0
    assert figures.on_time_share == 0.5
    assert figures.cancelled == 2
    assert figures.cancellation_rate == 0.4
    assert sorted(figures.cancellation_reasons) == [("hết món", 1), ("quán đóng cửa", 1)]
    assert figures.dispatched == 1
    assert figures.mean_dispatch_minutes == 4.0


def test_last_hour_figures_match_the_data(city: dict[str, Any]) -> None:
    _, last_hour = selectors.today_and_last_hour(NOW)
    figures = selectors.order_figures(last_hour)
    assert figures.orders == 3  # A, C, E
    assert figures.gmv_vnd == 180_000
    assert figures.delivered == 1
    assert figures.mean_click_to_door_minutes == 30.0
    assert figures.on_time_share == 1.0
    assert figures.cancellation_rate == pytest.approx(1 / 3)


def test_orders_per_quarter_hour_and_delivery_distribution(city: dict[str, Any]) -> None:
    today, _ = selectors.today_and_last_hour(NOW)
    slots = dict(selectors.orders_per_quarter_hour(today))
    assert len(slots) == 48  # 00:00 to 11:45
    by_time = {slot.strftime("%H:%M"): n for slot, n in slots.items()}
    assert by_time["11:00"] == 1 and by_time["11:30"] == 1 and by_time["11:45"] == 1
    assert by_time["09:00"] == 1 and by_time["10:00"] == 1
    assert sum(slots.values()) == 5
    bins = dict(selectors.delivery_time_distribution(today))
    assert bins["30-35"] == 1 and bins["50-55"] == 1
    assert sum(bins.values()) == 2


def test_unassigned_busy_late_and_stuck(city: dict[str, Any], settings: Any) -> None:
    merchant = city["merchant"]
    waiting = make_order(merchant, created_at=ago(20), status=OrderStatus.READY_FOR_PICKUP, eta=ago(5))
    assert list(selectors.unassigned_orders()) == [waiting]
    assert selectors.busy_driver_ids() == {city["driver"].pk}
    settings.OPS_STUCK_MINUTES = 15
    late_or_stuck = {order.pk: order for order in selectors.late_or_stuck_orders(NOW)}
    # `waiting` is past its ETA; E changed 10 minutes ago and is due in 30: neither late nor stuck.
    assert set(late_or_stuck) == {waiting.pk}
    assert late_or_stuck[waiting.pk].is_late and late_or_stuck[waiting.pk].is_stuck  # type: ignore[attr-defined]


@pytest.fixture
def ops_client(ops_user: Any) -> Client:
    client = Client()
    client.force_login(ops_user)
    return client


def test_ops_dashboard_renders_the_figures(
    city: dict[str, Any], ops_client: Client, monkeypatch: Any
) -> None:
    monkeypatch.setattr("ops.views.timezone.now", lambda: NOW)
    response = ops_client.get("/admin/ops/dashboard/")
    assert response.status_code == 200
    today, last_hour = (figures for _label, figures in response.context["windows"])
    assert today.orders == 5
    assert last_hour.orders == 3
    html = response.content.decode()
    assert 'data-figure="gmv"><th>Doanh số (GMV)</th><td>380.000 ₫</td><td>180.000 ₫</td>' in html
    assert "<svg" in html and "Đơn mỗi 15 phút" in html
    assert f'data-order-id="{city["E"].pk}"' in html  # the live board's first paint
    assert "/static/ops/live_board.js" in html


def test_ops_dashboard_queries_do_not_grow_with_the_orders(
    city: dict[str, Any], ops_client: Client, monkeypatch: Any
) -> None:
    """No query per order, merchant or driver: three times the orders, the same number of queries."""
    monkeypatch.setattr("ops.views.timezone.now", lambda: NOW)

    def render() -> tuple[int, Any]:
        with CaptureQueriesContext(connection) as queries:
            response = ops_client.get("/admin/ops/dashboard/")
        assert response.status_code == 200
        return len(queries), response

    before, _ = render()
    for minutes in (5, 15, 25, 35):
        driver = UserFactory(roles=[Role.DRIVER])
        make_order(make_merchant(), created_at=ago(minutes + 30), status=OrderStatus.PREPARING,
                   accepted_at=ago(minutes + 29), driver=driver, eta=ago(minutes))  # fmt: skip
        make_order(make_merchant(), created_at=ago(minutes + 40), status=OrderStatus.DELIVERED,
                   delivered_at=ago(minutes), eta=ago(minutes - 5))  # fmt: skip
    after, response = render()
    assert len(response.context["late_or_stuck"]) == 4  # the four late ones (E is due later)
    assert len(response.context["live_orders"]) == 5  # E and the four new active orders
    assert after == before


def test_ops_dashboard_is_for_ops_only(city: dict[str, Any]) -> None:
    staff = make_staff(city["merchant"])
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/ops/dashboard/").status_code == 403
    customer = UserFactory()
    client.force_login(customer)
    response = client.get("/admin/ops/dashboard/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_ops_cancel_with_refund_from_the_dashboard(
    city: dict[str, Any], ops_client: Client, ops_user: Any
) -> None:
    order = city["E"]
    response = ops_client.post(
        f"/admin/ops/orders/{order.pk}/action", {"action": "cancel", "reason": "khách hủy"}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and order.cancelled_by == ActorRole.OPS
    event = OrderEvent.objects.get(order=order, kind="cancelled")
    assert event.actor == ops_user and event.reason == "khách hủy"


def test_cancelling_a_delivered_order_is_refused_and_changes_nothing(
    city: dict[str, Any], ops_client: Client
) -> None:
    order = city["A"]
    response = ops_client.post(f"/admin/ops/orders/{order.pk}/action", {"action": "cancel"}, follow=True)
    shown = [str(message) for message in response.context["messages"]]
    assert len(shown) == 1 and shown[0].startswith(f"Đơn {order.pk}: ") and "Đã hủy" not in shown[0]
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED


def test_merchant_staff_cannot_act_on_orders(city: dict[str, Any]) -> None:
    staff = make_staff(city["merchant"])
    client = Client()
    client.force_login(staff)
    response = client.post(f"/admin/ops/orders/{city['E'].pk}/action", {"action": "cancel"})
    assert response.status_code == 403
    assert Order.objects.get(pk=city["E"].pk).status == OrderStatus.PREPARING


def test_merchant_dashboard_shows_only_the_staffs_merchant(monkeypatch: Any) -> None:
    now = timezone.now()
    menu = make_menu()
    merchant = menu.merchant
    Merchant.objects.filter(pk=merchant.pk).update(rating_avg="4.50", rating_count=12)
    MenuItem.objects.filter(pk=menu.tea.pk).update(is_available=False)
    ready = OrderStatus.READY_FOR_PICKUP
    for total, placed, prep in ((90_000, 3, 2), (60_000, 2, 2)):
        placed_at = now - timedelta(minutes=placed)
        make_order(merchant, total_vnd=total, created_at=placed_at, status=ready, accepted_at=placed_at,
                   ready_at=placed_at + timedelta(minutes=prep))  # fmt: skip
    other = make_merchant()
    make_order(other, total_vnd=55_000, created_at=now - timedelta(minutes=1))
    staff = make_staff(merchant)
    client = Client()
    client.force_login(staff)
    response = client.get("/admin/ops/merchant/")
    assert response.status_code == 200
    figures = response.context["figures"]
    assert response.context["merchant"] == merchant
    assert figures.orders_today == 2
    assert figures.gmv_today_vnd == 150_000
    assert figures.mean_prep_minutes == 2.0
    assert (figures.rating_avg, figures.rating_count) == (4.5, 12)
    assert figures.sold_out == ["Trà đá"]
    assert client.get(f"/admin/ops/merchant/?merchant={other.pk}").status_code == 404


def test_merchant_dashboard_refuses_staff_of_no_merchant() -> None:
    user = UserFactory(roles=[Role.MERCHANT_STAFF], is_staff=True)
    client = Client()
    client.force_login(user)
    assert client.get("/admin/ops/merchant/").status_code == 403


def test_ops_reassign_takes_the_order_back_and_gives_it_to_the_named_driver(
    pooled_order: Callable[..., Order], ops_client: Client
) -> None:
    order = pooled_order()
    first, second = make_driver(), make_driver()
    assign_by_ops(actor=UserFactory(roles=[Role.OPS]), order_id=order.pk, driver_id=first.pk)
    assert Order.objects.get(pk=order.pk).driver_id == first.pk

    response = ops_client.post(
        f"/admin/ops/orders/{order.pk}/action", {"action": "reassign", "driver_id": str(second.pk)}
    )
    assert response.status_code == 302
    assert Order.objects.get(pk=order.pk).driver_id == second.pk
    events = OrderEvent.objects.filter(order=order, kind__startswith="driver_").order_by("version")
    assert list(events.values_list("kind", flat=True)) == [
        "driver_assigned",
        "driver_unassigned",
        "driver_assigned",
    ]


def test_ops_reassign_without_a_driver_returns_the_order_to_the_pool(
    pooled_order: Callable[..., Order], ops_client: Client
) -> None:
    order = pooled_order()
    driver = make_driver()
    assign_by_ops(actor=UserFactory(roles=[Role.OPS]), order_id=order.pk, driver_id=driver.pk)
    ops_client.post(f"/admin/ops/orders/{order.pk}/action", {"action": "reassign"})
    assert Order.objects.get(pk=order.pk).driver_id is None
    assert DispatchRequest.objects.get(pk=order.pk).status == "waiting"


def test_dashboard_counts_online_and_busy_drivers(
    pooled_order: Callable[..., Order], ops_client: Client
) -> None:
    order = pooled_order()
    busy, _idle = make_driver(), make_driver()
    make_driver(online=False)
    assign_by_ops(actor=UserFactory(roles=[Role.OPS]), order_id=order.pk, driver_id=busy.pk)
    response = ops_client.get("/admin/ops/dashboard/")
    assert (response.context["drivers"].online, response.context["drivers"].busy) == (2, 1)
    rows = {row.user_id: row for row in response.context["driver_rows"]}
    assert rows[busy.pk].busy and rows[busy.pk].online and rows[busy.pk].last_seen is not None
    assert len(rows) == 3
