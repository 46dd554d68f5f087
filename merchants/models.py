"""Merchants, their opening hours and their menus.

Menus are category -> item -> option group -> option. Items hang off the merchant directly (the
category is how the menu is shown, not who owns the item), so an item never leaks to another merchant
through a category move. Text that customers search keeps a normalized twin (`search_text`), computed
in Python on save (see `merchants.search.normalize`), so a search never depends on database extensions.

Each merchant row also carries its weekly schedule as columns the ORM does not know (`open_spans`,
`spill_spans`, `closed_on`): triggers keep them current from the opening hours and closed dates, and
the nearby list tests open-now on them (migration 0003, `merchants.catalog`).
"""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from merchants.search import normalize


def _leave_photo_columns(
    instance: models.Model, photo_fields: tuple[str, str], kwargs: dict[str, Any]
) -> None:
    """Make a full save of an existing row write every column but the photo's: those change only
    through `merchants.services` (under a row lock), so a form or inline holding a row read before an
    upload never writes the replaced photo's names back over the new one."""
    if instance._state.adding or kwargs.get("update_fields") is not None or kwargs.get("force_insert"):
        return
    kwargs["update_fields"] = [
        field.name
        for field in instance._meta.concrete_fields
        if not field.primary_key and field.name not in photo_fields
    ]


class Cuisine(models.TextChoices):
    VIETNAMESE = "vietnamese", "Món Việt"
    NOODLES = "noodles", "Bún / Phở / Mì"
    RICE = "rice", "Cơm"
    BANH_MI = "banh_mi", "Bánh mì"
    SEAFOOD = "seafood", "Hải sản"
    VEGETARIAN = "vegetarian", "Món chay"
    DRINKS = "drinks", "Đồ uống"
    COFFEE = "coffee", "Cà phê"
    DESSERT = "dessert", "Tráng miệng / Chè"
    SNACKS = "snacks", "Ăn vặt"
    HOTPOT = "hotpot", "Lẩu"
    GRILL = "grill", "Nướng"
    FAST_FOOD = "fast_food", "Thức ăn nhanh"
    JAPANESE = "japanese", "Món Nhật"
    KOREAN = "korean", "Món Hàn"
    CHINESE = "chinese", "Món Hoa"
    THAI = "thai", "Món Thái"
    WESTERN = "western", "Món Âu"


LATITUDE_VALIDATORS = [MinValueValidator(Decimal("-90")), MaxValueValidator(Decimal("90"))]
LONGITUDE_VALIDATORS = [MinValueValidator(Decimal("-180")), MaxValueValidator(Decimal("180"))]


class Merchant(models.Model):
    name = models.CharField(max_length=120, verbose_name=_("name"))
    slug = models.SlugField(max_length=140, unique=True, verbose_name=_("slug"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    phone = models.CharField(max_length=20, blank=True, verbose_name=_("phone"))
    address = models.CharField(max_length=255, verbose_name=_("address"))
    lat = models.DecimalField(
        max_digits=9, decimal_places=6, validators=LATITUDE_VALIDATORS, verbose_name=_("lat")
    )
    lng = models.DecimalField(
        max_digits=9, decimal_places=6, validators=LONGITUDE_VALIDATORS, verbose_name=_("lng")
    )
    cuisines = ArrayField(
        models.CharField(max_length=20, choices=Cuisine.choices),
        default=list,
        blank=True,
        verbose_name=_("cuisines"),
    )
    price_level = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(4)],
        help_text=_("1 (cheap) to 4."),
        verbose_name=_("price level"),
    )
    cover_image_url = models.URLField(blank=True, verbose_name=_("cover image url"))
    #: An uploaded cover (merchants.photos): the cleaned original, and its sized variants' storage
    #: names. Set only through `services.set_cover_photo`; when set, it wins over `cover_image_url`.
    cover_photo = models.ImageField(
        max_length=255, blank=True, editable=False, db_default="", verbose_name=_("cover photo")
    )
    cover_photo_variants = models.JSONField(
        default=dict, db_default={}, blank=True, editable=False, verbose_name=_("cover photo variants")
    )
    min_order_vnd = models.PositiveBigIntegerField(
        default=0, help_text=_("Minimum subtotal, in dong."), verbose_name=_("min order vnd")
    )
    delivery_radius_m = models.PositiveIntegerField(
        default=5_000,
        validators=[MinValueValidator(100), MaxValueValidator(50_000)],
        verbose_name=_("delivery radius m"),
    )
    prep_minutes = models.PositiveSmallIntegerField(
        default=15, validators=[MinValueValidator(1), MaxValueValidator(180)], verbose_name=_("prep minutes")
    )
    is_busy = models.BooleanField(
        default=False, help_text=_("Busy or temporarily closed: takes no orders."), verbose_name=_("is busy")
    )
    is_active = models.BooleanField(
        default=True, help_text=_("Listed on the platform."), verbose_name=_("is active")
    )
    rating_count = models.PositiveIntegerField(default=0, verbose_name=_("rating count"))
    rating_sum = models.PositiveBigIntegerField(default=0, verbose_name=_("rating sum"))
    rating_avg = models.DecimalField(
        max_digits=3, decimal_places=2, default=Decimal("0"), verbose_name=_("rating avg")
    )
    search_text = models.TextField(blank=True, editable=False, verbose_name=_("search text"))
    commission_bps = models.PositiveSmallIntegerField(
        _("commission rate (basis points)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(10_000)],
        help_text=_(
            "The platform's commission on food sales, in basis points (2000 means 20 per cent). Empty: the "
            "platform default. A change applies to orders delivered from then on."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["lat", "lng"], name="merchant_position"),
            models.Index(fields=["is_active", "rating_avg"], name="merchant_rating"),
            GinIndex(SearchVector("search_text", config="simple"), name="merchant_search"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(lat__gte=-90, lat__lte=90), name="merchant_lat_range"),
            models.CheckConstraint(
                condition=models.Q(lng__gte=-180, lng__lte=180), name="merchant_lng_range"
            ),
            models.CheckConstraint(
                condition=models.Q(price_level__gte=1, price_level__lte=4), name="merchant_price_level"
            ),
            models.CheckConstraint(
                condition=models.Q(commission_bps__lte=10_000), name="merchant_commission_bps_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        _leave_photo_columns(self, ("cover_photo", "cover_photo_variants"), kwargs)
        self.search_text = normalize(" ".join([self.name, *self.cuisines]))
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"name", "cuisines"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "search_text"}
        super().save(*args, **kwargs)

    @property
    def commission_rate_bps(self) -> int:
        """The commission rate in force now: the merchant's own, else the platform default."""
        return settings.MERCHANT_COMMISSION_BPS if self.commission_bps is None else self.commission_bps

    def clean(self) -> None:
        unknown = sorted(set(self.cuisines) - set(Cuisine.values))
        if unknown:
            raise ValidationError({"cuisines": f"Unknown cuisine: {', '.join(unknown)}"})


class OpeningHours(models.Model):
    """One open interval on a weekday, in Asia/Ho_Chi_Minh. `closes_at <= opens_at` runs past midnight
    into the next day (22:00-02:00); `closes_at == opens_at` is open around the clock."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Thứ Hai"
        TUESDAY = 1, "Thứ Ba"
        WEDNESDAY = 2, "Thứ Tư"
        THURSDAY = 3, "Thứ Năm"
        FRIDAY = 4, "Thứ Sáu"
        SATURDAY = 5, "Thứ Bảy"
        SUNDAY = 6, "Chủ Nhật"

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="opening_hours", verbose_name=_("merchant")
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, verbose_name=_("weekday"))
    opens_at = models.TimeField(verbose_name=_("opens at"))
    closes_at = models.TimeField(verbose_name=_("closes at"))

    class Meta:
        verbose_name = _("opening hours")
        ordering = ["weekday", "opens_at"]
        verbose_name_plural = _("opening hours")
        indexes = [models.Index(fields=["merchant", "weekday"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(weekday__gte=0, weekday__lte=6), name="hours_weekday")
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}-{self.closes_at:%H:%M}"

    @property
    def crosses_midnight(self) -> bool:
        return self.closes_at <= self.opens_at


class ClosedDate(models.Model):
    """A day the merchant is closed (holiday, Tết); intervals starting that day do not open."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="closed_dates", verbose_name=_("merchant")
    )
    date = models.DateField(verbose_name=_("date"))
    reason = models.CharField(max_length=120, blank=True, verbose_name=_("reason"))

    class Meta:
        verbose_name = _("closed date")
        verbose_name_plural = _("closed dates")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["merchant", "date"], name="closed_date_once")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.reason}".strip()


class MenuCategory(models.Model):
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="categories", verbose_name=_("merchant")
    )
    name = models.CharField(max_length=80, verbose_name=_("name"))
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))

    class Meta:
        verbose_name = _("menu category")
        ordering = ["position", "id"]
        verbose_name_plural = _("menu categories")

    def __str__(self) -> str:
        return self.name


class MenuItem(models.Model):
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="items", verbose_name=_("merchant")
    )
    category = models.ForeignKey(
        MenuCategory,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="items",
        verbose_name=_("category"),
    )
    name = models.CharField(max_length=120, verbose_name=_("name"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    price_vnd = models.PositiveBigIntegerField(
        validators=[MaxValueValidator(100_000_000)], verbose_name=_("price vnd")
    )
    image_url = models.URLField(blank=True, verbose_name=_("image url"))
    #: An uploaded photo, as the merchant's cover (`set_dish_photo`); when set, it wins over `image_url`.
    photo = models.ImageField(
        max_length=255, blank=True, editable=False, db_default="", verbose_name=_("photo")
    )
    photo_variants = models.JSONField(
        default=dict, db_default={}, blank=True, editable=False, verbose_name=_("photo variants")
    )
    is_available = models.BooleanField(default=True, verbose_name=_("is available"))
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))
    search_text = models.TextField(blank=True, editable=False, verbose_name=_("search text"))

    class Meta:
        verbose_name = _("menu item")
        verbose_name_plural = _("menu items")
        ordering = ["position", "id"]
        indexes = [
            models.Index(fields=["merchant", "is_available"]),
            GinIndex(SearchVector("search_text", config="simple"), name="menu_item_search"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        _leave_photo_columns(self, ("photo", "photo_variants"), kwargs)
        self.search_text = normalize(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "search_text"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.category is not None and self.category.merchant_id != self.merchant_id:
            raise ValidationError({"category": "The category belongs to another merchant."})


class OptionGroup(models.Model):
    """A choice on an item (size, toppings): `min_select`..`max_select` options; required means >= 1."""

    item = models.ForeignKey(
        MenuItem, on_delete=models.CASCADE, related_name="option_groups", verbose_name=_("item")
    )
    name = models.CharField(max_length=80, verbose_name=_("name"))
    is_required = models.BooleanField(default=False, verbose_name=_("is required"))
    min_select = models.PositiveSmallIntegerField(default=0, verbose_name=_("min select"))
    max_select = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1)], verbose_name=_("max select")
    )
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))

    class Meta:
        verbose_name = _("option group")
        verbose_name_plural = _("option groups")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_select__lte=models.F("max_select")), name="option_group_min_le_max"
            ),
            models.CheckConstraint(condition=models.Q(max_select__gte=1), name="option_group_max_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.min_select > self.max_select:
            raise ValidationError({"min_select": "min_select cannot exceed max_select."})
        if self.is_required and self.min_select < 1:
            self.min_select = 1


class Option(models.Model):
    group = models.ForeignKey(
        OptionGroup, on_delete=models.CASCADE, related_name="options", verbose_name=_("group")
    )
    name = models.CharField(max_length=80, verbose_name=_("name"))
    price_delta_vnd = models.PositiveBigIntegerField(
        default=0, validators=[MaxValueValidator(10_000_000)], verbose_name=_("price delta vnd")
    )
    is_available = models.BooleanField(default=True, verbose_name=_("is available"))
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))

    class Meta:
        verbose_name = _("option")
        verbose_name_plural = _("options")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class StaffMembership(models.Model):
    """A person working for a merchant; what they may do in the admin and the tablet API."""

    class StaffRole(models.TextChoices):
        OWNER = "owner", _("Owner")
        MANAGER = "manager", _("Manager")
        STAFF = "staff", _("Staff")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="merchant_memberships",
        verbose_name=_("user"),
    )
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("merchant")
    )
    role = models.CharField(
        max_length=10, choices=StaffRole.choices, default=StaffRole.STAFF, verbose_name=_("role")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        constraints = [models.UniqueConstraint(fields=["user", "merchant"], name="staff_membership_once")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.merchant} ({self.role})"


#: Staff roles that may change a merchant's profile, hours and menu (plain staff may only look and
#: switch availability).
MANAGING_ROLES = frozenset({StaffMembership.StaffRole.OWNER, StaffMembership.StaffRole.MANAGER})


class FavouriteMerchant(models.Model):
    """A customer's saved merchant; once per (customer, merchant), so saving it again changes nothing."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="favourite_merchants",
        verbose_name=_("user"),
    )
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="+", verbose_name=_("merchant")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("favourite merchant")
        verbose_name_plural = _("favourite merchants")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "merchant"], name="favourite_merchant_once")]
        indexes = [models.Index(fields=["user", "-created_at", "-id"], name="favourite_merchant_list")]

    def __str__(self) -> str:
        return f"{self.user_id} ♥ {self.merchant_id}"


class FavouriteDish(models.Model):
    """A customer's saved dish; once per (customer, dish)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="favourite_dishes",
        verbose_name=_("user"),
    )
    item = models.ForeignKey(MenuItem, on_delete=models.CASCADE, related_name="+", verbose_name=_("item"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("favourite dish")
        ordering = ["-created_at", "-id"]
        verbose_name_plural = _("favourite dishes")
        constraints = [models.UniqueConstraint(fields=["user", "item"], name="favourite_dish_once")]
        indexes = [models.Index(fields=["user", "-created_at", "-id"], name="favourite_dish_list")]

    def __str__(self) -> str:
        return f"{self.user_id} ♥ item {self.item_id}"
