"""Writes that race: two tablets replacing the hours at once, two admins bulk-toggling the same dishes."""

from collections.abc import Callable
from datetime import time

import pytest

from merchants import services
from merchants.models import MenuItem, OpeningHours
from tests.concurrency import race
from tests.merchants.factories import make_item, make_merchant

pytestmark = pytest.mark.django_db(transaction=True)


def raised(*calls: Callable[[], object]) -> list[BaseException]:
    """Race the calls (`tests.concurrency.race`); return what they raised."""
    return [result for result in race(calls) if isinstance(result, BaseException)]


def week(opens: int, closes: int) -> list[services.Interval]:
    return [services.Interval(weekday=day, opens_at=time(opens), closes_at=time(closes)) for day in range(7)]


def test_concurrent_hour_replacements_leave_one_whole_week() -> None:
    merchant = make_merchant()
    early, late = week(6, 14), week(14, 23)
    for _ in range(3):
        errors = raised(
            lambda: services.replace_opening_hours(merchant_id=merchant.pk, intervals=early),
            lambda: services.replace_opening_hours(merchant_id=merchant.pk, intervals=late),
        )
        assert errors == []
        rows = sorted(
            (row.weekday, row.opens_at, row.closes_at)
            for row in OpeningHours.objects.filter(merchant=merchant)
        )
        assert rows in (
            sorted((i.weekday, i.opens_at, i.closes_at) for i in early),
            sorted((i.weekday, i.opens_at, i.closes_at) for i in late),
        )


def test_concurrent_bulk_toggles_do_not_deadlock() -> None:
    merchant = make_merchant()
    items = [make_item(merchant, f"Món {n}") for n in range(20)]
    ids = [item.pk for item in items]
    errors = raised(
        lambda: services.set_items_availability(item_ids=ids, is_available=False),
        lambda: services.set_items_availability(item_ids=list(reversed(ids)), is_available=False),
    )
    assert errors == []
    assert not MenuItem.objects.filter(pk__in=ids, is_available=True).exists()
