"""Headless Chromium against a real uvicorn: the owner of Phở Cô Ba and an ops user find an admin titled
Loship, in Vietnamese, with money as `55.000 ₫`; a price typed `60.000` is saved as 60000; each switches
to English in the header, and the choice follows them to another browser. Screenshots in test-artifacts/."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from merchants.models import MenuItem
from orders.models import OrderStatus
from tests.factories import DEFAULT_PASSWORD
from tests.merchants.factories import make_item, make_merchant, make_ops, make_staff
from tests.ops.browser import admin_login, chromium, screenshot, text_of, wait_out_local_midnight
from tests.ops.factories import make_order
from tests.processes import LiveServer
from users.models import User

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture
def server(asgi_server_factory: Any) -> LiveServer:
    # DEBUG: the admin's session and CSRF cookies are not `Secure`, as this server speaks plain HTTP.
    return asgi_server_factory(env={"DEBUG": "1"})


@pytest.fixture
def pho(transactional_db: None) -> dict[str, Any]:
    """Phở Cô Ba: a 55.000 ₫ dish and, delivered minutes ago, 1.526.000 ₫ of orders today (Ho Chi Minh
    City's day: in its first minutes the fixture waits, so the orders cannot fall on the day before)."""
    wait_out_local_midnight(timedelta(minutes=3))
    merchant = make_merchant(name="Phở Cô Ba")
    item = make_item(merchant, "Phở bò tái", price_vnd=55_000)
    now = timezone.now()
    make_order(
        merchant,
        total_vnd=1_526_000,
        created_at=now - timedelta(minutes=2),
        status=OrderStatus.DELIVERED,
        accepted_at=now - timedelta(minutes=2),
        ready_at=now - timedelta(minutes=1),
        delivered_at=now,
    )
    return {
        "merchant": merchant,
        "item": item,
        "owner": make_staff(merchant, role="owner"),
        "ops": make_ops(),
    }


def switch_to_english(browser: WebDriver) -> None:
    Select(browser.find_element(By.ID, "language-select")).select_by_value("en")
    WebDriverWait(browser, 20).until(lambda d: text_of(d, "#site-name") == "Loship administration")


def test_a_merchant_owner_reads_loship_in_vietnamese_types_a_price_and_switches_to_english(
    server: LiveServer, pho: dict[str, Any]
) -> None:
    owner, item = pho["owner"], pho["item"]
    with chromium(accept_language="vi") as browser:
        browser.get(f"{server.url}/admin/login/")
        assert text_of(browser, "#site-name") == "Quản trị Loship"
        assert "Đăng nhập" in browser.page_source
        screenshot(browser, "admin-login-vi")
        admin_login(browser, server.url, phone=owner.phone, password=DEFAULT_PASSWORD, next_path="/admin/")
        assert "Quản trị Loship" in browser.title
        assert "Món ăn" in text_of(browser, "#content-main")

        browser.get(f"{server.url}/admin/merchants/menuitem/")
        assert text_of(browser, "#result_list td.field-price_vnd__vnd") == "55.000 ₫"
        # Column headers are upper-cased by the admin's CSS.
        assert text_of(browser, "#result_list th.column-price_vnd__vnd").casefold() == "giá (₫)"
        screenshot(browser, "admin-menu-items-vi")

        browser.get(f"{server.url}/admin/merchants/menuitem/{item.pk}/change/")
        price = browser.find_element(By.ID, "id_price_vnd")
        assert price.get_attribute("value") == "55.000 ₫"
        price.clear()
        price.send_keys("60.000")
        browser.find_element(By.CSS_SELECTOR, "input[name=_save]").click()
        WebDriverWait(browser, 20).until(lambda d: d.current_url.endswith("/admin/merchants/menuitem/"))
        assert MenuItem.objects.get(pk=item.pk).price_vnd == 60_000
        assert text_of(browser, "#result_list td.field-price_vnd__vnd") == "60.000 ₫"

        browser.get(f"{server.url}/admin/ops/merchant/")
        assert text_of(browser, '#merchant-figures tr[data-figure="gmv_today"] th') == "Doanh thu hôm nay"
        assert text_of(browser, '#merchant-figures tr[data-figure="gmv_today"] td') == "1.526.000 ₫"
        screenshot(browser, "merchant-dashboard-vi")

        switch_to_english(browser)
        assert browser.current_url.endswith("/admin/ops/merchant/")
        assert text_of(browser, '#merchant-figures tr[data-figure="gmv_today"] th') == "Sales today"
        assert text_of(browser, '#merchant-figures tr[data-figure="gmv_today"] td') == "1.526.000 ₫"
        screenshot(browser, "merchant-dashboard-en")
    assert User.objects.get(pk=owner.pk).language == "en"

    # Another browser, still asking for Vietnamese: once signed in, the account's English wins.
    with chromium(accept_language="vi") as browser:
        admin_login(
            browser,
            server.url,
            phone=owner.phone,
            password=DEFAULT_PASSWORD,
            next_path="/admin/merchants/menuitem/",
        )
        assert text_of(browser, "#site-name") == "Loship administration"
        assert text_of(browser, "#result_list th.column-price_vnd__vnd").casefold() == "price vnd"
        assert text_of(browser, "#result_list td.field-price_vnd__vnd") == "60.000 ₫"
        screenshot(browser, "admin-menu-items-en")


def test_an_ops_user_reads_the_dashboards_in_vietnamese_then_english(
    server: LiveServer, pho: dict[str, Any]
) -> None:
    ops = pho["ops"]
    with chromium(accept_language="vi") as browser:
        admin_login(
            browser, server.url, phone=ops.phone, password=DEFAULT_PASSWORD, next_path="/admin/ops/dashboard/"
        )
        assert text_of(browser, "#site-name") == "Quản trị Loship"
        assert text_of(browser, '#figures tr[data-figure="gmv"] th') == "Doanh số (GMV)"
        assert text_of(browser, '#figures tr[data-figure="gmv"] td') == "1.526.000 ₫"
        screenshot(browser, "ops-dashboard-vi")

        switch_to_english(browser)
        assert text_of(browser, '#figures tr[data-figure="gmv"] th') == "GMV"
        assert text_of(browser, '#figures tr[data-figure="gmv"] td') == "1.526.000 ₫"
        assert "Ops dashboard" in browser.title
        screenshot(browser, "ops-dashboard-en")

        browser.get(f"{server.url}/admin/orders/order/")
        assert text_of(browser, "#result_list td.field-total_vnd__vnd") == "1.526.000 ₫"
        screenshot(browser, "admin-orders-en")
    assert User.objects.get(pk=ops.pk).language == "en"
