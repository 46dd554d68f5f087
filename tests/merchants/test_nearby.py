"""Nearby merchants: within the radius, nearest first (or best rated), filtered, paginated."""

from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from merchants.api.serializers import NearbyMerchantSerializer
from merchants.geo import haversine_m
from merchants.models import Merchant
from orders.pricing import PricingConfig, delivery_fee_vnd
from tests.merchants.factories import CENTER_LAT, CENTER_LNG, make_item, make_merchant

pytestmark = pytest.mark.django_db

# Roughly 1 km of latitude is 0.009 degrees.
KM = Decimal("0.009")


def nearby(client: APIClient, **params: Any) -> Any:
    return client.get("/api/v1/merchants", {"lat": CENTER_LAT, "lng": CENTER_LNG, **params})


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["name"] for row in response.json()["results"]]


@pytest.fixture
def ring() -> dict[str, Merchant]:
    return {
        "near": make_merchant(
            name="Gần", lat=CENTER_LAT + KM / 2, rating_avg=Decimal("4.1"), rating_count=10
        ),
        "mid": make_merchant(
            name="Vừa", lat=CENTER_LAT - KM * Decimal("1.5"), rating_avg=Decimal("4.9"), rating_count=50
        ),
        "far": make_merchant(
            name="Xa",
            lng=CENTER_LNG + KM * 3,
            price_level=3,
            cuisines=["japanese"],
            rating_avg=Decimal("4.5"),
        ),
        "outside": make_merchant(name="Ngoài", lat=CENTER_LAT + KM * 8),
    }


def test_merchants_inside_the_radius_nearest_first(api_client: APIClient, ring: dict[str, Merchant]) -> None:
    response = nearby(api_client, radius_m=5000)
    assert names(response) == ["Gần", "Vừa", "Xa"]
    rows = response.json()["results"]
    for row in rows:
        merchant = Merchant.objects.get(pk=row["id"])
        expected = haversine_m(float(CENTER_LAT), float(CENTER_LNG), float(merchant.lat), float(merchant.lng))
        assert abs(row["distance_m"] - expected) <= 1
    assert [row["distance_m"] for row in rows] == sorted(row["distance_m"] for row in rows)


def test_a_smaller_radius_leaves_farther_merchants_out(
    api_client: APIClient, ring: dict[str, Merchant]
) -> None:
    assert names(nearby(api_client, radius_m=1000)) == ["Gần"]
    assert names(nearby(api_client, radius_m=20_000)) == ["Gần", "Vừa", "Xa", "Ngoài"]


def test_sort_by_rating(api_client: APIClient, ring: dict[str, Merchant]) -> None:
    assert names(nearby(api_client, sort="rating")) == ["Vừa", "Xa", "Gần"]


def test_cuisine_and_price_level_filters(api_client: APIClient, ring: dict[str, Merchant]) -> None:
    assert names(nearby(api_client, cuisine="japanese")) == ["Xa"]
    assert names(nearby(api_client, cuisine="japanese,vietnamese")) == ["Gần", "Vừa", "Xa"]
    assert names(
        api_client.get(f"/api/v1/merchants?lat={CENTER_LAT}&lng={CENTER_LNG}&price_level=1&price_level=2")
    ) == [
        "Gần",
        "Vừa",
    ]
    assert names(nearby(api_client, price_level="3")) == ["Xa"]


def test_open_now_leaves_out_closed_and_busy_merchants(
    api_client: APIClient, ring: dict[str, Merchant]
) -> None:
    ring["near"].opening_hours.all().delete()
    ring["mid"].is_busy = True
    ring["mid"].save()
    response = nearby(api_client, open_now="true")
    assert names(response) == ["Xa"]
    everything = {row["name"]: row for row in nearby(api_client).json()["results"]}
    assert (everything["Gần"]["is_open"], everything["Gần"]["accepting_orders"]) == (False, False)
    assert (
        everything["Vừa"]["is_open"],
        everything["Vừa"]["is_busy"],
        everything["Vừa"]["accepting_orders"],
    ) == (
        True,
        True,
        False,
    )


def test_unlisted_merchants_are_not_shown(api_client: APIClient, ring: dict[str, Merchant]) -> None:
    ring["near"].is_active = False
    ring["near"].save()
    assert names(nearby(api_client)) == ["Vừa", "Xa"]


def test_pages(api_client: APIClient, ring: dict[str, Merchant]) -> None:
    first = nearby(api_client, page_size=2).json()
    assert first["count"] == 3
    assert [row["name"] for row in first["results"]] == ["Gần", "Vừa"]
    assert first["previous"] is None
    assert "page=2" in first["next"]
    second = nearby(api_client, page_size=2, page=2).json()
    assert [row["name"] for row in second["results"]] == ["Xa"]
    assert second["next"] is None
    assert "page=" not in second["previous"]
    past_the_end = nearby(api_client, page_size=2, page=3)
    assert past_the_end.status_code == 404
    assert past_the_end.json()["error"]["code"] == "not_found"


def test_empty_neighbourhood_is_an_empty_first_page(api_client: APIClient) -> None:
    body = api_client.get("/api/v1/merchants", {"lat": "21.0", "lng": "105.8"}).json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}


def test_hand_built_rows_match_the_documented_serializer(
    api_client: APIClient, ring: dict[str, Merchant]
) -> None:
    make_item(ring["near"], "Phở gà", price_vnd=50_000)
    for row in nearby(api_client, q="pho").json()["results"] + nearby(api_client).json()["results"]:
        assert NearbyMerchantSerializer(row).data == row


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lat": "91"}, "lat"),
        ({"lng": "-181"}, "lng"),
        ({"lat": "abc"}, "lat"),
        ({"cuisine": "pizza"}, "cuisine"),
        ({"price_level": "5"}, "price_level"),
        ({"radius_m": "50"}, "radius_m"),
        ({"sort": "cheapest"}, "sort"),
    ],
)
def test_bad_parameters_get_the_error_shape(
    api_client: APIClient, ring: dict[str, Merchant], params: dict[str, str], field: str
) -> None:
    response = api_client.get("/api/v1/merchants", {"lat": CENTER_LAT, "lng": CENTER_LNG, **params})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]


def test_point_is_required(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/merchants")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"lat", "lng"}


def test_delivery_preview_prices_like_orders(api_client: APIClient) -> None:
    merchant = make_merchant(prep_minutes=20, delivery_radius_m=3000, min_order_vnd=50_000)
    lat, lng = CENTER_LAT + KM * Decimal("2.5"), CENTER_LNG
    response = api_client.get(f"/api/v1/merchants/{merchant.pk}/delivery-preview", {"lat": lat, "lng": lng})
    assert response.status_code == 200
    body = response.json()
    straight = haversine_m(float(CENTER_LAT), float(CENTER_LNG), float(lat), float(lng))
    assert body["distance_m"] == round(straight)
    assert body["road_distance_m"] == round(straight * 1.3)
    assert body["delivery_fee_vnd"] == delivery_fee_vnd(
        body["road_distance_m"], PricingConfig.from_settings()
    )
    assert body["delivery_fee_vnd"] == 20_000  # 2.9 km by road: the 2-4 km tier
    assert body["within_radius"] is True
    assert body["min_order_vnd"] == 50_000
    assert body["eta_minutes"] > 20


def test_delivery_preview_outside_the_radius_says_so(api_client: APIClient) -> None:
    merchant = make_merchant(delivery_radius_m=1000)
    response = api_client.get(
        f"/api/v1/merchants/{merchant.pk}/delivery-preview", {"lat": CENTER_LAT + KM * 5, "lng": CENTER_LNG}
    )
    assert response.json()["within_radius"] is False


def test_delivery_preview_of_unknown_merchant_or_bad_point(api_client: APIClient) -> None:
    missing = api_client.get("/api/v1/merchants/999999/delivery-preview", {"lat": "10.7", "lng": "106.7"})
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "merchant_not_found"
    merchant = make_merchant()
    bad = api_client.get(f"/api/v1/merchants/{merchant.pk}/delivery-preview", {"lat": "95", "lng": "106.7"})
    assert bad.status_code == 400
    assert "lat" in bad.json()["error"]["fields"]
