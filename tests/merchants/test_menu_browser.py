"""Headless Chromium against a real uvicorn: a merchant's owner uploads a menu sheet, reads the
preview, applies it, then drags a dish into place and saves the order; the customer API follows."""

from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from merchants.menu_current import export_rows, load_menu
from merchants.menu_sheet import write_csv
from merchants.models import MenuItem
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.merchants.factories import make_merchant, make_staff
from tests.merchants.menu_fixtures import csv_bytes, csv_rows, make_sheet_menu
from tests.ops.browser import admin_login, chromium, screenshot, text_of
from tests.processes import LiveServer
from users.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture
def server(asgi_server_factory: Any) -> LiveServer:
    # DEBUG: the admin's session and CSRF cookies are not `Secure`, as this server speaks plain HTTP.
    return asgi_server_factory(env={"DEBUG": "1"})


@pytest.mark.parametrize("who", ["owner", "ops"])
def test_owner_or_ops_imports_a_sheet_and_drags_a_dish(
    who: str, server: LiveServer, transactional_db: None, tmp_path: Path
) -> None:
    merchant = make_merchant(name="Phở Cô Ba")
    menu = make_sheet_menu(merchant)
    owner = make_staff(merchant, role="owner")
    if who == "ops":
        owner = UserFactory(roles=[Role.OPS], is_staff=True)
    rows = csv_rows(write_csv(export_rows(load_menu(merchant.pk))))
    next(row for row in rows if row[2] == "Phở gà" and row[4])[4] = "52.000"
    rows.append(["", "Đồ uống", "Nước sâm", "", "15.000", "có", "", "", "", "", "", "", ""])
    sheet = tmp_path / "menu-pho-co-ba.csv"
    sheet.write_bytes(csv_bytes(rows))
    menu_path = f"/admin/merchants/merchant/{merchant.pk}/menu/"

    with chromium() as browser:
        admin_login(browser, server.url, phone=owner.phone, password=DEFAULT_PASSWORD, next_path=menu_path)
        assert "Phở bò tái" in text_of(browser, "#category-list")
        screenshot(browser, f"merchant-menu-page-{who}")

        browser.find_element(By.ID, "id_sheet").send_keys(str(sheet))
        browser.find_element(By.ID, "preview-button").click()
        WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "menu-preview"))
        changes = text_of(browser, "#menu-preview")
        assert "Nước sâm" in changes and "50.000 ₫ → 52.000 ₫" in changes
        assert not browser.find_elements(By.CSS_SELECTOR, 'tr.change[data-action="reorder"]')
        assert MenuItem.objects.get(pk=menu["chicken"].pk).price_vnd == 50_000
        screenshot(browser, f"merchant-menu-import-preview-{who}")

        browser.find_element(By.ID, "apply-button").click()
        WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".messagelist .success"))
        assert MenuItem.objects.get(pk=menu["chicken"].pk).price_vnd == 52_000
        assert "Nước sâm" in text_of(browser, "#category-list")
        screenshot(browser, f"merchant-menu-import-applied-{who}")

        # Drag "Phở gà" above "Phở bò tái", then save.
        dishes = browser.find_elements(By.CSS_SELECTOR, "#category-list > li:first-child li.menu-dish")
        handle = dishes[1].find_element(By.CSS_SELECTOR, ".drag-handle")
        target = dishes[0].find_element(By.CSS_SELECTOR, ".menu-row")
        ActionChains(browser).click_and_hold(handle).move_by_offset(0, -5).move_to_element_with_offset(
            target, 0, -target.size["height"] // 2 + 2
        ).release().perform()
        names = [
            d.text
            for d in browser.find_elements(By.CSS_SELECTOR, "#category-list > li:first-child .dish-name")
        ]
        assert names == ["Phở gà", "Phở bò tái"]
        browser.find_element(By.ID, "save-order").click()
        WebDriverWait(browser, 20).until(
            lambda d: d.find_element(By.ID, "order-status").get_attribute("class") == "saved"
        )
        screenshot(browser, f"merchant-menu-reordered-{who}")

    page = httpx.get(f"{server.url}/api/v1/merchants/{merchant.pk}", timeout=20).json()
    assert [item["name"] for item in page["menu"][0]["items"]] == ["Phở gà", "Phở bò tái"]
