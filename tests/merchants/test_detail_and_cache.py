"""The merchant page: the whole menu in a fixed number of queries, cached in Redis, and stale the
moment anything on that merchant's menu, hours or profile changes, whoever changes it."""

from collections.abc import Callable
from datetime import time
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from merchants import services
from merchants.api.serializers import MerchantPageSerializer
from merchants.cache import menu_version
from merchants.models import ClosedDate, MenuCategory, MenuItem, Merchant, OpeningHours, Option, OptionGroup
from tests.conftest import authenticated_client
from tests.merchants.factories import (
    make_full_menu,
    make_group,
    make_item,
    make_merchant,
    make_option,
    make_staff,
)

pytestmark = pytest.mark.django_db

#: merchant + hours + closed dates + categories + items + option groups + options
COLD_QUERIES = 7


@pytest.fixture
def big_merchant() -> Merchant:
    merchant = make_merchant(name="Cơm Nhà Bà Tám")
    make_full_menu(merchant, items=50, categories=5)
    make_item(merchant, "Trà đá", price_vnd=5_000)  # outside any category
    return merchant


def page(client: APIClient, merchant: Merchant) -> dict[str, Any]:
    response = client.get(f"/api/v1/merchants/{merchant.pk}")
    assert response.status_code == 200, response.json()
    return response.json()


def test_page_has_the_full_menu_in_order(api_client: APIClient, big_merchant: Merchant) -> None:
    body = page(api_client, big_merchant)
    assert body["name"] == "Cơm Nhà Bà Tám"
    assert [section["name"] for section in body["menu"]] == [
        "Nhóm 0", "Nhóm 1", "Nhóm 2", "Nhóm 3", "Nhóm 4", "Món khác"
    ]  # fmt: skip
    assert sum(len(section["items"]) for section in body["menu"]) == 51
    first = body["menu"][0]["items"][0]
    assert first["name"] == "Món số 0"
    assert [group["name"] for group in first["option_groups"]] == ["Size", "Topping"]
    size = first["option_groups"][0]
    assert (size["is_required"], size["min_select"], size["max_select"]) == (True, 1, 1)
    assert [(o["name"], o["price_delta_vnd"], o["is_available"]) for o in size["options"]] == [
        ("Nhỏ", 0, True),
        ("Lớn", 10_000, True),
    ]
    assert body["menu"][-1] == {
        "id": None,
        "name": "Món khác",
        "items": [
            {
                "id": MenuItem.objects.get(name="Trà đá").pk,
                "name": "Trà đá",
                "description": "",
                "price_vnd": 5_000,
                "image_url": "",
                "photo": None,
                "is_available": True,
                "option_groups": [],
            }
        ],
    }
    assert len(body["opening_hours"]) == 7
    assert body["is_open"] is True and body["accepting_orders"] is True
    assert MerchantPageSerializer(body).data == body  # the documented shape is the served shape


def test_query_count_is_pinned_cold_and_warm(
    api_client: APIClient, big_merchant: Merchant, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(COLD_QUERIES):
        cold = page(api_client, big_merchant)
    with django_assert_num_queries(0):
        warm = page(api_client, big_merchant)
    assert warm == cold


def test_query_count_does_not_grow_with_the_menu(
    api_client: APIClient, django_assert_num_queries: Any
) -> None:
    small = make_merchant()
    make_full_menu(small, items=3, categories=1)
    with django_assert_num_queries(COLD_QUERIES):
        page(api_client, small)


def test_a_signed_in_customer_costs_no_query_either(
    customer: Any, big_merchant: Merchant, django_assert_num_queries: Any
) -> None:
    client = authenticated_client(customer)
    page(client, big_merchant)
    with django_assert_num_queries(0):  # the public page never loads the user behind the token
        page(client, big_merchant)


def test_a_stale_token_does_not_keep_a_customer_from_the_page(
    api_client: APIClient, big_merchant: Merchant
) -> None:
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert page(api_client, big_merchant)["name"] == "Cơm Nhà Bà Tám"


def test_a_warm_page_is_one_redis_round_trip(
    api_client: APIClient, big_merchant: Merchant, monkeypatch: pytest.MonkeyPatch
) -> None:
    page(api_client, big_merchant)
    calls: list[str] = []
    for name in ("get", "get_many", "set", "add", "incr"):
        original = getattr(cache, name)
        monkeypatch.setattr(
            cache, name, lambda *a, _n=name, _o=original, **k: calls.append(_n) or _o(*a, **k)
        )
    page(api_client, big_merchant)
    assert calls == ["get_many"]


def test_the_page_is_served_from_redis(api_client: APIClient, big_merchant: Merchant) -> None:
    page(api_client, big_merchant)
    # A write that bypasses every signal and service is invisible until the page is rebuilt.
    Merchant.objects.filter(pk=big_merchant.pk).update(name="Đổi tên lén")
    assert page(api_client, big_merchant)["name"] == "Cơm Nhà Bà Tám"


def test_unknown_and_unlisted_merchants_are_404(api_client: APIClient, big_merchant: Merchant) -> None:
    assert api_client.get("/api/v1/merchants/999999").json()["error"]["code"] == "merchant_not_found"
    big_merchant.is_active = False
    big_merchant.save()
    response = api_client.get(f"/api/v1/merchants/{big_merchant.pk}")
    assert response.status_code == 404


def _first_item(merchant: Merchant) -> MenuItem:
    return MenuItem.objects.filter(merchant=merchant).order_by("position", "id").first()  # type: ignore[return-value]


def _rename_item(merchant: Merchant) -> None:
    item = _first_item(merchant)
    item.name = "Món mới"
    item.save()


def _price_option(merchant: Merchant) -> None:
    option = Option.objects.filter(group__item=_first_item(merchant)).order_by("id").first()
    assert option is not None
    option.price_delta_vnd = 1_000
    option.save()


def _delete_group(merchant: Merchant) -> None:
    OptionGroup.objects.filter(item=_first_item(merchant), name="Topping").delete()


def _add_group(merchant: Merchant) -> None:
    make_option(
        make_group(_first_item(merchant), "Đá", is_required=False, min_select=0), "Ít đá", price_delta_vnd=0
    )


def _rename_category(merchant: Merchant) -> None:
    category = MenuCategory.objects.filter(merchant=merchant).order_by("position").first()
    assert category is not None
    category.name = "Món chính"
    category.save()


def _delete_item(merchant: Merchant) -> None:
    _first_item(merchant).delete()


def _close_today(merchant: Merchant) -> None:
    from merchants.selectors import local_today

    ClosedDate.objects.create(merchant=merchant, date=local_today())


def _change_hours(merchant: Merchant) -> None:
    OpeningHours.objects.filter(merchant=merchant).update(opens_at=time(8), closes_at=time(9))
    services.replace_opening_hours(
        merchant_id=merchant.pk, intervals=[services.Interval(weekday=0, opens_at=time(8), closes_at=time(9))]
    )


def _busy(merchant: Merchant) -> None:
    services.set_busy(merchant_id=merchant.pk, is_busy=True)


def _sold_out_service(merchant: Merchant) -> None:
    services.set_item_availability(item_id=_first_item(merchant).pk, is_available=False)


def _sold_out_bulk(merchant: Merchant) -> None:
    services.set_items_availability(item_ids=[_first_item(merchant).pk], is_available=False)


def _option_sold_out_bulk(merchant: Merchant) -> None:
    option = Option.objects.filter(group__item=_first_item(merchant)).order_by("id").first()
    assert option is not None
    services.set_options_availability(option_ids=[option.pk], is_available=False)


def _rating(merchant: Merchant) -> None:
    services.record_merchant_rating(merchant_id=merchant.pk, stars=4)


CHANGES: list[Callable[[Merchant], None]] = [
    _rename_item,
    _price_option,
    _delete_group,
    _add_group,
    _rename_category,
    _delete_item,
    _close_today,
    _change_hours,
    _busy,
    _sold_out_service,
    _sold_out_bulk,
    _option_sold_out_bulk,
    _rating,
]


@pytest.mark.parametrize("change", CHANGES, ids=[change.__name__.strip("_") for change in CHANGES])
def test_any_change_to_the_merchant_makes_the_next_read_fresh(
    api_client: APIClient,
    big_merchant: Merchant,
    change: Callable[[Merchant], None],
    django_capture_on_commit_callbacks: Any,
) -> None:
    other = make_merchant()
    make_full_menu(other, items=2, categories=1)
    before = page(api_client, big_merchant)
    page(api_client, other)
    other_version = menu_version(other.pk)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        change(big_merchant)
    assert callbacks  # the invalidation waits for the commit

    after = page(api_client, big_merchant)
    assert after != before
    assert after["menu"] == _fresh_menu(big_merchant)
    assert menu_version(other.pk) == other_version  # the neighbour's cache is untouched


def _fresh_menu(merchant: Merchant) -> Any:
    from merchants.catalog import build_page

    built = build_page(merchant.pk)
    assert built is not None
    return built["menu"]


@pytest.mark.django_db(transaction=True)
def test_tablet_sold_out_shows_on_the_next_read(api_client: APIClient, big_merchant: Merchant) -> None:
    item = _first_item(big_merchant)
    staff = make_staff(big_merchant, role="staff")
    page(api_client, big_merchant)
    response = authenticated_client(staff).post(
        f"/api/v1/merchant/items/{item.pk}/availability", {"is_available": False}, format="json"
    )
    assert response.status_code == 200
    assert page(api_client, big_merchant)["menu"][0]["items"][0]["is_available"] is False


@pytest.mark.django_db(transaction=True)
def test_admin_edit_shows_on_the_next_read(api_client: APIClient, big_merchant: Merchant) -> None:
    item = _first_item(big_merchant)
    manager = make_staff(big_merchant)
    browser = Client()
    browser.force_login(manager)
    page(api_client, big_merchant)
    response = browser.post(
        f"/admin/merchants/menuitem/{item.pk}/change/",
        {
            "merchant": big_merchant.pk,
            "category": item.category_id,
            "name": "Cơm gà xối mỡ",
            "description": "",
            "price_vnd": 59_000,
            "image_url": "",
            "is_available": "on",
            "position": 0,
            "option_groups-TOTAL_FORMS": 0,
            "option_groups-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    first = page(api_client, big_merchant)["menu"][0]["items"][0]
    assert (first["name"], first["price_vnd"]) == ("Cơm gà xối mỡ", 59_000)


@pytest.mark.django_db(transaction=True)
def test_admin_bulk_sold_out_shows_on_the_next_read(api_client: APIClient, big_merchant: Merchant) -> None:
    items = list(MenuItem.objects.filter(merchant=big_merchant).order_by("position", "id")[:3])
    browser = Client()
    browser.force_login(make_staff(big_merchant, role="staff"))
    page(api_client, big_merchant)
    response = browser.post(
        "/admin/merchants/menuitem/",
        {"action": "mark_sold_out", "_selected_action": [item.pk for item in items]},
    )
    assert response.status_code == 302
    shown = page(api_client, big_merchant)["menu"][0]["items"]
    sold_out = {
        row["id"]
        for section in page(api_client, big_merchant)["menu"]
        for row in section["items"]
        if not row["is_available"]
    }
    assert sold_out == {item.pk for item in items}
    assert shown


def test_without_redis_the_page_comes_from_the_database(
    api_client: APIClient, big_merchant: Merchant, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    assert page(api_client, big_merchant)["name"] == "Cơm Nhà Bà Tám"
    with django_capture_on_commit_callbacks(execute=True):
        _rename_item(big_merchant)  # the version bump fails quietly; the write stands
    assert page(api_client, big_merchant)["menu"][0]["items"][0]["name"] == "Món mới"
