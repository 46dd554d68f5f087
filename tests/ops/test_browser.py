"""Headless Chromium against a real uvicorn and Celery worker: ops and merchant staff log into the admin,
the dashboards show the figures of the data, and the live board changes when an order is placed."""

from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from merchants.models import MenuItem, Merchant
from ops.services import check_headroom, record_capacity
from orders.models import OrderStatus
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.ops.browser import admin_login, chromium, screenshot, text_of, wait_out_local_midnight
from tests.ops.factories import make_order
from tests.orders.factories import cart_body, make_menu, make_staff
from tests.processes import LiveServer
from users.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture
def server(asgi_server_factory: Any) -> LiveServer:
    # DEBUG: the admin's session and CSRF cookies are not `Secure`, as this server speaks plain HTTP.
    return asgi_server_factory(env={"DEBUG": "1", "METRICS_PUBLISH_SECONDS": "1"})


@pytest.fixture
def city(transactional_db: None) -> dict[str, Any]:
    """Placed in the last minutes (so "today" holds them): two delivered orders (2 minutes
    click-to-door each, both on time), one cancelled; merchant rated 4.2; tea sold out."""
    wait_out_local_midnight()
    now = timezone.now()
    menu = make_menu()
    merchant = menu.merchant
    Merchant.objects.filter(pk=merchant.pk).update(rating_avg="4.20", rating_count=5)
    MenuItem.objects.filter(pk=menu.tea.pk).update(is_available=False)
    for total, placed in ((100_000, 4), (60_000, 3)):
        at = [now - timedelta(minutes=placed - step) for step in range(4)]
        make_order(
            merchant,
            total_vnd=total,
            created_at=at[0],
            status=OrderStatus.DELIVERED,
            accepted_at=at[0],
            ready_at=at[1],
            delivered_at=at[2],
            eta=at[3],
        )
    make_order(
        merchant,
        total_vnd=40_000,
        created_at=now - timedelta(minutes=2),
        status=OrderStatus.CANCELLED,
        status_reason="hết món",
        closed_at=now - timedelta(minutes=1),
    )
    ops = UserFactory(roles=[Role.OPS], is_staff=True)
    return {"menu": menu, "merchant": merchant, "ops": ops, "staff": make_staff(merchant)}


def test_ops_dashboard_figures_and_live_board(
    server: LiveServer, celery_worker: Any, city: dict[str, Any]
) -> None:
    with chromium() as browser:
        admin_login(
            browser,
            server.url,
            phone=city["ops"].phone,
            password=DEFAULT_PASSWORD,
            next_path="/admin/ops/dashboard/",
        )
        assert text_of(browser, '#figures tr[data-figure="orders"] td') == "3"
        gmv = text_of(browser, '#figures tr[data-figure="gmv"] td')
        assert gmv == "160.000 ₫"
        assert text_of(browser, '#figures tr[data-figure="on_time"] td') == "100%"
        assert "hết món: 1" in text_of(browser, "#cancellation-reasons")
        assert browser.find_elements(By.CSS_SELECTOR, "svg.ops-chart rect.bar")
        # The ops user reads the admin in Vietnamese (the account's language).
        WebDriverWait(browser, 20).until(lambda d: text_of(d, "#live-status") == "trực tiếp")
        screenshot(browser, "ops-dashboard")

        customer, menu = UserFactory(), city["menu"]
        token = RefreshToken.for_user(customer).access_token
        response = httpx.post(
            f"{server.url}/api/v1/orders",
            json=cart_body(
                menu, lines=[{"item_id": menu.pho.pk, "quantity": 1, "option_ids": [menu.size_small.pk]}]
            ),
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "browser-live-board-1"},
            timeout=20,
        )
        assert response.status_code == 201, response.text
        order = response.json()
        row = f'#live-board tr[data-order-id="{order["id"]}"]'
        WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, row))
        assert text_of(browser, f"{row} .status") == "placed"
        assert order["code"] in text_of(browser, row)
        screenshot(browser, "ops-dashboard-live-order")

        # Load passes 40% of a (tiny) measured limit: the alert reaches the open page as a banner.
        record_capacity(
            figure="orders_per_minute", limit=1, source="test", basis="test", measured_at=timezone.now()
        )
        check_headroom()
        banner = '#headroom-banner p[data-figure="orders_per_minute"]'
        WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, banner))
        assert "hidden" not in str(browser.find_element(By.ID, "headroom-banner").get_attribute("class"))
        assert "Cảnh báo tải" in text_of(browser, banner)
        screenshot(browser, "ops-dashboard-alert-banner")


def test_merchant_staff_see_their_dashboard_and_not_the_ops_one(
    server: LiveServer, city: dict[str, Any]
) -> None:
    with chromium() as browser:
        admin_login(
            browser,
            server.url,
            phone=city["staff"].phone,
            password=DEFAULT_PASSWORD,
            next_path="/admin/ops/merchant/",
        )
        assert text_of(browser, "#merchant-name") == city["merchant"].name
        assert text_of(browser, '#merchant-figures tr[data-figure="orders_today"] td') == "3"
        assert text_of(browser, '#merchant-figures tr[data-figure="mean_prep"] td') in {"1.0", "1,0"}
        assert text_of(browser, '#merchant-figures tr[data-figure="rating"] td').startswith(("4.20", "4,20"))
        assert text_of(browser, "#sold-out") == "Trà đá"
        screenshot(browser, "merchant-dashboard")
        browser.get(f"{server.url}/admin/ops/dashboard/")
        assert "403" in browser.title or "Forbidden" in browser.page_source or "403" in browser.page_source
