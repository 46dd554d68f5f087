"""The demo city: enough merchants at real places with real menus, seeded once however often it runs."""

from datetime import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, F

from merchants import demo
from merchants.models import MenuItem, Merchant, OpeningHours, OptionGroup, StaffMembership
from users import demo as user_demo

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return (
        Merchant.objects.count(),
        MenuItem.objects.count(),
        OptionGroup.objects.count(),
        OpeningHours.objects.count(),
        StaffMembership.objects.count(),
    )


def test_demo_city_is_complete_and_seeded_once() -> None:
    user_demo.seed(log=lambda _: None)
    demo.seed(log=lambda _: None)
    first = counts()
    demo.seed(log=lambda _: None)
    assert counts() == first

    merchants = Merchant.objects.annotate(dishes=Count("items", distinct=True))
    assert merchants.count() >= 50
    assert min(merchant.dishes for merchant in merchants) >= 10
    # Ho Chi Minh City, roughly from Go Vap to District 7 and Thu Duc.
    for merchant in merchants:
        assert 10.70 < float(merchant.lat) < 10.88 and 106.62 < float(merchant.lng) < 106.80, merchant
    assert Merchant.objects.filter(items__option_groups__name="Size").distinct().count() >= 20
    assert Merchant.objects.filter(items__option_groups__name="Topping").distinct().count() >= 3
    assert OpeningHours.objects.filter(closes_at__lt=F("opens_at")).values("merchant").distinct().count() >= 5
    assert (
        OpeningHours.objects.filter(opens_at=time(0), closes_at=time(0)).values("merchant").distinct().count()
        >= 5
    )
    assert MenuItem.objects.filter(search_text="bun bo hue dac biet").exists()
    owners = StaffMembership.objects.filter(role="owner")
    assert owners.values("merchant").distinct().count() == merchants.count()
    demo_staff = StaffMembership.objects.get(user__phone="+84900000004")
    assert demo_staff.merchant.opening_hours.filter(opens_at=F("closes_at")).count() == 7


def test_seed_demo_command_runs_twice_with_orders_on_top() -> None:
    call_command("seed_demo", stdout=StringIO())
    first = counts()
    call_command("seed_demo", stdout=StringIO())
    assert counts() == first
    from orders.models import Order

    assert Order.objects.filter(customer__phone="+84900000002").count() == 4
