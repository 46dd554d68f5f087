"""The admin as a Vietnamese merchant reads it: titled Loship, in Vietnamese unless the person chose
English (remembered on their account), money as `55.000 ₫` and typed as people type it, times in
Asia/Ho_Chi_Minh. Through the admin's own pages, with Django's test client."""

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from merchants.models import MenuItem
from orders.models import Order
from tests.merchants.factories import make_item, make_merchant, make_ops, make_staff
from tests.merchants.test_admin import browser_for, item_post, merchant_post
from tests.ops.factories import make_order
from users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def pho() -> dict[str, Any]:
    merchant = make_merchant(name="Phở Cô Ba")
    item = make_item(merchant, "Phở bò tái", price_vnd=55_000)
    return {"merchant": merchant, "item": item, "owner": make_staff(merchant, role="owner")}


def test_the_admin_is_titled_loship_and_vietnamese_by_default(pho: dict[str, Any]) -> None:
    page = browser_for(pho["owner"]).get("/admin/")
    html = page.content.decode()
    assert "Quản trị Loship" in html
    assert "Django administration" not in html
    assert "Món ăn" in html  # the menu items' verbose name, translated
    assert page["Content-Language"] == "vi"


def test_the_login_page_says_loship_and_follows_the_browser_language() -> None:
    vietnamese = Client().get("/admin/login/").content.decode()
    assert "Quản trị Loship" in vietnamese
    assert "Đăng nhập" in vietnamese
    english = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").get("/admin/login/").content.decode()
    assert "Loship administration" in english
    assert "Log in" in english


def test_the_item_list_and_change_form_show_dong(pho: dict[str, Any]) -> None:
    browser = browser_for(pho["owner"])
    listing = browser.get("/admin/merchants/menuitem/").content.decode()
    assert "55.000 ₫" in listing
    form = browser.get(f"/admin/merchants/menuitem/{pho['item'].pk}/change/").content.decode()
    assert 'value="55.000 ₫"' in form


@pytest.mark.parametrize("typed", ["55.000", "55000", "55.000 ₫", "60.000"])
def test_a_price_typed_as_people_type_it_is_saved_in_dong(pho: dict[str, Any], typed: str) -> None:
    item = pho["item"]
    response = browser_for(pho["owner"]).post(
        f"/admin/merchants/menuitem/{item.pk}/change/", item_post(item, price_vnd=typed)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    expected = int(typed.replace(".", "").replace(" ₫", ""))
    assert MenuItem.objects.get(pk=item.pk).price_vnd == expected


def test_a_price_that_is_no_amount_is_refused_with_a_clear_message(pho: dict[str, Any]) -> None:
    item = pho["item"]
    response = browser_for(pho["owner"]).post(
        f"/admin/merchants/menuitem/{item.pk}/change/", item_post(item, price_vnd="55.00")
    )
    assert response.status_code == 200
    assert "Nhập số tiền bằng đồng" in response.content.decode()
    assert MenuItem.objects.get(pk=item.pk).price_vnd == 55_000


def test_the_language_switch_is_remembered_on_the_account(pho: dict[str, Any]) -> None:
    owner = pho["owner"]
    browser = browser_for(owner)
    switched = browser.post("/admin/language/", {"language": "en", "next": "/admin/merchants/menuitem/"})
    assert switched.status_code == 302 and switched["Location"] == "/admin/merchants/menuitem/"
    assert User.objects.get(pk=owner.pk).language == "en"
    assert switched.cookies["django_language"]["path"] == "/admin/"
    # Another browser, no cookie: the account's choice follows the person.
    elsewhere = browser_for(owner).get("/admin/merchants/menuitem/").content.decode()
    assert "Loship administration" in elsewhere and "55.000 ₫" in elsewhere
    browser.post("/admin/language/", {"language": "vi", "next": "/admin/"})
    assert User.objects.get(pk=owner.pk).language == "vi"
    assert "Quản trị Loship" in browser_for(owner).get("/admin/").content.decode()


def test_the_switch_ignores_unknown_languages_and_foreign_next_urls(pho: dict[str, Any]) -> None:
    owner = pho["owner"]
    response = browser_for(owner).post(
        "/admin/language/", {"language": "fr", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/admin/"
    assert User.objects.get(pk=owner.pk).language == "vi"


def test_the_admin_language_leaves_the_api_to_accept_language(pho: dict[str, Any]) -> None:
    owner = pho["owner"]
    browser_for(owner).post("/admin/language/", {"language": "en", "next": "/admin/"})
    # Signed in to the admin (a session) with English chosen: the API's messages still follow the
    # request's Accept-Language, Vietnamese without one. (Browsers send the language cookie only to /admin/.)
    session = browser_for(owner)
    assert session.get("/api/v1/orders/999999999/")["Content-Language"] == "vi"
    assert session.get("/api/v1/orders/999999999/", HTTP_ACCEPT_LANGUAGE="en")["Content-Language"] == "en"


def test_order_money_and_times_read_in_dong_and_ho_chi_minh_time(pho: dict[str, Any]) -> None:
    order = make_order(
        pho["merchant"], total_vnd=1_526_000, created_at=datetime(2026, 11, 30, 17, 5, tzinfo=UTC)
    )
    ops = browser_for(make_ops())
    listing = ops.get("/admin/orders/order/").content.decode()
    assert "1.526.000 ₫" in listing
    page = ops.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "1.526.000 ₫" in page
    # 17:05 UTC is 00:05 the next day in Ho Chi Minh City.
    assert "00:05" in page and Order.objects.get(pk=order.pk).created_at.hour == 17


def test_staff_who_may_only_look_see_the_price_formatted_and_no_input(pho: dict[str, Any]) -> None:
    staff = make_staff(pho["merchant"], role="staff")
    page = browser_for(staff).get(f"/admin/merchants/menuitem/{pho['item'].pk}/change/").content.decode()
    assert "55.000 ₫" in page
    assert 'name="price_vnd"' not in page


def test_an_option_price_is_typed_in_the_dish_form_inline_as_people_type_it(pho: dict[str, Any]) -> None:
    merchant = pho["merchant"]
    response = browser_for(make_ops()).post(
        f"/admin/merchants/merchant/{merchant.pk}/change/",
        merchant_post(
            merchant,
            **{
                "slug": merchant.slug,
                "items-TOTAL_FORMS": 1,
                "items-INITIAL_FORMS": 1,
                "items-0-id": pho["item"].pk,
                "items-0-merchant": merchant.pk,
                "items-0-name": "Phở bò tái",
                "items-0-price_vnd": "65.000 ₫",
                "items-0-is_available": "on",
                "items-0-position": 0,
                "min_order_vnd": "30.000",
            },
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert MenuItem.objects.get(pk=pho["item"].pk).price_vnd == 65_000
    merchant.refresh_from_db()
    assert merchant.min_order_vnd == 30_000


def test_the_login_page_language_can_be_switched_before_signing_in() -> None:
    browser = Client()
    switched = browser.post("/admin/language/", {"language": "en", "next": "/admin/login/"})
    assert switched["Location"] == "/admin/login/"
    assert "Loship administration" in browser.get("/admin/login/").content.decode()
