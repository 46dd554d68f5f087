"""Builders for the merchants tests: merchants around District 1, menus, hours, staff."""

from datetime import time
from decimal import Decimal
from typing import Any

from django.test import Client

from merchants.models import (
    MenuCategory,
    MenuItem,
    Merchant,
    OpeningHours,
    Option,
    OptionGroup,
    StaffMembership,
)
from tests.factories import UserFactory
from users.models import Role, User

#: Ben Thanh market, the point most tests search from.
CENTER_LAT = Decimal("10.772500")
CENTER_LNG = Decimal("106.698000")

_counter = iter(range(1, 1_000_000))


def make_merchant(*, always_open: bool = True, **fields: Any) -> Merchant:
    n = next(_counter)
    values: dict[str, Any] = {
        "name": f"Quán Thử {n}",
        "slug": f"quan-thu-{n}",
        "lat": CENTER_LAT,
        "lng": CENTER_LNG,
        "address": f"{n} Lê Lợi, Quận 1",
        "cuisines": ["vietnamese"],
        "price_level": 1,
        "min_order_vnd": 30_000,
        "delivery_radius_m": 5_000,
        "prep_minutes": 15,
    }
    values.update(fields)
    merchant = Merchant.objects.create(**values)
    if always_open:
        OpeningHours.objects.bulk_create(
            OpeningHours(merchant=merchant, weekday=day, opens_at=time(0), closes_at=time(0))
            for day in range(7)
        )
    return merchant


def make_item(merchant: Merchant, name: str = "Cơm tấm sườn", **fields: Any) -> MenuItem:
    values: dict[str, Any] = {"price_vnd": 45_000}
    values.update(fields)
    return MenuItem.objects.create(merchant=merchant, name=name, **values)


def make_group(item: MenuItem, name: str = "Size", **fields: Any) -> OptionGroup:
    values: dict[str, Any] = {"is_required": True, "min_select": 1, "max_select": 1}
    values.update(fields)
    return OptionGroup.objects.create(item=item, name=name, **values)


def make_option(group: OptionGroup, name: str = "Lớn", **fields: Any) -> Option:
    values: dict[str, Any] = {"price_delta_vnd": 10_000}
    values.update(fields)
    return Option.objects.create(group=group, name=name, **values)


def make_full_menu(merchant: Merchant, *, items: int = 50, categories: int = 5) -> list[MenuItem]:
    """`items` dishes spread over `categories` categories, each with a size group (2 options) and a
    topping group (3 options)."""
    sections = [
        MenuCategory.objects.create(merchant=merchant, name=f"Nhóm {c}", position=c)
        for c in range(categories)
    ]
    made = []
    for n in range(items):
        item = make_item(merchant, f"Món số {n}", category=sections[n % categories], position=n)
        size = make_group(item, "Size")
        make_option(size, "Nhỏ", price_delta_vnd=0)
        make_option(size, "Lớn", price_delta_vnd=10_000)
        toppings = make_group(item, "Topping", is_required=False, min_select=0, max_select=3)
        for name in ("Trứng", "Chả", "Bì"):
            make_option(toppings, name, price_delta_vnd=5_000)
        made.append(item)
    return made


def make_staff(merchant: Merchant, role: str = StaffMembership.StaffRole.MANAGER) -> User:
    user = UserFactory(roles=[Role.MERCHANT_STAFF], is_staff=True)
    StaffMembership.objects.create(user=user, merchant=merchant, role=role)
    return user


def make_ops() -> User:
    return UserFactory(roles=[Role.OPS], is_staff=True)


def browser_for(user: User) -> Client:
    """A test client signed in as `user` (the admin's pages, as a browser would use them)."""
    client = Client()
    client.force_login(user)
    return client
