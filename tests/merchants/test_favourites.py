"""Favourites: a customer saves merchants and dishes (twice is harmless), lists them with open-now and
distance, and sees only their own."""

from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from merchants.models import ClosedDate, FavouriteDish, FavouriteMerchant, Merchant, OpeningHours
from merchants.selectors import LOCAL_TZ
from tests.concurrency import run_at_once
from tests.conftest import authenticated_client
from tests.factories import UserFactory
from tests.merchants.factories import CENTER_LAT, CENTER_LNG, make_item, make_merchant, make_ops
from tests.retries import sent_twice

pytestmark = pytest.mark.django_db

#: Tuesday 1 Dec 2026, 23:30 in Ho Chi Minh City.
NOW = datetime(2026, 12, 1, 23, 30, tzinfo=LOCAL_TZ)
TUESDAY = 1


@pytest.fixture(autouse=True)
def _tuesday_night() -> Iterator[None]:
    with time_machine.travel(NOW.astimezone(UTC), tick=False):
        yield


def test_saving_a_merchant_twice_keeps_one_favourite(customer_client: APIClient) -> None:
    merchant = make_merchant()

    first = customer_client.put(f"/api/v1/favourites/merchants/{merchant.pk}")
    second = customer_client.put(f"/api/v1/favourites/merchants/{merchant.pk}")

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"] == merchant.pk
    assert FavouriteMerchant.objects.filter(merchant=merchant).count() == 1


def test_removing_a_favourite_twice_or_one_never_saved_is_harmless(customer_client: APIClient) -> None:
    merchant = make_merchant()
    item = make_item(merchant)
    customer_client.put(f"/api/v1/favourites/merchants/{merchant.pk}")
    customer_client.put(f"/api/v1/favourites/dishes/{item.pk}")

    answers = [
        customer_client.delete(f"/api/v1/favourites/merchants/{merchant.pk}").status_code,
        customer_client.delete(f"/api/v1/favourites/merchants/{merchant.pk}").status_code,
        customer_client.delete(f"/api/v1/favourites/dishes/{item.pk}").status_code,
        customer_client.delete(f"/api/v1/favourites/dishes/{item.pk + 1000}").status_code,
    ]

    assert answers == [204, 204, 204, 204]
    assert not FavouriteMerchant.objects.exists()
    assert not FavouriteDish.objects.exists()


def test_many_taps_at_once_save_one_favourite(transactional_db: None) -> None:
    customer = UserFactory()
    merchant = make_merchant()
    item = make_item(merchant)

    def tap(index: int) -> int:
        client = authenticated_client(customer)
        path = (
            f"/api/v1/favourites/merchants/{merchant.pk}"
            if index % 2
            else f"/api/v1/favourites/dishes/{item.pk}"
        )
        return int(client.put(path).status_code)

    answers = run_at_once(8, tap)

    assert sorted(answers) == [200] * 6 + [201] * 2  # one save per favourite, the others found it
    assert FavouriteMerchant.objects.filter(user=customer, merchant=merchant).count() == 1
    assert FavouriteDish.objects.filter(user=customer, item=item).count() == 1


@pytest.mark.parametrize(
    ("path", "code"),
    [("merchants/999999", "merchant_not_found"), ("dishes/999999", "menu_item_not_found")],
)
def test_an_unknown_or_unlisted_merchant_or_dish_is_a_404_and_nothing_is_saved(
    customer_client: APIClient, path: str, code: str
) -> None:
    hidden = make_merchant(is_active=False)
    hidden_item = make_item(hidden)

    unknown = customer_client.put(f"/api/v1/favourites/{path}")
    unlisted = customer_client.put(
        f"/api/v1/favourites/merchants/{hidden.pk}"
        if path.startswith("merchants")
        else f"/api/v1/favourites/dishes/{hidden_item.pk}"
    )

    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, code)
    assert (unlisted.status_code, unlisted.json()["error"]["code"]) == (404, code)
    assert not FavouriteMerchant.objects.exists()
    assert not FavouriteDish.objects.exists()


def test_the_list_says_open_now_past_midnight_and_closed_dates_and_the_distance(
    customer_client: APIClient,
) -> None:
    night_owl = make_merchant(always_open=False, name="Ốc đêm")  # Tuesday 18:00-02:00: open at 23:30
    OpeningHours.objects.create(merchant=night_owl, weekday=TUESDAY, opens_at=time(18), closes_at=time(2))
    on_holiday = make_merchant(name="Nghỉ lễ")
    ClosedDate.objects.create(merchant=on_holiday, date=date(2026, 12, 1))
    busy = make_merchant(name="Đông khách", lat=CENTER_LAT + Decimal("0.009"), is_busy=True)  # ~1 km north
    for merchant in (night_owl, on_holiday, busy):
        customer_client.put(f"/api/v1/favourites/merchants/{merchant.pk}")

    with CaptureQueriesContext(connection) as queries:
        page = customer_client.get(f"/api/v1/favourites/merchants?lat={CENTER_LAT}&lng={CENTER_LNG}").json()
    without_point = customer_client.get("/api/v1/favourites/merchants").json()["results"]

    rows = {row["name"]: row for row in page["results"]}
    assert [row["name"] for row in page["results"]] == ["Đông khách", "Nghỉ lễ", "Ốc đêm"]  # newest first
    assert (rows["Ốc đêm"]["is_open"], rows["Ốc đêm"]["accepting_orders"]) == (True, True)
    assert (rows["Nghỉ lễ"]["is_open"], rows["Nghỉ lễ"]["accepting_orders"]) == (False, False)
    assert (rows["Đông khách"]["is_open"], rows["Đông khách"]["accepting_orders"]) == (True, False)
    assert rows["Ốc đêm"]["distance_m"] == 0
    assert 990 <= rows["Đông khách"]["distance_m"] <= 1010
    assert rows["Đông khách"]["within_radius"] is True
    assert {row["distance_m"] for row in without_point} == {None}
    assert page["count"] == 3
    assert len(queries) <= 6  # user, count, page, hours, closed dates (+ a savepoint-free margin)


def test_the_dish_list_shows_the_dish_and_its_merchant_now(customer_client: APIClient) -> None:
    closed_now = make_merchant(always_open=False, name="Cơm trưa")
    OpeningHours.objects.create(merchant=closed_now, weekday=TUESDAY, opens_at=time(10), closes_at=time(14))
    sold_out = make_item(closed_now, name="Cơm gà", price_vnd=45_000, is_available=False)
    customer_client.put(f"/api/v1/favourites/dishes/{sold_out.pk}")

    rows = customer_client.get(f"/api/v1/favourites/dishes?lat={CENTER_LAT}&lng={CENTER_LNG}").json()[
        "results"
    ]

    assert rows == [
        {
            "id": sold_out.pk,
            "name": "Cơm gà",
            "description": "",
            "price_vnd": 45_000,
            "image_url": "",
            "photo": None,
            "is_available": False,
            "merchant": {
                "id": closed_now.pk,
                "name": "Cơm trưa",
                "is_open": False,
                "accepting_orders": False,
                "distance_m": 0,
                "within_radius": True,
            },
            "favourited_at": rows[0]["favourited_at"],
        }
    ]


def test_a_customer_sees_only_their_own_favourites_and_an_unlisted_merchant_drops_out(
    customer_client: APIClient,
) -> None:
    mine, theirs = make_merchant(name="Của tôi"), make_merchant(name="Của bạn")
    other = authenticated_client(UserFactory())
    customer_client.put(f"/api/v1/favourites/merchants/{mine.pk}")
    other.put(f"/api/v1/favourites/merchants/{theirs.pk}")
    other.put(f"/api/v1/favourites/merchants/{mine.pk}")

    other.delete(f"/api/v1/favourites/merchants/{mine.pk}")  # removes only the other customer's
    mine_listed = customer_client.get("/api/v1/favourites/merchants").json()["results"]
    Merchant.objects.filter(pk=mine.pk).update(is_active=False)
    after_unlisting = customer_client.get("/api/v1/favourites/merchants").json()["results"]

    assert [row["name"] for row in mine_listed] == ["Của tôi"]
    assert [row["name"] for row in other.get("/api/v1/favourites/merchants").json()["results"]] == ["Của bạn"]
    assert after_unlisting == []


@pytest.mark.parametrize("query", ["lat=10.7", "lng=106.7", "lat=91&lng=0", "colour=red"])
def test_a_bad_point_or_unknown_parameter_is_refused(customer_client: APIClient, query: str) -> None:
    response = customer_client.get(f"/api/v1/favourites/merchants?{query}")

    assert response.status_code == 400
    assert "error" in response.json() and response.json()["error"]["fields"]


def test_favourites_need_a_signed_in_caller(api_client: APIClient) -> None:
    merchant = make_merchant()

    assert api_client.get("/api/v1/favourites/merchants").status_code == 401
    assert api_client.put(f"/api/v1/favourites/merchants/{merchant.pk}").status_code == 401
    assert not FavouriteMerchant.objects.exists()


def test_ops_see_customers_favourites_in_the_admin() -> None:
    ops = make_ops()
    customer = UserFactory()
    merchant = make_merchant(name="Bún bò")
    FavouriteMerchant.objects.create(user=customer, merchant=merchant)
    browser = Client()
    browser.force_login(ops)

    listed = browser.get("/admin/merchants/favouritemerchant/")

    assert listed.status_code == 200
    assert "Bún bò" in listed.content.decode()


def test_a_save_or_removal_sent_again_answers_as_before_and_writes_nothing(
    customer_client: APIClient,
) -> None:
    merchant = make_merchant()
    item = make_item(merchant)

    sent_twice(lambda: customer_client.put(f"/api/v1/favourites/merchants/{merchant.pk}"))
    sent_twice(lambda: customer_client.put(f"/api/v1/favourites/dishes/{item.pk}"))
    sent_twice(lambda: customer_client.delete(f"/api/v1/favourites/dishes/{item.pk}"), again_status=204)
