"""Headless Chromium against a real uvicorn: a merchant's owner uploads a dish photo in the admin, sees a
bad file refused beside the field, then a good one shown as its thumbnail."""

from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from merchants.models import MenuItem, StaffMembership
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.merchants.factories import make_item, make_merchant, make_staff
from tests.merchants.photo_files import photo_bytes, stored_names
from tests.ops.browser import admin_login, chromium, screenshot, text_of
from tests.processes import LiveServer
from users.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture
def media(tmp_path: Path) -> Path:
    root = tmp_path / "media"
    root.mkdir()
    return root


@pytest.fixture
def server(asgi_server_factory: Any, media: Path) -> LiveServer:
    # DEBUG: plain-HTTP cookies, and Django serves the uploaded files it stored under MEDIA_ROOT.
    return asgi_server_factory(env={"DEBUG": "1", "MEDIA_ROOT": str(media)})


def choose_file_and_save(browser: WebDriver, path: Path) -> None:
    browser.find_element(By.ID, "id_photo_upload").send_keys(str(path))
    browser.find_element(By.CSS_SELECTOR, "input[name=_continue]").click()


@pytest.mark.parametrize("who", ["owner", "ops"])
def test_owner_or_ops_uploads_a_dish_photo_in_the_admin(
    who: str, server: LiveServer, media: Path, tmp_path: Path, transactional_db: None
) -> None:
    merchant = make_merchant(name="Phở Cô Ba")
    item = make_item(merchant, "Phở bò tái", price_vnd=55_000)
    owner = make_staff(merchant, role=StaffMembership.StaffRole.OWNER)
    if who == "ops":
        owner = UserFactory(roles=[Role.OPS], is_staff=True)
    not_a_photo = tmp_path / "menu.jpg"
    not_a_photo.write_bytes(b"%PDF-1.7 a menu saved as a PDF, named .jpg")
    photo = tmp_path / "pho.jpg"
    photo.write_bytes(photo_bytes(2400, 1800, orientation=6))
    change_path = f"/admin/merchants/menuitem/{item.pk}/change/"

    with chromium() as browser:
        admin_login(browser, server.url, phone=owner.phone, password=DEFAULT_PASSWORD, next_path=change_path)
        assert not browser.find_elements(By.CSS_SELECTOR, "img.loship-photo-preview")

        choose_file_and_save(browser, not_a_photo)
        WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".errornote"))
        assert "JPEG, PNG" in text_of(browser, ".field-photo_upload .errorlist")
        screenshot(browser, f"merchant-admin-dish-photo-refused-{who}")
        assert stored_names(media) == set()

        choose_file_and_save(browser, photo)
        WebDriverWait(browser, 20).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "img.loship-photo-preview")
        )
        thumbnail = browser.find_element(By.CSS_SELECTOR, "img.loship-photo-preview")
        WebDriverWait(browser, 20).until(
            lambda d: d.execute_script("return arguments[0].complete", thumbnail)
        )
        # The thumbnail Django stored is the one the page loads: 240x240, from the upright photo.
        assert browser.execute_script("return arguments[0].naturalWidth", thumbnail) == 240
        screenshot(browser, f"merchant-admin-dish-photo-{who}")

    item.refresh_from_db()
    assert stored_names(media) == {item.photo.name, *item.photo_variants.values()}
    assert MenuItem.objects.get(pk=item.pk).photo_variants["thumbnail"].endswith("/thumbnail.jpg")
