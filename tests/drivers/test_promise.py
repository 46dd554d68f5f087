"""The delivery promise: quoted, set at placement, moved at merchant accept, driver assignment and pickup,
and made from the free drivers near the merchant (none while Redis is down)."""

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from drivers import promises, services
from drivers.dispatch.orchestration import run_round
from drivers.eta import TRAVEL, point
from drivers.promises import live_supply
from orders.promise import DROPOFF_SERVICE, PICKUP_SERVICE, model
from tests.drivers.conftest import client_for, make_driver, offset
from tests.orders.factories import MERCHANT_LAT, MERCHANT_LNG, NEAR_LAT, NEAR_LNG, Menu, cart_body, make_staff

pytestmark = pytest.mark.django_db


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _minutes_from(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 60


def test_the_promise_is_quoted_placed_and_moved_at_accept_assignment_and_pickup(
    customer_client: APIClient, place: Callable[..., Any], menu: Menu
) -> None:
    ride = TRAVEL.minutes(point(MERCHANT_LAT, MERCHANT_LNG), point(NEAR_LAT, NEAR_LNG))
    before = timezone.now()
    quote = customer_client.post("/api/v1/orders/quote", cart_body(menu), format="json")
    placed = place()
    assert quote.status_code == 200 and placed.status_code == 201, (quote.json(), placed.json())
    quoted, promised = _at(quote.json()["promised_at"]), _at(placed.json()["promised_at"])
    # Nothing moved between the two, so they agree to the minute; the merchant's 15 minutes of
    # preparation, the ride and the handovers come first.
    assert abs(_minutes_from(quoted, promised)) <= 1
    assert (
        _minutes_from(before, promised)
        >= menu.merchant.prep_minutes + PICKUP_SERVICE / 2 + DROPOFF_SERVICE / 2
    )
    order_id = placed.json()["id"]

    def detail() -> dict[str, Any]:
        return customer_client.get(f"/api/v1/orders/{order_id}").json()

    assert _at(detail()["promised_at"]) == promised

    staff = client_for(make_staff(menu.merchant))
    accepting = timezone.now()
    accepted = staff.post(f"/api/v1/merchant/orders/{order_id}/accept", {"prep_minutes": 60}, format="json")
    assert accepted.status_code == 200, accepted.json()
    after_accept = _at(detail()["promised_at"])
    # An hour's cooking now: never sooner than the food ready in an hour and ridden straight over.
    assert _minutes_from(accepting, after_accept) >= 60 + PICKUP_SERVICE / 2 + ride + DROPOFF_SERVICE / 2
    assert after_accept > promised

    assert staff.post(f"/api/v1/merchant/orders/{order_id}/ready").status_code == 200
    services.enter_pool(order_id=order_id)
    services.mark_food_ready(order_id=order_id)
    driver = make_driver(lat=offset(400))
    [offer_id] = run_round().offers
    taken = client_for(driver).post(f"/api/v1/driver/offers/{offer_id}/accept")
    assert taken.status_code == 200, taken.json()
    assigned = detail()
    after_assignment = _at(assigned["promised_at"])
    # The food is ready and a driver is 400 m away: the plan plus its margin, far sooner than the hour.
    assert assigned["timeline"][-1]["kind"] == "driver_assigned"
    assert 0 <= _minutes_from(_at(assigned["eta"]), after_assignment) <= model().assigned_margin + 1
    assert after_assignment < after_accept

    job_id = taken.json()["jobs"][0]["job_id"]
    picked = client_for(driver).post(
        f"/api/v1/driver/jobs/{job_id}/steps", {"to": "picked_up"}, format="json"
    )
    assert picked.status_code == 200, picked.json()
    at_pickup = detail()
    after_pickup = _at(at_pickup["promised_at"])
    assert at_pickup["status"] == "picked_up"
    expected = math.ceil(ride + DROPOFF_SERVICE / 2 + model().pickup_margin)
    assert abs(_minutes_from(timezone.now(), after_pickup) - expected) <= 1
    assert after_pickup != after_assignment


def test_free_drivers_near_the_merchant_bring_the_promise_forward(
    customer_client: APIClient, menu: Menu
) -> None:
    def quoted() -> datetime:
        response = customer_client.post("/api/v1/orders/quote", cart_body(menu), format="json")
        assert response.status_code == 200, response.json()
        return _at(response.json()["promised_at"])

    without = quoted()
    for metres in (100, 300, 600):
        make_driver(lat=offset(metres))
    supply = live_supply(float(MERCHANT_LAT), float(MERCHANT_LNG), timezone.now())

    assert supply.near == 3 and supply.nearest_minutes is not None and supply.nearest_minutes < 1
    assert quoted() < without - timedelta(minutes=1)


def test_a_placement_counts_the_free_drivers_at_most_promise_supply_seconds_ago(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Quotes and placements share a count per merchant for a few seconds (drivers/promises.py), then
    count again."""
    settings.PROMISE_SUPPLY_SECONDS = 5
    clock = [1000.0]
    monkeypatch.setattr(promises.time, "monotonic", lambda: clock[0])
    promises._recent.clear()
    lat, lng = float(MERCHANT_LAT), float(MERCHANT_LNG)

    assert promises.recent_supply(lat, lng, timezone.now()).near == 0
    make_driver(lat=offset(100))
    clock[0] += 4.9
    assert promises.recent_supply(lat, lng, timezone.now()).near == 0  # counted 4.9 s ago
    assert live_supply(lat, lng, timezone.now()).near == 1
    clock[0] += 0.2
    assert promises.recent_supply(lat, lng, timezone.now()).near == 1  # counted again
    settings.PROMISE_SUPPLY_SECONDS = 0
    make_driver(lat=offset(300))
    assert promises.recent_supply(lat, lng, timezone.now()).near == 2


def test_a_driver_carrying_food_is_not_counted_free(
    pooled_order: Callable[..., Any], django_capture_on_commit_callbacks: Any
) -> None:
    pooled_order()
    driver = make_driver(lat=offset(200))
    [offer_id] = run_round().offers
    job_id = client_for(driver).post(f"/api/v1/driver/offers/{offer_id}/accept").json()["jobs"][0]["job_id"]
    assert live_supply(float(MERCHANT_LAT), float(MERCHANT_LNG), timezone.now()).near == 1  # on its way

    with django_capture_on_commit_callbacks(execute=True):  # the carrying set is written after commit
        step = client_for(driver).post(
            f"/api/v1/driver/jobs/{job_id}/steps", {"to": "picked_up"}, format="json"
        )

    assert step.status_code == 200, step.json()
    assert live_supply(float(MERCHANT_LAT), float(MERCHANT_LNG), timezone.now()).near == 0


def test_with_redis_unreachable_an_order_is_still_placed_with_a_promise(
    place: Callable[..., Any], cut_redis: Callable[[], None], menu: Menu
) -> None:
    make_driver(lat=offset(100))
    cut_redis()
    before = timezone.now()

    response = place()

    assert response.status_code == 201, response.json()
    # No driver is known, so the promise assumes the farthest one the model reads.
    assert _minutes_from(before, _at(response.json()["promised_at"])) > menu.merchant.prep_minutes
