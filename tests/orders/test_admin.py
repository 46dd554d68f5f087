"""The orders admin, through its own pages: ops filter, search and steer every order; merchant staff see
only their own merchant's orders, whatever they type in the URL."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from orders import services
from orders.models import ActorRole, Order, OrderStatus
from tests.factories import UserFactory
from tests.orders.conftest import client_for
from tests.orders.factories import Menu, cart_body, make_menu, make_staff
from users.models import Role

pytestmark = pytest.mark.django_db

LIST = "/admin/orders/order/"


def browser_for(user: Any) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def ops_browser() -> Client:
    return browser_for(UserFactory(roles=[Role.OPS], is_staff=True))


@pytest.fixture
def two_merchants_orders(place: Callable[..., Any], menu: Menu) -> tuple[Order, Order, Order]:
    """Two orders of `menu`'s merchant (one cancelled) and one of another merchant by another customer."""
    mine = Order.objects.get(pk=place().json()["id"])
    cancelled = Order.objects.get(pk=place().json()["id"])
    services.cancel_order(order_id=cancelled.pk, actor=None, by=ActorRole.CUSTOMER)
    other_menu = make_menu()
    foreign_id = (
        client_for(UserFactory())
        .post("/api/v1/orders", cart_body(other_menu), format="json", HTTP_IDEMPOTENCY_KEY="f")
        .json()["id"]
    )
    return mine, Order.objects.get(pk=cancelled.pk), Order.objects.get(pk=foreign_id)


def codes_on(page: Any) -> set[str]:
    """The orders the admin's change list shows (its own result list, not the search box's echo)."""
    assert page.status_code == 200
    return {order.code for order in page.context["cl"].result_list}


def test_ops_filter_orders_by_status_merchant_and_date(
    ops_browser: Client, two_merchants_orders: tuple[Order, Order, Order]
) -> None:
    mine, cancelled, foreign = two_merchants_orders
    Order.objects.filter(pk=foreign.pk).update(created_at=timezone.now() - timedelta(days=3))
    today = timezone.localdate()

    by_status = ops_browser.get(LIST, {"status__exact": OrderStatus.CANCELLED})
    by_merchant = ops_browser.get(LIST, {"merchant__id__exact": foreign.merchant_id})
    by_date = ops_browser.get(
        LIST, {"created_at__year": today.year, "created_at__month": today.month, "created_at__day": today.day}
    )

    assert codes_on(by_status) == {cancelled.code}
    assert codes_on(by_merchant) == {foreign.code}
    assert codes_on(by_date) == {mine.code, cancelled.code}


def test_ops_search_by_order_code_or_customer_phone(
    ops_browser: Client, two_merchants_orders: tuple[Order, Order, Order]
) -> None:
    mine, cancelled, foreign = two_merchants_orders

    by_code = ops_browser.get(LIST, {"q": mine.code})
    by_phone = ops_browser.get(LIST, {"q": foreign.customer_phone})

    assert codes_on(by_code) == {mine.code}
    assert codes_on(by_phone) == {foreign.code}


def test_ops_see_the_timeline_lines_and_ledger_inline(ops_browser: Client, placed_order: Order) -> None:
    services.accept_order(order_id=placed_order.pk, actor=None, prep_minutes=7)

    page = ops_browser.get(f"{LIST}{placed_order.pk}/change/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "diễn biến" in html.lower()  # the timeline, in the admin's Vietnamese
    assert "accepted" in html and "placed" in html
    assert "Phở bò" in html


def test_merchant_staff_see_only_their_merchants_orders_in_every_admin_page(
    two_merchants_orders: tuple[Order, Order, Order], menu: Menu
) -> None:
    mine, cancelled, foreign = two_merchants_orders
    staff = browser_for(make_staff(menu.merchant))

    listing = staff.get(LIST)
    searched = staff.get(LIST, {"q": foreign.code})
    filtered = staff.get(LIST, {"merchant__id__exact": foreign.merchant_id})
    own_detail = staff.get(f"{LIST}{mine.pk}/change/")
    foreign_detail = staff.get(f"{LIST}{foreign.pk}/change/")

    assert codes_on(listing) == {mine.code, cancelled.code}
    assert codes_on(searched) == set()
    assert foreign.merchant.name not in filtered.content.decode()  # no filter offers another merchant
    assert foreign.code not in {order.code for order in filtered.context["cl"].queryset}
    assert own_detail.status_code == 200
    assert foreign_detail.status_code in (302, 404)
    assert foreign.code not in foreign_detail.content.decode()


def test_merchant_staff_cannot_run_ops_actions_or_edit_orders(placed_order: Order, menu: Menu) -> None:
    staff = browser_for(make_staff(menu.merchant))

    staff.post(LIST, {"action": "cancel_with_refund", "_selected_action": [placed_order.pk]})
    edit = staff.post(f"{LIST}{placed_order.pk}/change/", {"status": "delivered", "total_vnd": 1})

    placed_order.refresh_from_db()
    assert placed_order.status == OrderStatus.PLACED
    assert placed_order.total_vnd == 103000
    assert edit.status_code in (302, 403)


def test_staff_of_no_merchant_and_customers_get_no_orders_admin(placed_order: Order) -> None:
    staff_without_merchant = browser_for(UserFactory(roles=[Role.MERCHANT_STAFF], is_staff=True))
    customer = browser_for(UserFactory(is_staff=True))

    assert placed_order.code not in staff_without_merchant.get(LIST).content.decode()
    assert customer.get(LIST).status_code in (302, 403)


def test_ops_cancel_action_refuses_what_cannot_be_cancelled(ops_browser: Client, placed_order: Order) -> None:
    driver = UserFactory(roles=[Role.DRIVER])
    services.assign_driver(order_id=placed_order.pk, driver=driver)
    services.accept_order(order_id=placed_order.pk, actor=None, prep_minutes=5)
    services.mark_picked_up(order_id=placed_order.pk, driver=driver)

    response = ops_browser.post(
        LIST, {"action": "cancel_with_refund", "_selected_action": [placed_order.pk]}, follow=True
    )

    placed_order.refresh_from_db()
    assert placed_order.status == OrderStatus.PICKED_UP
    assert placed_order.code in response.content.decode()  # the warning names the order
