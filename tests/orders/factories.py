"""Builders for the orders tests: a merchant near District 1 with a small menu, carts, promotions."""

from dataclasses import dataclass
from datetime import time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from merchants.models import MenuItem, Merchant, OpeningHours, Option, OptionGroup, StaffMembership
from orders.models import Promotion
from tests.factories import UserFactory
from users.models import Role

MERCHANT_LAT = Decimal("10.776900")
MERCHANT_LNG = Decimal("106.700900")
# About 1.1 km north-east of the merchant, inside its radius.
NEAR_LAT = Decimal("10.785000")
NEAR_LNG = Decimal("106.707000")

_counter = iter(range(1, 1_000_000))


@dataclass
class Menu:
    merchant: Merchant
    pho: MenuItem  # 50 000, required size (1), optional toppings (max 2)
    size_group: OptionGroup
    size_large: Option  # +10 000
    size_small: Option  # +0
    toppings: OptionGroup
    egg: Option  # +5 000
    beef: Option  # +15 000
    tripe: Option  # +8 000, unavailable
    tea: MenuItem  # 10 000, no options


def make_merchant(**fields: Any) -> Merchant:
    n = next(_counter)
    defaults: dict[str, Any] = {
        "name": f"Phở Test {n}",
        "slug": f"pho-test-{n}",
        "lat": MERCHANT_LAT,
        "lng": MERCHANT_LNG,
        "address": "1 Lê Lợi, Quận 1",
        "phone": "+842838000000",
        "min_order_vnd": 40_000,
        "delivery_radius_m": 5_000,
        "prep_minutes": 15,
        "is_active": True,
    }
    defaults.update(fields)
    merchant = Merchant.objects.create(**defaults)
    OpeningHours.objects.bulk_create(
        OpeningHours(merchant=merchant, weekday=day, opens_at=time(0), closes_at=time(0)) for day in range(7)
    )
    return merchant


def make_menu(merchant: Merchant | None = None) -> Menu:
    merchant = merchant or make_merchant()
    pho = MenuItem.objects.create(merchant=merchant, name="Phở bò", price_vnd=50_000, is_available=True)
    size = OptionGroup.objects.create(item=pho, name="Size", is_required=True, min_select=1, max_select=1)
    large = Option.objects.create(group=size, name="Lớn", price_delta_vnd=10_000)
    small = Option.objects.create(group=size, name="Nhỏ", price_delta_vnd=0)
    toppings = OptionGroup.objects.create(
        item=pho, name="Topping", is_required=False, min_select=0, max_select=2
    )
    egg = Option.objects.create(group=toppings, name="Trứng", price_delta_vnd=5_000)
    beef = Option.objects.create(group=toppings, name="Thêm bò", price_delta_vnd=15_000)
    tripe = Option.objects.create(group=toppings, name="Sách", price_delta_vnd=8_000, is_available=False)
    tea = MenuItem.objects.create(merchant=merchant, name="Trà đá", price_vnd=10_000, is_available=True)
    return Menu(merchant, pho, size, large, small, toppings, egg, beef, tripe, tea)


def make_staff(merchant: Merchant) -> Any:
    user = UserFactory(roles=[Role.MERCHANT_STAFF], is_staff=True)
    StaffMembership.objects.create(user=user, merchant=merchant, role="manager")
    return user


def cart_body(menu: Menu, **overrides: Any) -> dict[str, Any]:
    """1 large phở with egg (65 000) + 2 teas (20 000) = 85 000, delivered about 1.1 km away."""
    body: dict[str, Any] = {
        "merchant_id": menu.merchant.pk,
        "lines": [
            {"item_id": menu.pho.pk, "quantity": 1, "option_ids": [menu.size_large.pk, menu.egg.pk]},
            {"item_id": menu.tea.pk, "quantity": 2},
        ],
        "delivery_lat": str(NEAR_LAT),
        "delivery_lng": str(NEAR_LNG),
        "delivery_address": "20 Hai Bà Trưng, Quận 1",
    }
    body.update(overrides)
    return body


def make_promotion(**fields: Any) -> Promotion:
    now = timezone.now()
    defaults: dict[str, Any] = {
        "code": f"PROMO{next(_counter)}",
        "kind": "percent",
        "value": 20,
        "max_discount_vnd": 30_000,
        "min_subtotal_vnd": 0,
        "starts_at": now - timedelta(days=1),
        "ends_at": now + timedelta(days=7),
    }
    defaults.update(fields)
    return Promotion.objects.create(**defaults)
