"""The demo city's merchants: 53 eateries across Ho Chi Minh City with Vietnamese menus, opening
hours (some past midnight, some around the clock), a closed date for Tết, and an owner account each.
The demo merchant-staff user (0900000004) owns the first one. Idempotent: merchants are found by
slug and users by phone, and nothing that exists is touched."""

import random
from collections.abc import Callable
from datetime import date, time
from decimal import Decimal

from django.contrib.auth.hashers import make_password

from merchants.demo_menus import GROUPS, HOURS, KINDS, STREETS, Kind
from merchants.models import (
    ClosedDate,
    MenuCategory,
    MenuItem,
    Merchant,
    OpeningHours,
    Option,
    OptionGroup,
    StaffMembership,
)
from merchants.search import normalize
from users.demo import DEMO_PASSWORD
from users.models import Role, User
from users.phone import normalize_phone

DEMO_MERCHANT_STAFF = "0900000004"
TET_2027 = date(2027, 2, 6)


def _specs() -> list[tuple[str, Kind]]:
    """Every (merchant name, kind), interleaving kinds so that each district gets a mix."""
    specs: list[tuple[str, Kind]] = []
    for round_ in range(max(len(kind.names) for kind in KINDS)):
        specs.extend((kind.names[round_], kind) for kind in KINDS if round_ < len(kind.names))
    return specs


def _slug(name: str) -> str:
    return normalize(name).replace(" ", "-")


def _create_merchant(index: int, name: str, kind: Kind, rng: random.Random) -> Merchant:
    street = STREETS[(index * 7) % len(STREETS)]
    rating_count = rng.randint(15, 2500)
    rating_avg = Decimal(str(round(rng.uniform(3.9, 4.9), 2)))
    merchant = Merchant.objects.create(
        name=name,
        slug=_slug(name),
        description=f"{name}: {', '.join(category for category, _ in kind.menu).lower()}.",
        phone=f"+8428{38_000_000 + index:08d}",
        address=f"{rng.randint(1, 320)} {street.street}, {street.ward}, {street.district}, TP. Hồ Chí Minh",
        lat=Decimal(f"{street.lat + rng.uniform(-0.0015, 0.0015):.6f}"),
        lng=Decimal(f"{street.lng + rng.uniform(-0.0015, 0.0015):.6f}"),
        cuisines=list(kind.cuisines),
        price_level=kind.price_level,
        min_order_vnd=rng.choice([0, 30_000, 50_000, 100_000 if kind.price_level >= 3 else 40_000]),
        delivery_radius_m=rng.choice([4_000, 5_000, 6_000, 8_000]),
        prep_minutes=rng.choice([10, 15, 20, 25]),
        rating_count=rating_count,
        rating_avg=rating_avg,
        rating_sum=int(rating_avg * rating_count),
    )
    # Every sixth merchant (the demo staff's first among them) never closes, so the demo city always
    # has somewhere open to order from.
    pattern = "around_the_clock" if index % 6 == 0 else kind.hours
    OpeningHours.objects.bulk_create(
        OpeningHours(
            merchant=merchant,
            weekday=day,
            opens_at=time.fromisoformat(opens),
            closes_at=time.fromisoformat(closes),
        )
        for day in range(7)
        for opens, closes in HOURS[pattern]
    )
    if index % 5 == 2:
        ClosedDate.objects.create(merchant=merchant, date=TET_2027, reason="Nghỉ Tết Nguyên Đán")
    _create_menu(merchant, kind, rng)
    return merchant


def _create_menu(merchant: Merchant, kind: Kind, rng: random.Random) -> None:
    categories = MenuCategory.objects.bulk_create(
        MenuCategory(merchant=merchant, name=category, position=position)
        for position, (category, _) in enumerate(kind.menu)
    )
    dishes = [
        (category, dish) for category, (_, items) in zip(categories, kind.menu, strict=True) for dish in items
    ]
    items = MenuItem.objects.bulk_create(
        MenuItem(
            merchant=merchant,
            category=category,
            name=name,
            search_text=normalize(name),  # bulk_create skips save(), which fills it
            price_vnd=price,
            position=position,
            # A dish or two sold out, as on any real evening.
            is_available=rng.random() > 0.06,
        )
        for position, (category, (name, price, _)) in enumerate(dishes)
    )
    group_rows = [
        (item, GROUPS[key], position)
        for item, (_, (_, _, keys)) in zip(items, dishes, strict=True)
        for position, key in enumerate(keys)
    ]
    groups = OptionGroup.objects.bulk_create(
        OptionGroup(
            item=item,
            name=spec.name,
            is_required=spec.required,
            min_select=spec.min_select,
            max_select=spec.max_select,
            position=position,
        )
        for item, spec, position in group_rows
    )
    Option.objects.bulk_create(
        Option(group=group, name=name, price_delta_vnd=delta, position=position)
        for group, (_, spec, _) in zip(groups, group_rows, strict=True)
        for position, (name, delta) in enumerate(spec.options)
    )


def _owner(index: int, merchant: Merchant, password_hash: str) -> User:
    phone = normalize_phone(DEMO_MERCHANT_STAFF) if index == 0 else normalize_phone(f"0918{index + 1:06d}")
    user = User.objects.filter(phone=phone).first()
    if user is None:
        user = User.objects.create(
            phone=phone,
            password=password_hash,
            full_name=f"Chủ quán {merchant.name}",
            roles=[Role.MERCHANT_STAFF],
            is_staff=True,
        )
    StaffMembership.objects.get_or_create(
        user=user, merchant=merchant, defaults={"role": StaffMembership.StaffRole.OWNER}
    )
    return user


def seed(log: Callable[[str], object]) -> None:
    rng = random.Random(20_261_125)  # the same city on every machine
    password_hash = make_password(DEMO_PASSWORD)  # hashed once for all owners
    created = 0
    for index, (name, kind) in enumerate(_specs()):
        merchant = Merchant.objects.filter(slug=_slug(name)).first()
        if merchant is None:
            merchant = _create_merchant(index, name, kind, random.Random(rng.random()))
            created += 1
        else:
            rng.random()  # keep the sequence of the merchants after this one
        _owner(index, merchant, password_hash)
    if created:
        log(f"demo merchants: {created} created with menus, hours and owner accounts")
