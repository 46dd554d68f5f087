"""Input and output shapes of the catalog and merchant-tablet APIs."""

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from loship.api_schema import raises
from merchants.catalog import MAX_QUERY_WORDS, Sort
from merchants.errors import MerchantErrors
from merchants.favourites import MerchantState
from merchants.models import Cuisine, FavouriteDish, FavouriteMerchant
from merchants.photos import photo_fields
from users.api.serializers import StrictSerializer


class CommaSeparatedListField(serializers.ListField):
    """A list from repeated query parameters or comma-separated values (`cuisine=rice,noodles`)."""

    def to_internal_value(self, data: Any) -> list[Any]:
        if isinstance(data, str):
            data = [data]
        if isinstance(data, list):
            data = [part.strip() for value in data for part in str(value).split(",") if part.strip()]
        return super().to_internal_value(data)


class PointInputSerializer(serializers.Serializer):
    lat = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=Decimal(-90), max_value=Decimal(90)
    )
    lng = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=Decimal(-180), max_value=Decimal(180)
    )


MAX_PAGE = 10_000


class NearbyInputSerializer(PointInputSerializer):
    radius_m = serializers.IntegerField(min_value=100, max_value=30_000, default=5_000)
    sort = serializers.ChoiceField(choices=Sort.CHOICES, default=Sort.DISTANCE)
    open_now = serializers.BooleanField(default=False)
    cuisine = CommaSeparatedListField(
        child=serializers.ChoiceField(choices=Cuisine.choices), required=False, default=list, max_length=20
    )
    price_level = CommaSeparatedListField(
        child=serializers.IntegerField(min_value=1, max_value=4), required=False, default=list, max_length=4
    )
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=100,
        help_text=f"Merchant or dish name; accents and case are ignored, words match by prefix "
        f"(first {MAX_QUERY_WORDS} words).",
    )
    # Bounded so that (page - 1) * page_size stays far inside PostgreSQL's bigint OFFSET.
    page = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)


class MatchedDishSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    price_vnd = serializers.IntegerField()
    is_available = serializers.BooleanField()


class PhotoSerializer(serializers.Serializer):
    """An uploaded photo's sized variants, made once when it was uploaded (merchants.photos). URLs are
    absolute on S3 storage, site-relative (`/media/...`) on the filesystem; none is ever enlarged."""

    thumbnail = serializers.CharField(help_text="240x240, cropped square")
    list = serializers.CharField(help_text="800x600, cropped 4:3")
    full = serializers.CharField(help_text="The whole photo within 1600x1600")


COVER_IMAGE_URL_HELP = "The uploaded cover's `full` variant if there is one, else the URL the merchant typed"
IMAGE_URL_HELP = "The uploaded photo's `full` variant if there is one, else the URL the merchant typed"


class MerchantSummarySerializer(serializers.Serializer):
    """What both the nearby list and the merchant page say about a merchant."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    address = serializers.CharField()
    lat = serializers.DecimalField(max_digits=9, decimal_places=6)
    lng = serializers.DecimalField(max_digits=9, decimal_places=6)
    cuisines = serializers.ListField(child=serializers.ChoiceField(choices=Cuisine.choices))
    price_level = serializers.IntegerField()
    cover_image_url = serializers.CharField(help_text=COVER_IMAGE_URL_HELP)
    cover_photo = PhotoSerializer(allow_null=True, help_text="Null when no cover was uploaded")
    rating_avg = serializers.DecimalField(max_digits=3, decimal_places=2)
    rating_count = serializers.IntegerField()
    min_order_vnd = serializers.IntegerField()
    prep_minutes = serializers.IntegerField()
    delivery_radius_m = serializers.IntegerField()
    is_open = serializers.BooleanField(help_text="Within its opening hours now")
    is_busy = serializers.BooleanField()
    accepting_orders = serializers.BooleanField(help_text="Open and not busy")


class NearbyMerchantSerializer(MerchantSummarySerializer):
    """One merchant of the nearby list. Documents (and tests pin) what `nearby_row` builds by hand."""

    distance_m = serializers.IntegerField(help_text="Straight-line distance from the point")
    matched_dishes = MatchedDishSerializer(many=True, help_text="Dishes matching `q` (a few per merchant)")


def nearby_row(row: dict[str, Any], dishes: list[dict[str, Any]]) -> dict[str, Any]:
    """A row of `merchants.catalog.nearby_merchants` as the API shows it (the hot path skips DRF fields)."""
    return {
        "id": row["id"],
        "name": row["name"],
        "slug": row["slug"],
        "address": row["address"],
        "lat": str(row["lat"]),
        "lng": str(row["lng"]),
        "cuisines": row["cuisines"],
        "price_level": row["price_level"],
        **photo_fields(
            url_key="cover_image_url",
            photo_key="cover_photo",
            typed_url=row["cover_image_url"],
            variants=row["cover_photo_variants"],
        ),
        "rating_avg": str(row["rating_avg"]),
        "rating_count": row["rating_count"],
        "min_order_vnd": row["min_order_vnd"],
        "prep_minutes": row["prep_minutes"],
        "delivery_radius_m": row["delivery_radius_m"],
        "distance_m": round(row["distance_m"]),
        "is_open": row["is_open"],
        "is_busy": row["is_busy"],
        "accepting_orders": row["is_open"] and not row["is_busy"],
        "matched_dishes": dishes,
    }


# --- Favourites ------------------------------------------------------------------------------------


class FavouritesInputSerializer(StrictSerializer):
    """Where the customer is, to say how far each favourite is (optional), and the page."""

    lat = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=Decimal(-90), max_value=Decimal(90), required=False
    )
    lng = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=Decimal(-180), max_value=Decimal(180), required=False
    )
    page = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("lat" in attrs) != ("lng" in attrs):
            missing = "lng" if "lat" in attrs else "lat"
            raise serializers.ValidationError({missing: ["Give lat and lng together."]}, code="required")
        return attrs


class FavouriteMerchantSerializer(MerchantSummarySerializer):
    """A favourite merchant as the customer's list shows it. Documents (and tests pin) what
    `favourite_merchant_row` builds."""

    distance_m = serializers.IntegerField(
        allow_null=True, help_text="Straight-line distance from lat/lng (null when none was given)"
    )
    within_radius = serializers.BooleanField(allow_null=True, help_text="Delivers to lat/lng")
    favourited_at = serializers.DateTimeField()


class FavouriteDishMerchantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    is_open = serializers.BooleanField()
    accepting_orders = serializers.BooleanField()
    distance_m = serializers.IntegerField(allow_null=True)
    within_radius = serializers.BooleanField(allow_null=True)


class FavouriteDishSerializer(serializers.Serializer):
    """A favourite dish with its merchant's state now. Documents what `favourite_dish_row` builds."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    price_vnd = serializers.IntegerField()
    image_url = serializers.CharField(help_text=IMAGE_URL_HELP)
    photo = PhotoSerializer(allow_null=True, help_text="Null when no photo was uploaded")
    is_available = serializers.BooleanField()
    merchant = FavouriteDishMerchantSerializer()
    favourited_at = serializers.DateTimeField()


_DATETIME = serializers.DateTimeField()


def favourite_merchant_row(favourite: FavouriteMerchant, state: MerchantState) -> dict[str, Any]:
    merchant = favourite.merchant
    return {
        "id": merchant.pk,
        "name": merchant.name,
        "slug": merchant.slug,
        "address": merchant.address,
        "lat": str(merchant.lat),
        "lng": str(merchant.lng),
        "cuisines": list(merchant.cuisines),
        "price_level": merchant.price_level,
        **photo_fields(
            url_key="cover_image_url",
            photo_key="cover_photo",
            typed_url=merchant.cover_image_url,
            variants=merchant.cover_photo_variants,
        ),
        "rating_avg": str(merchant.rating_avg),
        "rating_count": merchant.rating_count,
        "min_order_vnd": merchant.min_order_vnd,
        "prep_minutes": merchant.prep_minutes,
        "delivery_radius_m": merchant.delivery_radius_m,
        "is_open": state.is_open,
        "is_busy": merchant.is_busy,
        "accepting_orders": state.accepting_orders,
        "distance_m": state.distance_m,
        "within_radius": state.within_radius,
        "favourited_at": _DATETIME.to_representation(favourite.created_at),
    }


def favourite_dish_row(favourite: FavouriteDish, state: MerchantState) -> dict[str, Any]:
    item = favourite.item
    return {
        "id": item.pk,
        "name": item.name,
        "description": item.description,
        "price_vnd": item.price_vnd,
        **photo_fields(
            url_key="image_url", photo_key="photo", typed_url=item.image_url, variants=item.photo_variants
        ),
        "is_available": item.is_available,
        "merchant": {
            "id": item.merchant_id,
            "name": item.merchant.name,
            "is_open": state.is_open,
            "accepting_orders": state.accepting_orders,
            "distance_m": state.distance_m,
            "within_radius": state.within_radius,
        },
        "favourited_at": _DATETIME.to_representation(favourite.created_at),
    }


class OptionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    price_delta_vnd = serializers.IntegerField()
    is_available = serializers.BooleanField()


class OptionGroupOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    is_required = serializers.BooleanField()
    min_select = serializers.IntegerField()
    max_select = serializers.IntegerField()
    options = OptionOutputSerializer(many=True)


class MenuItemOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    price_vnd = serializers.IntegerField()
    image_url = serializers.CharField(help_text=IMAGE_URL_HELP)
    photo = PhotoSerializer(allow_null=True, help_text="Null when no photo was uploaded")
    is_available = serializers.BooleanField()
    option_groups = OptionGroupOutputSerializer(many=True)


class MenuSectionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="null for dishes outside any category")
    name = serializers.CharField()
    items = MenuItemOutputSerializer(many=True)


@extend_schema_field({"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "07:30"})
class ClockTimeField(serializers.TimeField):
    """A wall-clock time as HH:MM (OpenAPI's `format: time` would demand seconds and an offset)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", **kwargs)


class OpeningIntervalSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6, help_text="0 = Monday ... 6 = Sunday")
    opens_at = ClockTimeField(help_text="Local time (Asia/Ho_Chi_Minh), HH:MM")
    closes_at = ClockTimeField(
        help_text="HH:MM; at or before `opens_at` runs past midnight, equal to it means around the clock",
    )


class ClosedDateSerializer(serializers.Serializer):
    date = serializers.DateField()
    reason = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")


class MerchantPageSerializer(MerchantSummarySerializer):
    """The merchant page; documents the body the view renders from the cached plain data."""

    description = serializers.CharField()
    phone = serializers.CharField()
    opening_hours = OpeningIntervalSerializer(many=True)
    closed_dates = ClosedDateSerializer(many=True)
    menu = MenuSectionOutputSerializer(many=True)


class DeliveryPreviewOutputSerializer(serializers.Serializer):
    merchant_id = serializers.IntegerField()
    distance_m = serializers.IntegerField(help_text="Straight-line distance")
    road_distance_m = serializers.IntegerField(help_text="Estimated road distance, which the fee uses")
    delivery_radius_m = serializers.IntegerField()
    within_radius = serializers.BooleanField()
    delivery_fee_vnd = serializers.IntegerField()
    eta_minutes = serializers.IntegerField(help_text="Preparation + travel + handover, from now")
    min_order_vnd = serializers.IntegerField()


# --- Merchant tablet ----------------------------------------------------------------------------


class AvailabilityInputSerializer(StrictSerializer):
    is_available = serializers.BooleanField()


class AvailabilityOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    is_available = serializers.BooleanField()


class BusyInputSerializer(StrictSerializer):
    is_busy = serializers.BooleanField()


class MyMerchantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    role = serializers.CharField(help_text="owner, manager, staff; ops for operations staff")
    is_busy = serializers.BooleanField()
    is_active = serializers.BooleanField()


class HoursInputSerializer(StrictSerializer):
    intervals = serializers.ListField(child=OpeningIntervalSerializer(), max_length=50)
    closed_dates = serializers.ListField(
        child=ClosedDateSerializer(),
        required=False,
        max_length=366,
        help_text="If given, replaces the closed dates from today on",
    )


class HoursOutputSerializer(serializers.Serializer):
    merchant_id = serializers.IntegerField()
    intervals = OpeningIntervalSerializer(many=True)
    closed_dates = ClosedDateSerializer(many=True)


# --- Schema only: what each operation refuses with beside validation (see loship.api_schema) -----

#: The catalog's merchant pages, and the tablet's merchants (someone else's merchant is not found).
MERCHANT_NOT_FOUND_ERRORS = raises(MerchantErrors.MERCHANT_NOT_FOUND)
HOURS_REPLACE_ERRORS = raises(
    MerchantErrors.MERCHANT_NOT_FOUND, MerchantErrors.ROLE_REQUIRED, MerchantErrors.HOURS_OVERLAP
)
ITEM_AVAILABILITY_ERRORS = raises(MerchantErrors.ITEM_NOT_FOUND)
FAVOURITE_MERCHANT_ERRORS = raises(MerchantErrors.MERCHANT_NOT_FOUND)
FAVOURITE_DISH_ERRORS = raises(MerchantErrors.ITEM_NOT_FOUND)
OPTION_AVAILABILITY_ERRORS = raises(MerchantErrors.OPTION_NOT_FOUND)
