"""Writes that race: two tablets replacing the hours at once, two admins bulk-toggling the same dishes,
photo uploads to one dish at once."""

import io
from collections.abc import Callable
from datetime import time
from pathlib import Path

import pytest

from merchants import services
from merchants.models import MenuItem, OpeningHours
from merchants.photos import PreparedPhoto, prepare_photo
from tests.concurrency import race
from tests.merchants.factories import make_item, make_merchant
from tests.merchants.photo_files import photo_bytes, stored_names

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


def test_concurrent_photo_uploads_leave_one_photo_and_no_stray_files(media_root: Path) -> None:
    """Four uploads to one dish at once, and an admin form saving the dish from a row read before
    them: the dish ends with one of the uploads, its files are the only ones stored, and the form's
    edit is kept."""
    merchant = make_merchant()
    item = make_item(merchant, "Bún chả")
    photos = [prepare_photo(io.BytesIO(photo_bytes(600 + 50 * n, 600)), size=1) for n in range(4)]
    stale = MenuItem.objects.get(pk=item.pk)
    stale.price_vnd = 55_000

    def upload(photo: PreparedPhoto) -> Callable[[], object]:
        return lambda: services.set_dish_photo(item_id=item.pk, photo=photo)

    for _ in range(2):
        assert raised(*(upload(photo) for photo in photos), stale.save) == []
        current = MenuItem.objects.get(pk=item.pk)
        assert current.price_vnd == 55_000
        assert stored_names(media_root) == {current.photo.name, *current.photo_variants.values()}
        assert len(current.photo_variants) == 3
