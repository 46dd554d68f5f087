"""Demo drivers around Ho Chi Minh City (idempotent), including the demo driver login 0900000003, who
waits beside the demo merchant (the one 0900000004 runs), so dispatch offers that merchant's orders to
the demo login first. The demo customer's demo order still waiting for a driver is given to another demo
driver, so the dispatch pool holds only the orders people place while trying the system.

Their last known positions are saved on the profiles and, for a quick start, in the live GEO set;
live positions expire without fixes (DRIVER_POSITION_STALE_SECONDS), as a real phone keeps sending.
`keep_online` plays those phones: `make run` calls it every 30 s (`manage.py demo_drivers`), so the demo
drivers stay dispatchable for as long as the system runs.
"""

import random
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from drivers import location, services
from drivers.models import DriverProfile, Vehicle
from loship.errors import ApplicationError
from loship.idempotency.models import IdempotencyKey
from merchants.demo import DEMO_MERCHANT_STAFF
from merchants.models import Merchant
from orders.demo import DEMO_CUSTOMER
from orders.models import Order, OrderStatus
from users.demo import DEMO_PASSWORD, DEMO_USERS
from users.models import Role, User
from users.phone import normalize_phone

DEMO_DRIVER_PHONE = "0900000003"
#: District 1, 3, 4, 5, 10, Bình Thạnh, Phú Nhuận: the box the demo drivers start in.
LAT_RANGE, LNG_RANGE = (10.755, 10.805), (106.665, 106.715)
EXTRA_DRIVERS = 20
#: How far north of the demo merchant the demo driver waits (degrees of latitude; about 80 m).
BESIDE_MERCHANT_DEG = 0.0007


def _phones() -> list[str]:
    return [DEMO_DRIVER_PHONE] + [f"09000010{number:02d}" for number in range(1, EXTRA_DRIVERS + 1)]


def _beside_demo_merchant() -> tuple[float, float] | None:
    spot = (
        Merchant.objects.filter(memberships__user__phone=normalize_phone(DEMO_MERCHANT_STAFF))
        .order_by("pk")
        .values_list("lat", "lng")
        .first()
    )
    return None if spot is None else (float(spot[0]) + BESIDE_MERCHANT_DEG, float(spot[1]))


def _driver(phone: str, name: str, log: Callable[[str], object]) -> User:
    user = User.objects.filter(phone=normalize_phone(phone)).first()
    if user is None:
        user = User.objects.create_user(phone, DEMO_PASSWORD, full_name=name, roles=[Role.DRIVER])
        log(f"demo driver {user.phone} created")
    elif not user.has_role(Role.DRIVER):
        user.roles = [*user.roles, Role.DRIVER]
        user.save(update_fields=["roles"])
    return user


def seed(log: Callable[[str], object]) -> None:
    rng = random.Random(5)
    people = [
        (phone, "Trần Văn Tài Xế" if number == 0 else f"Tài xế Demo {number:02d}")
        for number, phone in enumerate(_phones())
    ]
    for number, (phone, name) in enumerate(people):
        user = _driver(phone, name, log)
        lat, lng = rng.uniform(*LAT_RANGE), rng.uniform(*LNG_RANGE)
        if number == 0:
            lat, lng = _beside_demo_merchant() or (lat, lng)
        # Drawn on every run, so the drivers after this one start where they did the first time.
        plate = f"59-X{number % 9 + 1} {rng.randrange(100, 999)}.{rng.randrange(10, 99)}"
        profile = services.ensure_profile(user=user)
        if not profile.plate:
            DriverProfile.objects.filter(pk=user.pk).update(
                vehicle=Vehicle.MOTORBIKE,
                plate=plate,
                phone=user.phone,
                last_lat=Decimal(f"{lat:.6f}"),
                last_lng=Decimal(f"{lng:.6f}"),
            )
        if not profile.is_online:
            services.go_online(user=user)
        services.record_location_fixes(
            driver_id=user.pk, fixes=[{"lat": lat, "lng": lng, "timestamp": int(time.time() * 1000)}]
        )
    log(f"{len(people)} demo drivers online around Ho Chi Minh City")
    _drive_demo_orders(driver=_driver(people[1][0], people[1][1], log), log=log)


def _drive_demo_orders(*, driver: User, log: Callable[[str], object]) -> None:
    """Ops assign the demo customer's demo orders that wait for a driver (see orders.demo) to `driver`."""
    ops = User.objects.filter(phone=normalize_phone(DEMO_USERS[0][0])).first()
    if ops is None:
        return
    demo_order_ids = IdempotencyKey.objects.filter(
        user__phone=normalize_phone(DEMO_CUSTOMER), key__startswith="demo-"
    ).values("result_id")
    waiting = Order.objects.filter(
        pk__in=demo_order_ids,
        driver__isnull=True,
        status__in=[OrderStatus.ACCEPTED, OrderStatus.PREPARING, OrderStatus.READY_FOR_PICKUP],
    ).values_list("pk", flat=True)
    for order_id in waiting:
        try:
            services.enter_pool(order_id=order_id)
            services.assign_by_ops(actor=ops, order_id=order_id, driver_id=driver.pk)
        except ApplicationError as error:
            log(f"demo order {order_id} not assigned: {error.code}")
            continue
        log(f"demo order {order_id} assigned to demo driver {driver.phone}")


def keep_online(*, now: datetime | None = None) -> int:
    """A fresh fix, where each stands (live position, else the last saved one), for every online demo
    driver: what their phones would send. Returns how many drivers got one."""
    now = now or timezone.now()
    profiles = list(
        DriverProfile.objects.filter(
            is_online=True, user__phone__in=[normalize_phone(phone) for phone in _phones()]
        ).values_list("pk", "last_lat", "last_lng")
    )
    live = location.positions([pk for pk, _, _ in profiles])
    timestamp = int(now.timestamp() * 1000)
    refreshed = 0
    for pk, last_lat, last_lng in profiles:
        if pk in live:
            lat, lng = live[pk]
        elif last_lat is not None and last_lng is not None:
            lat, lng = float(last_lat), float(last_lng)
        else:
            continue
        fix = {"lat": lat, "lng": lng, "timestamp": timestamp}
        refreshed += services.record_location_fixes(driver_id=pk, fixes=[fix], now=now).accepted
    return refreshed
