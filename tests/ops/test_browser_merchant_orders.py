"""Headless Chromium against a real uvicorn and the outbox relay: the incoming orders page receives a
new order over the merchant stream without a reload, merchant staff accept it from the page, ops watch
it change, and the merchant dashboard draws its charts."""

from itertools import count
from typing import Any

import httpx
import pytest
from rest_framework_simplejwt.tokens import RefreshToken
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from orders.models import Order, OrderEvent, OrderStatus
from orders.services.placement import Cart, CartLine, place_order
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.ops.browser import admin_login, chromium, screenshot, text_of, wait_out_local_midnight
from tests.orders.factories import NEAR_LAT, NEAR_LNG, Menu, make_menu, make_staff
from tests.processes import LiveServer
from users.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

_keys = count(1)


@pytest.fixture
def server(asgi_server_factory: Any) -> LiveServer:
    # DEBUG: the admin's session and CSRF cookies are not `Secure`, as this server speaks plain HTTP.
    return asgi_server_factory(env={"DEBUG": "1"})


@pytest.fixture
def shop(transactional_db: None) -> dict[str, Any]:
    wait_out_local_midnight()
    menu = make_menu()
    return {
        "menu": menu,
        "staff": make_staff(menu.merchant),
        "ops": UserFactory(roles=[Role.OPS], is_staff=True),
    }


def place(menu: Menu) -> Order:
    """A customer's cash order, through the placement service (as the API would)."""
    cart = Cart(
        merchant_id=menu.merchant.pk,
        lines=(CartLine(item_id=menu.pho.pk, quantity=2, option_ids=(menu.size_small.pk,)),),
        delivery_lat=NEAR_LAT,
        delivery_lng=NEAR_LNG,
        delivery_address="20 Hai Bà Trưng, Quận 1",
    )
    key = f"browser-incoming-{next(_keys)}"
    return place_order(customer=UserFactory(), cart=cart, idempotency_key=key, body_hash=key).order


def row_css(order: Order) -> str:
    return f'#incoming-rows tr[data-order-id="{order.pk}"]'


def open_live(browser: WebDriver, server: LiveServer, user: Any, path: str) -> None:
    admin_login(browser, server.url, phone=user.phone, password=DEFAULT_PASSWORD, next_path=path)
    WebDriverWait(browser, 20).until(
        lambda d: "live-on" in str(d.find_element(By.ID, "live-status").get_attribute("class"))
    )


def wait_for_status(browser: WebDriver, order: Order, status: str) -> None:
    # The page redraws its rows on every event: a row found may be replaced before it is read.
    WebDriverWait(browser, 30, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda d: any(
            row.get_attribute("data-status") == status
            for row in d.find_elements(By.CSS_SELECTOR, row_css(order))
        )
    )


def test_staff_see_a_new_order_arrive_and_accept_it_from_the_page(
    server: LiveServer, relay_process: Any, shop: dict[str, Any]
) -> None:
    menu, staff = shop["menu"], shop["staff"]
    path = "/admin/ops/merchant/orders/"
    with chromium() as browser:
        open_live(browser, server, staff, path)
        assert text_of(browser, "#merchant-name") == menu.merchant.name
        assert browser.find_elements(By.CSS_SELECTOR, "#incoming-rows tr.empty")

        order = place(menu)
        wait_for_status(browser, order, "placed")
        row = browser.find_element(By.CSS_SELECTOR, row_css(order))
        assert "is-new" in str(row.get_attribute("class"))
        assert browser.find_element(By.ID, "merchant-orders").get_attribute("data-rings") == "1"
        assert order.code in row.text and "2× Phở bò" in row.text
        screenshot(browser, "merchant-orders-new-order")

        minutes = row.find_element(By.CSS_SELECTOR, 'input[name="prep_minutes"]')
        minutes.clear()
        minutes.send_keys("15")
        row.find_element(By.CSS_SELECTOR, "button.accept").click()
        wait_for_status(browser, order, "accepted")
        order.refresh_from_db()
        assert (order.status, order.prep_minutes) == (OrderStatus.ACCEPTED, 15)
        accepted = OrderEvent.objects.get(order=order, kind=OrderStatus.ACCEPTED)
        assert (accepted.actor_id, accepted.actor_role) == (staff.pk, "merchant")
        ready = browser.find_element(By.CSS_SELECTOR, f"{row_css(order)} button.ready")
        screenshot(browser, "merchant-orders-accepted")

        ready.click()
        wait_for_status(browser, order, "ready_for_pickup")
        browser.refresh()  # a reload shows the same state
        wait_for_status(browser, order, "ready_for_pickup")
        assert not browser.find_elements(By.CSS_SELECTOR, f"{row_css(order)} form.answer-form")

        browser.get(f"{server.url}/admin/ops/merchant/")
        charts = browser.find_elements(By.CSS_SELECTOR, "#merchant-trends svg.ops-chart")
        assert len(charts) >= 4
        today_orders = browser.find_elements(By.CSS_SELECTOR, "#chart-orders rect.bar")[-1]
        assert today_orders.get_attribute("data-value") == "1"
        assert (
            browser.find_element(
                By.CSS_SELECTOR, '#chart-dishes rect.bar[data-label="Phở bò"]'
            ).get_attribute("data-value")
            == "2"
        )
        screenshot(browser, "merchant-dashboard-charts")


def test_ops_watch_a_merchants_orders_live_and_see_the_dashboard(
    server: LiveServer, relay_process: Any, shop: dict[str, Any]
) -> None:
    menu, staff = shop["menu"], shop["staff"]
    with chromium() as browser:
        open_live(browser, server, shop["ops"], f"/admin/ops/merchant/orders/?merchant={menu.merchant.pk}")
        assert browser.find_elements(By.ID, "watch-only")

        order = place(menu)
        wait_for_status(browser, order, "placed")
        assert not browser.find_elements(By.CSS_SELECTOR, f"{row_css(order)} form.answer-form")
        screenshot(browser, "merchant-orders-ops-new-order")

        # The merchant answers on the tablet; the page ops watch follows.
        response = httpx.post(
            f"{server.url}/api/v1/merchant/orders/{order.pk}/accept",
            json={"prep_minutes": 10},
            headers={"Authorization": f"Bearer {RefreshToken.for_user(staff).access_token}"},
            timeout=20,
        )
        assert response.status_code == 200, response.text
        wait_for_status(browser, order, "accepted")
        screenshot(browser, "merchant-orders-ops-accepted")

        browser.get(f"{server.url}/admin/ops/merchant/?merchant={menu.merchant.pk}")
        assert text_of(browser, "#merchant-name") == menu.merchant.name
        assert (
            browser.find_elements(By.CSS_SELECTOR, "#chart-sales rect.bar")[-1].get_attribute("data-value")
            != "0"
        )
        screenshot(browser, "merchant-dashboard-charts-ops")
