"""Every write to merchants and menus that is a business action. The admin edits rows through its
forms (the cache follows through signals); availability, the busy switch and opening hours go
through these functions from the admin actions and the tablet API alike.

Each function locks what it changes, records an outbox event in the same transaction, and leaves the
cached merchant page stale once it commits.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, time
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

from django.db import models, transaction

from loship.events.services import record_event
from merchants.cache import invalidate_merchant
from merchants.errors import MerchantErrors
from merchants.models import ClosedDate, MenuItem, Merchant, OpeningHours, Option
from merchants.photos import PreparedPhoto, StoredPhoto, delete_files, store_photo
from merchants.selectors import local_today

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY


@dataclass(frozen=True, slots=True)
class Interval:
    weekday: int
    opens_at: time
    closes_at: time


@dataclass(frozen=True, slots=True)
class Closure:
    date: date
    reason: str = ""


def record_merchant_rating(*, merchant_id: int, stars: int) -> Merchant:
    """Add one rating to the merchant's aggregate under a row lock, so concurrent ratings all count."""
    if not 1 <= stars <= 5:
        raise ValueError(f"stars must be 1..5, got {stars}")
    with transaction.atomic():
        merchant = Merchant.objects.select_for_update().get(pk=merchant_id)
        merchant.rating_count += 1
        merchant.rating_sum += stars
        merchant.rating_avg = (Decimal(merchant.rating_sum) / merchant.rating_count).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        merchant.save(update_fields=["rating_count", "rating_sum", "rating_avg", "updated_at"])
    return merchant


def _merchant_event(topic: str, merchant_id: int, **payload: object) -> None:
    record_event(
        topic=topic,
        aggregate_type="merchant",
        aggregate_id=merchant_id,
        payload={"merchant_id": merchant_id, **payload},
    )


def record_menu_changed(merchant_id: int, **payload: object) -> None:
    _merchant_event("merchant.menu_changed", merchant_id, **payload)


def set_item_availability(*, item_id: int, is_available: bool) -> MenuItem:
    """Mark one dish sold out or back in stock."""
    with transaction.atomic():
        item = MenuItem.objects.select_for_update().get(pk=item_id)
        if item.is_available != is_available:
            item.is_available = is_available
            item.save(update_fields=["is_available"])
            record_menu_changed(item.merchant_id, item_ids=[item.pk], is_available=is_available)
    return item


def set_option_availability(*, option_id: int, is_available: bool) -> Option:
    """Mark one option (a size, a topping) sold out or back in stock."""
    with transaction.atomic():
        option = Option.objects.select_for_update().select_related("group__item").get(pk=option_id)
        if option.is_available != is_available:
            option.is_available = is_available
            option.save(update_fields=["is_available"])
            record_menu_changed(
                option.group.item.merchant_id, option_ids=[option.pk], is_available=is_available
            )
    return option


def _announce_bulk_availability(rows: Sequence[tuple[int, int]], *, key: str, is_available: bool) -> None:
    """One menu-changed event and one cache invalidation per merchant of the changed (pk, merchant_id)
    rows: a queryset `update()` sends no signals, so the bulk functions say it themselves."""
    by_merchant: dict[int, list[int]] = {}
    for pk, merchant_id in rows:
        by_merchant.setdefault(merchant_id, []).append(pk)
    for merchant_id, pks in by_merchant.items():
        record_menu_changed(merchant_id, **{key: pks, "is_available": is_available})
        invalidate_merchant(merchant_id)


def set_items_availability(*, item_ids: Iterable[int], is_available: bool) -> int:
    """Bulk sold out / back in stock; returns how many dishes changed. Rows are locked in id order."""
    with transaction.atomic():
        items = list(
            MenuItem.objects.select_for_update()
            .filter(pk__in=list(item_ids))
            .exclude(is_available=is_available)
            .order_by("pk")
            .values_list("pk", "merchant_id")
        )
        MenuItem.objects.filter(pk__in=[pk for pk, _ in items]).update(is_available=is_available)
        _announce_bulk_availability(items, key="item_ids", is_available=is_available)
    return len(items)


def set_options_availability(*, option_ids: Iterable[int], is_available: bool) -> int:
    """Bulk sold out / back in stock for options; returns how many changed."""
    with transaction.atomic():
        options = list(
            Option.objects.select_for_update(of=("self",))
            .filter(pk__in=list(option_ids))
            .exclude(is_available=is_available)
            .order_by("pk")
            .values_list("pk", "group__item__merchant_id")
        )
        Option.objects.filter(pk__in=[pk for pk, _ in options]).update(is_available=is_available)
        _announce_bulk_availability(options, key="option_ids", is_available=is_available)
    return len(options)


def set_busy(*, merchant_id: int, is_busy: bool) -> Merchant:
    """Switch "busy / temporarily closed" on or off: a busy merchant takes no new orders."""
    with transaction.atomic():
        merchant = Merchant.objects.select_for_update().get(pk=merchant_id)
        if merchant.is_busy != is_busy:
            merchant.is_busy = is_busy
            merchant.save(update_fields=["is_busy", "updated_at"])
            record_event(
                topic="merchant.busy_changed",
                aggregate_type="merchant",
                aggregate_id=merchant.pk,
                payload={"merchant_id": merchant.pk, "is_busy": is_busy},
            )
    return merchant


PhotoOwner = TypeVar("PhotoOwner", Merchant, MenuItem)


def _replace_photo(
    rows: "models.QuerySet[PhotoOwner]",
    *,
    pk: int,
    folder: str,
    photo: PreparedPhoto | None,
    file_field: str,
    variants_field: str,
    announce: Callable[[PhotoOwner], None],
    extra_fields: Sequence[str] = (),
) -> PhotoOwner:
    """Store `photo` under `folder` (before the lock, so the row is locked only for the swap), point
    the locked row at it, `announce` the change, and remove the replaced files once the transaction
    commits. If the swap fails, the new files are removed instead. Concurrent replacements serialize
    on the row lock, and each removes exactly the files its predecessor stored: none is left behind."""
    stored: StoredPhoto | None = store_photo(photo, folder=folder) if photo is not None else None
    new_files = stored.names() if stored else []
    try:
        with transaction.atomic():
            row: PhotoOwner = rows.select_for_update().get(pk=pk)
            old_files = [getattr(row, file_field).name, *getattr(row, variants_field).values()]
            setattr(row, file_field, stored.original if stored else "")
            setattr(row, variants_field, stored.variants if stored else {})
            row.save(update_fields=[file_field, variants_field, *extra_fields])
            announce(row)
            transaction.on_commit(lambda: delete_files(old_files))
    except BaseException:
        delete_files(new_files)
        raise
    return row


def _photo_changed(merchant_id: int, **payload: object) -> None:
    _merchant_event("merchant.photo_changed", merchant_id, **payload)


def set_dish_photo(*, item_id: int, photo: PreparedPhoto | None) -> MenuItem:
    """Give the dish a new photo (`merchants.photos.prepare_photo`), or none; the replaced photo's
    files are removed once this commits, and the merchant's cached page goes stale (post_save)."""
    merchant_id = MenuItem.objects.values_list("merchant_id", flat=True).get(pk=item_id)
    return _replace_photo(
        MenuItem.objects.all(),
        pk=item_id,
        folder=f"merchants/{merchant_id}/dishes/{item_id}",
        photo=photo,
        file_field="photo",
        variants_field="photo_variants",
        announce=lambda item: _photo_changed(item.merchant_id, item_id=item.pk, has_photo=photo is not None),
    )


def set_cover_photo(*, merchant_id: int, photo: PreparedPhoto | None) -> Merchant:
    """Give the merchant a new cover photo, or none; as `set_dish_photo`."""
    return _replace_photo(
        Merchant.objects.all(),
        pk=merchant_id,
        folder=f"merchants/{merchant_id}/cover",
        photo=photo,
        file_field="cover_photo",
        variants_field="cover_photo_variants",
        announce=lambda merchant: _photo_changed(merchant.pk, cover=True, has_photo=photo is not None),
        extra_fields=["updated_at"],
    )


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _week_spans(interval: Interval) -> list[tuple[int, int]]:
    """The interval as [start, end) minutes of the week, split where it wraps past Sunday night."""
    opens, closes = _minutes(interval.opens_at), _minutes(interval.closes_at)
    length = MINUTES_PER_DAY if opens == closes else (closes - opens) % MINUTES_PER_DAY
    start = interval.weekday * MINUTES_PER_DAY + opens
    end = start + length
    if end <= MINUTES_PER_WEEK:
        return [(start, end)]
    return [(start, MINUTES_PER_WEEK), (0, end - MINUTES_PER_WEEK)]


def check_intervals(intervals: Sequence[Interval]) -> None:
    """Refuse intervals that overlap anywhere in the week (past-midnight tails included)."""
    reached = 0
    for start, end in sorted(span for interval in intervals for span in _week_spans(interval)):
        if start < reached:
            raise MerchantErrors.HOURS_OVERLAP(
                fields={"intervals": [MerchantErrors.HOURS_OVERLAP.text.render()]}
            )
        reached = max(reached, end)


def replace_opening_hours(
    *, merchant_id: int, intervals: Sequence[Interval], closures: Sequence[Closure] | None = None
) -> Merchant:
    """Replace the weekly hours (and, if given, the closed dates from today on) in one transaction.
    The hours and dates the merchant already has (a retried request) change nothing and announce nothing."""
    check_intervals(intervals)
    with transaction.atomic():
        merchant = Merchant.objects.select_for_update().get(pk=merchant_id)
        if _has_hours(merchant, intervals=intervals, closures=closures):
            return merchant
        OpeningHours.objects.filter(merchant=merchant).delete()
        OpeningHours.objects.bulk_create(
            OpeningHours(
                merchant=merchant, weekday=row.weekday, opens_at=row.opens_at, closes_at=row.closes_at
            )
            for row in intervals
        )
        if closures is not None:
            today = local_today()
            ClosedDate.objects.filter(merchant=merchant, date__gte=today).delete()
            ClosedDate.objects.bulk_create(
                ClosedDate(merchant=merchant, date=row.date, reason=row.reason)
                for row in {closure.date: closure for closure in closures}.values()
                if row.date >= today
            )
        record_event(
            topic="merchant.hours_changed",
            aggregate_type="merchant",
            aggregate_id=merchant.pk,
            payload={"merchant_id": merchant.pk},
        )
        invalidate_merchant(merchant.pk)
    return merchant


def _has_hours(
    merchant: Merchant, *, intervals: Sequence[Interval], closures: Sequence[Closure] | None
) -> bool:
    """Whether the locked merchant's hours (and closed dates from today on, when given) are these."""
    current = OpeningHours.objects.filter(merchant=merchant).values_list("weekday", "opens_at", "closes_at")
    if sorted(current) != sorted((row.weekday, row.opens_at, row.closes_at) for row in intervals):
        return False
    if closures is None:
        return True
    today = local_today()
    closed = ClosedDate.objects.filter(merchant=merchant, date__gte=today).values_list("date", "reason")
    wanted = {closure.date: closure.reason for closure in closures if closure.date >= today}
    return dict(closed) == wanted
