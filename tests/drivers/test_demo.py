"""The demo drivers: seeded around Ho Chi Minh City, the demo login among them, idempotently."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from drivers import demo, location, services
from drivers.models import DispatchRequest, DispatchStatus, DriverProfile, Job
from merchants import demo as merchants_demo
from merchants.models import Merchant
from orders import demo as orders_demo
from orders.models import Order, OrderStatus
from users import demo as users_demo
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


def test_the_demo_driver_waits_beside_the_demo_merchant() -> None:
    merchants_demo.seed(log=lambda _: None)
    demo.seed(log=lambda _: None)

    merchant = Merchant.objects.get(
        memberships__user__phone=normalize_phone(merchants_demo.DEMO_MERCHANT_STAFF)
    )
    driver = DriverProfile.objects.get(user__phone=normalize_phone(demo.DEMO_DRIVER_PHONE))
    nearest = location.nearby_driver_ids(
        lat=float(merchant.lat), lng=float(merchant.lng), radius_m=200, count=5
    )
    assert nearest[0] == driver.pk


def test_keep_online_brings_back_drivers_whose_live_position_went_stale() -> None:
    demo.seed(log=lambda _: None)
    later = timezone.now() + timedelta(seconds=settings.DRIVER_POSITION_STALE_SECONDS + 60)
    assert location.prune_stale(now=later) == demo.EXTRA_DRIVERS + 1
    offline = DriverProfile.objects.get(user__phone=normalize_phone("0900001001"))
    services.go_offline(user=offline.user)

    assert demo.keep_online(now=later) == demo.EXTRA_DRIVERS
    online_ids = list(DriverProfile.objects.filter(is_online=True).values_list("pk", flat=True))
    assert set(location.positions(online_ids)) == set(online_ids)
    assert location.positions([offline.pk]) == {}
    assert location.prune_stale(now=later) == 0


def test_the_demo_order_waiting_for_a_driver_gets_another_demo_driver_so_the_pool_is_empty() -> None:
    users_demo.seed(log=lambda _: None)
    merchants_demo.seed(log=lambda _: None)
    orders_demo.seed(log=lambda _: None)
    demo.seed(log=lambda _: None)
    demo.seed(log=lambda _: None)

    preparing = Order.objects.get(status=OrderStatus.PREPARING)
    assert preparing.driver is not None
    assert preparing.driver.phone == normalize_phone("0900001001")
    assert Job.objects.filter(order=preparing).count() == 1
    assert not DispatchRequest.objects.filter(status=DispatchStatus.WAITING).exists()
