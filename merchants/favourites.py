"""A customer's favourite merchants and dishes: saving, removing and listing them.

Saving is idempotent: the pair is unique in the database and `get_or_create` answers a second save,
or a racing one, with the row already there; removing what is not saved removes nothing. A listing
says, for each merchant, whether it is open now (`merchants.selectors.open_at`, the one rule of
opening hours) and, given a point, how far it is (straight line, as the nearby list measures).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from merchants.errors import MerchantErrors
from merchants.geo import delivery_distance
from merchants.models import ClosedDate, FavouriteDish, FavouriteMerchant, MenuItem, Merchant
from merchants.selectors import LOCAL_TZ, open_at
from users.models import User


def save_favourite_merchant(*, user: User, merchant_id: int) -> tuple[FavouriteMerchant, bool]:
    """Save a listed merchant as the user's favourite; (the row, whether it is new). 404 if unlisted."""
    merchant = Merchant.objects.filter(pk=merchant_id, is_active=True).first()
    if merchant is None:
        raise MerchantErrors.MERCHANT_NOT_FOUND()
    return FavouriteMerchant.objects.get_or_create(user=user, merchant=merchant)


def remove_favourite_merchant(*, user: User, merchant_id: int) -> bool:
    """Forget the merchant from the user's favourites; False when it was not among them."""
    deleted, _ = FavouriteMerchant.objects.filter(user=user, merchant_id=merchant_id).delete()
    return bool(deleted)


def save_favourite_dish(*, user: User, item_id: int) -> tuple[FavouriteDish, bool]:
    """Save a dish of a listed merchant (sold out or not) as the user's favourite. 404 otherwise."""
    item = MenuItem.objects.filter(pk=item_id, merchant__is_active=True).first()
    if item is None:
        raise MerchantErrors.ITEM_NOT_FOUND()
    return FavouriteDish.objects.get_or_create(user=user, item=item)


def remove_favourite_dish(*, user: User, item_id: int) -> bool:
    """Forget the dish from the user's favourites; False when it was not among them."""
    deleted, _ = FavouriteDish.objects.filter(user=user, item_id=item_id).delete()
    return bool(deleted)


# --- Listing ----------------------------------------------------------------------------------------


def _schedule_prefetches(path: str, *, today: date) -> list[Prefetch]:
    """The merchant's hours and the closed dates that can matter now (an interval belongs to the day
    it starts, so yesterday's closure still shuts last night's tail)."""
    return [
        Prefetch(f"{path}opening_hours"),
        Prefetch(
            f"{path}closed_dates", queryset=ClosedDate.objects.filter(date__gte=today - timedelta(days=1))
        ),
    ]


def favourite_merchants(user: User) -> QuerySet[FavouriteMerchant]:
    """The user's favourite listed merchants, newest first, with what `merchant_state` reads."""
    today = timezone.now().astimezone(LOCAL_TZ).date()
    return (
        FavouriteMerchant.objects.filter(user=user, merchant__is_active=True)
        .select_related("merchant")
        .prefetch_related(*_schedule_prefetches("merchant__", today=today))
        .order_by("-created_at", "-id")
    )


def favourite_dishes(user: User) -> QuerySet[FavouriteDish]:
    """The user's favourite dishes of listed merchants, newest first, with what `merchant_state` reads."""
    today = timezone.now().astimezone(LOCAL_TZ).date()
    return (
        FavouriteDish.objects.filter(user=user, item__merchant__is_active=True)
        .select_related("item", "item__merchant")
        .prefetch_related(*_schedule_prefetches("item__merchant__", today=today))
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True, slots=True)
class MerchantState:
    is_open: bool
    accepting_orders: bool
    #: Straight-line metres from the asked point; None without one.
    distance_m: int | None
    within_radius: bool | None


def merchant_state(
    merchant: Merchant, *, at: datetime, lat: Decimal | None = None, lng: Decimal | None = None
) -> MerchantState:
    """Open now, accepting orders, and distance from (lat, lng), from a merchant read by the listings
    above (its hours and closed dates already prefetched: no query)."""
    is_open = open_at(
        merchant.opening_hours.all(),
        {closed.date for closed in merchant.closed_dates.all()},
        local=at.astimezone(LOCAL_TZ),
    )
    distance = None
    if lat is not None and lng is not None:
        distance = delivery_distance(merchant, lat=lat, lng=lng).straight_m
    return MerchantState(
        is_open=is_open,
        accepting_orders=is_open and not merchant.is_busy,
        distance_m=distance,
        within_radius=None if distance is None else distance <= merchant.delivery_radius_m,
    )
