"""Customers type without accents and in any case; search finds merchants by name and by dish."""

from typing import Any

import pytest
from django.contrib.postgres.search import SearchVector
from django.db import connection
from rest_framework.test import APIClient

from merchants.catalog import NearbyQuery, nearby_sql, search_query
from merchants.models import Merchant
from merchants.search import normalize
from tests.merchants.factories import CENTER_LAT, CENTER_LNG, make_item, make_merchant

pytestmark = pytest.mark.django_db


def search(client: APIClient, q: str, **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/merchants", {"lat": CENTER_LAT, "lng": CENTER_LNG, "q": q, **params})
    assert response.status_code == 200, response.json()
    return response.json()


def names(body: dict[str, Any]) -> list[str]:
    return [row["name"] for row in body["results"]]


@pytest.fixture
def city() -> dict[str, Any]:
    hue = make_merchant(name="Bún bò Huế Đông Ba", cuisines=["noodles"])
    make_item(hue, "Bún bò Huế đặc biệt", price_vnd=65_000)
    make_item(hue, "Chả cua", price_vnd=15_000)
    pho = make_merchant(name="Phở Lý Quốc Sư", cuisines=["noodles"])
    make_item(pho, "Phở tái nạm", price_vnd=60_000)
    chay = make_merchant(name="Quán Chay An Lạc", cuisines=["vegetarian"])
    make_item(chay, "Đậu hũ chiên sả", price_vnd=35_000)
    make_item(chay, "Đậu hũ non sốt nấm", price_vnd=40_000, is_available=False)
    make_item(chay, "Phở chay", price_vnd=40_000)
    com = make_merchant(name="Cơm Tấm Ba Ghiền", cuisines=["rice"])
    make_item(com, "Cơm tấm sườn bì chả", price_vnd=55_000)
    return {"hue": hue, "pho": pho, "chay": chay, "com": com}


def test_normalize_strips_accents_case_and_d_stroke() -> None:
    assert normalize("Bún bò Huế") == "bun bo hue"
    assert normalize("ĐẬU HŨ") == "dau hu"
    assert normalize("  Phở,  gà!! ") == "pho ga"


def test_bun_bo_hue_without_accents_finds_bun_bo_hue(api_client: APIClient, city: dict[str, Any]) -> None:
    body = search(api_client, "bun bo hue")
    assert names(body) == ["Bún bò Huế Đông Ba"]
    assert [d["name"] for d in body["results"][0]["matched_dishes"]] == ["Bún bò Huế đặc biệt"]


def test_pho_finds_merchants_named_pho_and_serving_pho(api_client: APIClient, city: dict[str, Any]) -> None:
    body = search(api_client, "pho")
    assert sorted(names(body)) == ["Phở Lý Quốc Sư", "Quán Chay An Lạc"]
    by_name = {row["name"]: row for row in body["results"]}
    assert [d["name"] for d in by_name["Quán Chay An Lạc"]["matched_dishes"]] == ["Phở chay"]
    assert [d["name"] for d in by_name["Phở Lý Quốc Sư"]["matched_dishes"]] == ["Phở tái nạm"]


def test_dau_hu_finds_dau_hu_dishes_and_reports_their_availability(
    api_client: APIClient, city: dict[str, Any]
) -> None:
    body = search(api_client, "dau hu")
    assert names(body) == ["Quán Chay An Lạc"]
    dishes = body["results"][0]["matched_dishes"]
    assert [(d["name"], d["is_available"]) for d in dishes] == [
        ("Đậu hũ chiên sả", True),
        ("Đậu hũ non sốt nấm", False),
    ]
    assert dishes[0]["price_vnd"] == 35_000


@pytest.mark.parametrize("q", ["BÚN BÒ HUẾ", "Bun Bo Hue", "bún bò huế", "BUN bò HUE"])
def test_case_and_accents_do_not_matter(api_client: APIClient, city: dict[str, Any], q: str) -> None:
    assert names(search(api_client, q)) == ["Bún bò Huế Đông Ba"]


@pytest.mark.parametrize("q", ["bu bo h", "com ta", "ghien", "dong ba"])
def test_partial_words_match_by_prefix(api_client: APIClient, city: dict[str, Any], q: str) -> None:
    assert len(names(search(api_client, q))) == 1


def test_word_order_does_not_matter(api_client: APIClient, city: dict[str, Any]) -> None:
    assert names(search(api_client, "hue bun")) == ["Bún bò Huế Đông Ba"]


def test_d_matches_d_stroke_both_ways(api_client: APIClient, city: dict[str, Any]) -> None:
    assert names(search(api_client, "đau hu")) == names(search(api_client, "dau hu")) == ["Quán Chay An Lạc"]


def test_every_word_must_match(api_client: APIClient, city: dict[str, Any]) -> None:
    assert names(search(api_client, "pho pizza")) == []
    assert names(search(api_client, "pizza")) == []


def test_search_by_cuisine_code(api_client: APIClient, city: dict[str, Any]) -> None:
    assert names(search(api_client, "vegetarian")) == ["Quán Chay An Lạc"]


def test_empty_or_symbol_only_query_lists_everything(api_client: APIClient, city: dict[str, Any]) -> None:
    assert len(names(search(api_client, ""))) == 4
    assert len(names(search(api_client, "!!! ???"))) == 4


def test_query_syntax_characters_are_harmless(api_client: APIClient, city: dict[str, Any]) -> None:
    assert names(search(api_client, "pho & | ! :* ('")) == names(search(api_client, "pho"))


def test_renamed_dish_is_found_under_its_new_name(api_client: APIClient, city: dict[str, Any]) -> None:
    item = city["com"].items.get()
    item.name = "Bánh canh cua"
    item.save()
    assert names(search(api_client, "banh canh")) == ["Cơm Tấm Ba Ghiền"]
    assert names(search(api_client, "suon bi")) == []


def test_search_combines_with_filters(api_client: APIClient, city: dict[str, Any]) -> None:
    assert names(search(api_client, "pho", cuisine="vegetarian")) == ["Quán Chay An Lạc"]


def test_search_uses_the_gin_indexes(city: dict[str, Any]) -> None:
    terms = search_query("pho")
    by_name = Merchant.objects.alias(vector=SearchVector("search_text", config="simple")).filter(vector=terms)
    query = NearbyQuery(lat=float(CENTER_LAT), lng=float(CENTER_LNG), radius_m=5000, q="pho")
    sql, params = nearby_sql(query, limit=20, offset=0)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        assert "merchant_search" in by_name.explain()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "menu_item_search" in plan


def test_changing_cuisines_alone_updates_the_search_text(api_client: APIClient, city: dict[str, Any]) -> None:
    merchant = city["com"]
    merchant.cuisines = ["thai"]
    merchant.save(update_fields=["cuisines"])
    assert names(search(api_client, "thai")) == ["Cơm Tấm Ba Ghiền"]
