"""Demo drivers around Ho Chi Minh City (idempotent), including the demo driver login 0900000003.

Their last known positions are saved on the profiles and, for a quick start, in the live GEO set;
live positions expire without fixes (DRIVER_POSITION_STALE_SECONDS), as a real phone keeps sending.
"""

import random
import time
from collections.abc import Callable
from decimal import Decimal

from drivers import services
from drivers.models import DriverProfile, Vehicle
from users.demo import DEMO_PASSWORD
from users.models import Role, User
from users.phone import normalize_phone

DEMO_DRIVER_PHONE = "0900000003"
#: District 1, 3, 4, 5, 10, Bình Thạnh, Phú Nhuận: the box the demo drivers start in.
LAT_RANGE, LNG_RANGE = (10.755, 10.805), (106.665, 106.715)
EXTRA_DRIVERS = 20


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
    people = [(DEMO_DRIVER_PHONE, "Trần Văn Tài Xế")] + [
        (f"09000010{number:02d}", f"Tài xế Demo {number:02d}") for number in range(1, EXTRA_DRIVERS + 1)
    ]
    for number, (phone, name) in enumerate(people):
        user = _driver(phone, name, log)
        lat, lng = rng.uniform(*LAT_RANGE), rng.uniform(*LNG_RANGE)
        profile = services.ensure_profile(user=user)
        if not profile.plate:
            DriverProfile.objects.filter(pk=user.pk).update(
                vehicle=Vehicle.MOTORBIKE,
                plate=f"59-X{number % 9 + 1} {rng.randrange(100, 999)}.{rng.randrange(10, 99)}",
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
