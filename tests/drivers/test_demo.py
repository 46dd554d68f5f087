"""The demo drivers: seeded around Ho Chi Minh City, the demo login among them, idempotently."""

import pytest

from drivers import demo, location
from drivers.models import DriverProfile
from users.phone import normalize_phone

pytestmark = pytest.mark.django_db


def test_seeding_twice_gives_the_same_online_drivers_with_live_positions() -> None:
    demo.seed(log=lambda _: None)
    demo.seed(log=lambda _: None)

    profiles = DriverProfile.objects.select_related("user")
    assert profiles.count() == demo.EXTRA_DRIVERS + 1
    assert all(profile.is_online and profile.plate and profile.last_lat for profile in profiles)
    demo_driver = profiles.get(user__phone=normalize_phone(demo.DEMO_DRIVER_PHONE))
    assert demo_driver.user.check_password(demo.DEMO_PASSWORD)
    assert demo_driver.pk in location.positions([demo_driver.pk])
