"""Opening hours in Asia/Ho_Chi_Minh: past midnight on both sides, closed dates, around the clock, busy.

2026-11-27 is a Friday (weekday 4), 2026-11-28 a Saturday. The clock is pinned to that week: the
merchant page keeps closed dates from yesterday on, measured from the real today.
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from merchants.catalog import NearbyQuery, merchant_page, nearby_merchants
from merchants.models import ClosedDate, Merchant, OpeningHours
from merchants.selectors import LOCAL_TZ, is_open_now
from tests.merchants.factories import CENTER_LAT, CENTER_LNG, make_merchant

pytestmark = pytest.mark.django_db

FRIDAY, SATURDAY = 4, 5


@pytest.fixture(autouse=True)
def _in_the_week_of_the_tests() -> Any:
    with time_machine.travel(datetime(2026, 11, 27, 9, 0, tzinfo=UTC), tick=True):
        yield


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment on 2026-11-<day> in Ho Chi Minh City."""
    return datetime(2026, 11, day, hour, minute, tzinfo=LOCAL_TZ)


def hours(merchant: Merchant, *intervals: tuple[int, time, time]) -> None:
    OpeningHours.objects.bulk_create(
        OpeningHours(merchant=merchant, weekday=weekday, opens_at=opens, closes_at=closes)
        for weekday, opens, closes in intervals
    )


def open_in_sql(merchant: Merchant, at: datetime) -> bool:
    query = NearbyQuery(lat=float(CENTER_LAT), lng=float(CENTER_LNG), radius_m=1000, at=at)
    rows = nearby_merchants(query, limit=100).rows
    return next(row["is_open"] for row in rows if row["id"] == merchant.pk)


def assert_open(merchant: Merchant, at: datetime, expected: bool) -> None:
    """Python (orders' check, the merchant page) and SQL (lists) agree, and say `expected`."""
    assert is_open_now(merchant, at=at) is expected, f"python at {at}"
    assert open_in_sql(merchant, at) is expected, f"sql at {at}"
    page = merchant_page(merchant.pk, at=at)
    assert page is not None
    assert page["is_open"] is expected, f"page at {at}"


@pytest.fixture
def night_market() -> Merchant:
    """Friday 22:00-02:00 only."""
    merchant = make_merchant(always_open=False, name="Ốc Đêm")
    hours(merchant, (FRIDAY, time(22), time(2)))
    return merchant


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (local(27, 21, 59), False),
        (local(27, 22, 0), True),
        (local(27, 23, 59), True),
        (local(28, 0, 0), True),
        (local(28, 1, 59), True),
        (local(28, 2, 0), False),
        (local(28, 22, 30), False),  # Saturday has no interval of its own
        (local(27, 1, 0), False),  # Thursday had no interval spilling into Friday
    ],
)
def test_past_midnight_interval_on_both_sides(
    night_market: Merchant, moment: datetime, expected: bool
) -> None:
    assert_open(night_market, moment, expected)


def test_a_closed_date_shuts_the_interval_starting_that_day_including_its_tail(
    night_market: Merchant,
) -> None:
    ClosedDate.objects.create(merchant=night_market, date=date(2026, 11, 27), reason="Nghỉ lễ")
    assert_open(night_market, local(27, 23), False)
    assert_open(night_market, local(28, 1), False)


def test_a_closed_date_the_next_day_keeps_the_tail_of_the_night_before(night_market: Merchant) -> None:
    ClosedDate.objects.create(merchant=night_market, date=date(2026, 11, 28))
    assert_open(night_market, local(28, 1), True)


def test_around_the_clock_interval_covers_the_whole_weekday(night_market: Merchant) -> None:
    hours(night_market, (SATURDAY, time(7), time(7)))
    for hour in (0, 3, 7, 12, 23):
        assert_open(night_market, local(28, hour), True)
    assert_open(night_market, local(29, 0, 30), False)  # Sunday: nothing spills over


def test_split_day_and_no_hours(api_client: APIClient) -> None:
    lunch_and_dinner = make_merchant(always_open=False)
    hours(lunch_and_dinner, (FRIDAY, time(10), time(14)), (FRIDAY, time(17), time(22)))
    assert_open(lunch_and_dinner, local(27, 13, 59), True)
    assert_open(lunch_and_dinner, local(27, 14), False)
    assert_open(lunch_and_dinner, local(27, 17), True)
    never = make_merchant(always_open=False)
    assert_open(never, local(27, 12), False)


def test_time_zone_is_ho_chi_minh_city(night_market: Merchant) -> None:
    # 15:30 UTC on Friday is 22:30 in Ho Chi Minh City (UTC+7): open; 14:30 UTC is 21:30: not yet.
    assert is_open_now(night_market, at=datetime(2026, 11, 27, 15, 30, tzinfo=UTC)) is True
    assert open_in_sql(night_market, datetime(2026, 11, 27, 15, 30, tzinfo=UTC)) is True
    assert is_open_now(night_market, at=datetime(2026, 11, 27, 14, 30, tzinfo=UTC)) is False
    assert open_in_sql(night_market, datetime(2026, 11, 27, 14, 30, tzinfo=UTC)) is False


def test_sql_and_python_agree_over_a_week_of_quarter_hours() -> None:
    merchant = make_merchant(always_open=False)
    hours(
        merchant,
        (0, time(6), time(10)),
        (0, time(18), time(1, 30)),
        (2, time(0), time(0)),
        (4, time(23, 45), time(0, 15)),
        (6, time(20), time(3)),  # Sunday night into Monday
    )
    ClosedDate.objects.create(merchant=merchant, date=date(2026, 11, 25))  # a Wednesday
    start = local(23, 0)  # Monday
    for step in range(7 * 24 * 4 + 8):
        moment = start + timedelta(minutes=15 * step)
        assert is_open_now(merchant, at=moment) is open_in_sql(merchant, moment), moment


def test_busy_switch_keeps_hours_but_stops_orders(api_client: APIClient, night_market: Merchant) -> None:
    night_market.is_busy = True
    night_market.save()
    page = merchant_page(night_market.pk, at=local(27, 23))
    assert page is not None
    assert (page["is_open"], page["is_busy"], page["accepting_orders"]) == (True, True, False)
    query = NearbyQuery(
        lat=float(CENTER_LAT), lng=float(CENTER_LNG), radius_m=1000, open_now=True, at=local(27, 23)
    )
    assert night_market.pk not in [row["id"] for row in nearby_merchants(query).rows]


def test_the_page_says_open_now_fresh_from_the_cache(night_market: Merchant) -> None:
    first: Any = merchant_page(night_market.pk, at=local(27, 23))
    second: Any = merchant_page(night_market.pk, at=local(28, 3))
    assert (first["is_open"], second["is_open"]) == (True, False)
