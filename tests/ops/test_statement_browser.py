"""Headless Chromium against a real uvicorn: merchant staff open their statement from the merchant
dashboard and read this month's figures, formatted in dong; another merchant's statement is a 404."""

from collections.abc import Callable
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from orders import services
from orders.models import Order
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.ops.browser import admin_login, chromium, screenshot, text_of
from tests.orders.factories import Menu, make_menu, make_promotion, make_staff
from tests.orders.test_tips import deliver
from tests.processes import LiveServer
from users.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture
def server(asgi_server_factory: Any) -> LiveServer:
    # DEBUG: the admin's session and CSRF cookies are not `Secure`, as this server speaks plain HTTP.
    return asgi_server_factory(env={"DEBUG": "1"})


@pytest.fixture
def month(transactional_db: None, menu: Menu, place: Callable[..., Any]) -> dict[str, Any]:
    """This month: a cash order (85 000, 20% commission) and one with the merchant's own 20% promotion
    (17 000 off), refunded 10 000 after delivery. Net payout 170 000 - 34 000 - 17 000 - 10 000."""
    promo = make_promotion(merchant=menu.merchant, funded_by="merchant", value=20)
    orders = []
    for body in ({}, {"promo_code": promo.code}):
        response = place(**body)
        assert response.status_code == 201, response.json()
        order = Order.objects.get(pk=response.json()["id"])
        deliver(order)
        orders.append(order)
    ops = UserFactory(roles=[Role.OPS], is_staff=True)
    services.refund_delivered_order(order_id=orders[1].pk, amount_vnd=10_000, actor=ops, reason="thiếu món")
    return {"merchant": menu.merchant, "orders": orders, "staff": make_staff(menu.merchant)}


@pytest.mark.parametrize("who", ["staff", "ops"])
def test_merchant_staff_or_ops_read_the_statement_in_the_admin(
    who: str, server: LiveServer, month: dict[str, Any]
) -> None:
    other = make_menu().merchant
    reader = month["staff"] if who == "staff" else UserFactory(roles=[Role.OPS], is_staff=True)
    with chromium() as browser:
        admin_login(
            browser,
            server.url,
            phone=reader.phone,
            password=DEFAULT_PASSWORD,
            next_path=f"/admin/ops/merchant/?merchant={month['merchant'].pk}",
        )
        browser.find_element(By.ID, "statement-link").click()
        WebDriverWait(browser, 20).until(lambda d: "/admin/ops/merchant/statement/" in d.current_url)

        assert month["merchant"].name in text_of(browser, "#statement-merchant")
        rows = browser.find_elements(By.CSS_SELECTOR, "#statement-lines tbody tr[data-order]")
        assert [row.get_attribute("data-order") for row in rows] == [o.code for o in month["orders"]]
        totals = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "#statement-totals th.amount")]
        assert totals == ["170.000 ₫", "34.000 ₫", "17.000 ₫", "0 ₫", "10.000 ₫", "109.000 ₫"]
        assert "109.000 ₫" in text_of(browser, "#statement-ledger")
        assert "format=csv" in str(browser.find_element(By.ID, "statement-csv").get_attribute("href"))
        screenshot(browser, f"merchant-statement-{who}")

        browser.get(f"{server.url}/admin/ops/merchant/statement/?merchant={other.pk}")
        if who == "staff":  # another merchant's statement is none of theirs
            assert "Page not found" in browser.title
            assert other.name not in browser.page_source
        else:  # ops read any merchant's
            assert other.name in text_of(browser, "#statement-merchant")
