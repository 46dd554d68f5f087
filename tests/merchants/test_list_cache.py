"""The nearby list and the search: one statement each, cached per URL for the minute, and never
stale: a merchant that turns busy, closes by the clock, changes its hours or takes a closed day
leaves the list on the next request."""

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from merchants import services
from merchants.catalog import COUNT_CAP, RING_RADII_M
from merchants.geo import haversine_m
from merchants.models import ClosedDate, Merchant, OpeningHours
from merchants.selectors import LOCAL_TZ
from tests.conftest import authenticated_client
from tests.merchants.factories import CENTER_LAT, CENTER_LNG, make_item, make_merchant

pytestmark = pytest.mark.django_db

#: Friday 2026-11-27, 21:59:30 in Ho Chi Minh City.
FRIDAY_EVENING = datetime(2026, 11, 27, 21, 59, 30, tzinfo=LOCAL_TZ)


def listed(client: APIClient, **params: Any) -> list[str]:
    response = client.get("/api/v1/merchants", {"lat": CENTER_LAT, "lng": CENTER_LNG, **params})
    assert response.status_code == 200, response.json()
    return [row["name"] for row in response.json()["results"]]


def open_now(client: APIClient) -> list[str]:
    return listed(client, open_now="true")


@pytest.fixture
def street() -> dict[str, Merchant]:
    bun_bo = make_merchant(name="Bún Bò Huế Đông Ba")
    make_item(bun_bo, "Bún bò Huế đặc biệt")
    late = make_merchant(name="Quán Khuya", always_open=False)
    OpeningHours.objects.bulk_create(
        OpeningHours(merchant=late, weekday=day, opens_at=time(16), closes_at=time(22)) for day in range(7)
    )
    return {"bun_bo": bun_bo, "late": late}


def test_a_repeated_list_costs_no_query(api_client: APIClient, street: dict[str, Merchant]) -> None:
    with CaptureQueriesContext(connection) as cold:
        first = api_client.get("/api/v1/merchants", {"lat": CENTER_LAT, "lng": CENTER_LNG, "q": "bun bo hue"})
    with CaptureQueriesContext(connection) as warm:
        again = api_client.get("/api/v1/merchants", {"lat": CENTER_LAT, "lng": CENTER_LNG, "q": "bun bo hue"})
    assert len(cold.captured_queries) == 1  # the page, its count and its matching dishes in one statement
    assert len(warm.captured_queries) == 0
    assert again.content == first.content
    assert first.json()["results"][0]["matched_dishes"][0]["name"] == "Bún bò Huế đặc biệt"


def test_a_signed_in_customer_costs_no_query(customer: Any, street: dict[str, Merchant]) -> None:
    client = authenticated_client(customer)
    with CaptureQueriesContext(connection) as cold:
        open_now(client)
    assert len(cold.captured_queries) == 1  # no user row: the catalog is the same for everyone


def test_the_cached_body_is_the_built_body(api_client: APIClient, street: dict[str, Merchant]) -> None:
    url = f"/api/v1/merchants?lat={CENTER_LAT}&lng={CENTER_LNG}&page_size=1"
    cached = api_client.get(url)
    cache.clear()
    built = api_client.get(url)
    assert cached.content == built.content
    assert built.json()["count"] == 2
    assert "page=2" in built.json()["next"]


def test_a_merchant_turning_busy_drops_out_at_once(
    api_client: APIClient, street: dict[str, Merchant], django_capture_on_commit_callbacks: Any
) -> None:
    assert "Bún Bò Huế Đông Ba" in open_now(api_client)
    with django_capture_on_commit_callbacks(execute=True):
        services.set_busy(merchant_id=street["bun_bo"].pk, is_busy=True)
    assert "Bún Bò Huế Đông Ba" not in open_now(api_client)
    with django_capture_on_commit_callbacks(execute=True):
        services.set_busy(merchant_id=street["bun_bo"].pk, is_busy=False)
    assert "Bún Bò Huế Đông Ba" in open_now(api_client)


def test_a_merchant_closing_by_the_clock_drops_out_on_the_minute(
    api_client: APIClient, street: dict[str, Merchant]
) -> None:
    with time_machine.travel(FRIDAY_EVENING, tick=False):
        assert "Quán Khuya" in open_now(api_client)
    with time_machine.travel(FRIDAY_EVENING + timedelta(seconds=30), tick=False):  # 22:00:00
        assert "Quán Khuya" not in open_now(api_client)


def test_new_hours_show_on_the_next_read(
    api_client: APIClient, street: dict[str, Merchant], django_capture_on_commit_callbacks: Any
) -> None:
    with time_machine.travel(FRIDAY_EVENING, tick=False):
        assert "Quán Khuya" in open_now(api_client)
        with django_capture_on_commit_callbacks(execute=True):
            services.replace_opening_hours(
                merchant_id=street["late"].pk,
                intervals=[services.Interval(weekday=4, opens_at=time(6), closes_at=time(21))],
            )
        assert "Quán Khuya" not in open_now(api_client)


def test_a_closed_day_shows_on_the_next_read(
    api_client: APIClient, street: dict[str, Merchant], django_capture_on_commit_callbacks: Any
) -> None:
    with time_machine.travel(FRIDAY_EVENING, tick=False):
        assert "Quán Khuya" in open_now(api_client)
        with django_capture_on_commit_callbacks(execute=True):
            closed = ClosedDate.objects.create(merchant=street["late"], date=date(2026, 11, 27))
        assert "Quán Khuya" not in open_now(api_client)
        with django_capture_on_commit_callbacks(execute=True):
            closed.delete()
        assert "Quán Khuya" in open_now(api_client)


def test_a_renamed_dish_shows_in_the_search_at_once(
    api_client: APIClient, street: dict[str, Merchant], django_capture_on_commit_callbacks: Any
) -> None:
    assert listed(api_client, q="bun bo hue") == ["Bún Bò Huế Đông Ba"]
    assert listed(api_client, q="bun rieu") == []
    item = street["bun_bo"].items.get()
    with django_capture_on_commit_callbacks(execute=True):
        item.name = "Bún riêu cua"
        item.save()
    assert listed(api_client, q="bun rieu") == ["Bún Bò Huế Đông Ba"]


def test_invalid_parameters_are_never_cached(api_client: APIClient, street: dict[str, Merchant]) -> None:
    for _ in range(2):
        response = api_client.get("/api/v1/merchants", {"lat": "north", "lng": CENTER_LNG})
        assert response.status_code == 400


def test_without_redis_the_list_comes_from_the_database(
    api_client: APIClient, street: dict[str, Merchant], settings: Any
) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    assert listed(api_client, q="bun bo") == ["Bún Bò Huế Đông Ba"]


def test_the_schedule_columns_follow_every_write(street: dict[str, Merchant]) -> None:
    """The database keeps the open spans current for bulk writes and deletes too (no signal needed)."""
    late = street["late"]

    def spans() -> tuple[str, str, list[date]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT open_spans::text, spill_spans::text, closed_on FROM merchants_merchant WHERE id = %s",
                [late.pk],
            )
            row = cursor.fetchone()
        return row[0], row[1], row[2]

    assert spans()[0].startswith("{[57600,79200)")  # Monday 16:00-22:00
    OpeningHours.objects.filter(merchant=late).update(closes_at=time(2))  # now past midnight
    assert spans()[0].startswith("{[57600,86400)") and spans()[1].startswith("{[0,7200)")  # Sunday's tail
    OpeningHours.objects.filter(merchant=late).delete()
    ClosedDate.objects.create(merchant=late, date=date(2027, 2, 6))
    assert spans() == ("{}", "{}", [date(2027, 2, 6)])


def test_the_nearby_list_agrees_with_the_merchant_page_all_week(
    api_client: APIClient, street: dict[str, Merchant]
) -> None:
    """Every hour of a week, the list's open-now and the page's open-now say the same."""
    start = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)
    for hour in range(0, 7 * 24, 5):
        with time_machine.travel(start + timedelta(hours=hour), tick=False):
            rows = api_client.get("/api/v1/merchants", {"lat": CENTER_LAT, "lng": CENTER_LNG}).json()[
                "results"
            ]
            for row in rows:
                page = api_client.get(f"/api/v1/merchants/{row['id']}").json()
                assert row["is_open"] == page["is_open"], (row["name"], start + timedelta(hours=hour))


def test_a_dense_street_lists_the_nearest_first_with_the_count_capped(api_client: APIClient) -> None:
    """Where merchants are dense the list reads a small ring around the point; the page is still the
    exact nearest, `count` stops at COUNT_CAP, and the pages go on past it to the last merchant."""
    rng = random.Random(5)
    merchants = Merchant.objects.bulk_create(
        Merchant(
            name=f"Quán {n}",
            slug=f"dense-{n}",
            address="Quận 1",
            # A dense street within about 1.2 km, then a few farther out (2.8-4.4 km).
            lat=CENTER_LAT
            + Decimal(f"{rng.uniform(-0.008, 0.008) if n < 110 else rng.uniform(0.025, 0.04):.6f}"),
            lng=CENTER_LNG + Decimal(f"{rng.uniform(-0.008, 0.008):.6f}"),
        )
        for n in range(130)
    )
    OpeningHours.objects.bulk_create(
        OpeningHours(merchant=m, weekday=day, opens_at=time(0), closes_at=time(0))
        for m in merchants
        for day in range(7)
    )
    within = sorted(
        (haversine_m(float(CENTER_LAT), float(CENTER_LNG), float(m.lat), float(m.lng)), m.pk)
        for m in merchants
        if haversine_m(float(CENTER_LAT), float(CENTER_LNG), float(m.lat), float(m.lng)) <= 5_000
    )
    assert len(within) == 130 and within[109][0] < RING_RADII_M[-1] < within[110][0]

    seen: list[int] = []
    url: str | None = f"/api/v1/merchants?lat={CENTER_LAT}&lng={CENTER_LNG}&open_now=true&page_size=20"
    while url:
        body = api_client.get(url).json()
        assert body["count"] == COUNT_CAP
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert seen == [pk for _, pk in within]
