"""The job flow through delivery (code, cash on delivery, earnings), per-object access, ops by hand."""

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from drivers import location, services
from drivers.dispatch.orchestration import run_round
from drivers.eta import point
from drivers.models import DispatchRequest, DriverProfile, Job, Offer
from drivers.services.jobs import driver_point
from orders.models import Order
from tests.conftest import authenticated_client
from tests.drivers.conftest import client_for, make_driver, offset
from tests.factories import UserFactory
from users.models import Role

pytestmark = pytest.mark.django_db


def _assigned(pooled_order: Callable[..., Order], **order_fields: Any) -> tuple[Any, Order, int]:
    order = pooled_order(**order_fields)
    driver = make_driver(lat=offset(400))
    [offer_id] = run_round().offers
    response = client_for(driver).post(f"/api/v1/driver/offers/{offer_id}/accept")
    assert response.status_code == 200, response.json()
    return driver, order, response.json()["jobs"][0]["job_id"]


def _step(driver: Any, job_id: int, to: str, **body: Any) -> Any:
    return client_for(driver).post(f"/api/v1/driver/jobs/{job_id}/steps", {"to": to, **body}, format="json")


def test_a_cash_order_goes_through_every_state_and_the_driver_owes_the_cash_and_earns_base_plus_distance(
    pooled_order: Callable[..., Order],
) -> None:
    driver, order, job_id = _assigned(pooled_order)
    assert order.payment_method == "cash"

    for state in ("arrived_at_pickup", "picked_up", "en_route_to_dropoff", "arrived_at_dropoff"):
        response = _step(driver, job_id, state)
        assert response.status_code == 200, response.json()
        assert response.json()["state"] == state
        assert response.json()["dropoff_eta"] is not None
    delivered = _step(
        driver, job_id, "delivered", delivery_code=order.delivery_code, cash_collected_vnd=order.total_vnd
    )

    assert delivered.status_code == 200, delivered.json()
    order.refresh_from_db()
    assert order.status == "delivered"
    assert order.payment_status == "paid"
    assert DriverProfile.objects.get(pk=driver.pk).cash_balance_vnd == order.total_vnd
    assert DispatchRequest.objects.get(pk=order.pk).status == "closed"
    cash = client_for(driver).get("/api/v1/driver/cash").json()
    assert cash == {
        "cash_balance_vnd": order.total_vnd,
        "cash_limit_vnd": settings.DRIVER_CASH_LIMIT_VND,
        "takes_cash_orders": True,
        "cash_to_collect_vnd": 0,
        "recent_settlements": [],
    }
    summary = client_for(driver).get("/api/v1/driver/earnings").json()
    per_km = settings.DRIVER_PAY_PER_KM_VND * -(-order.distance_m // 1000)
    assert summary["delivered"] == 1
    assert summary["earnings_vnd"] == settings.DRIVER_BASE_PAY_VND + per_km
    assert summary["cash_collected_vnd"] == order.total_vnd
    assert client_for(driver).get("/api/v1/driver/current-job").json() == {"jobs": []}


def test_with_redis_unreachable_a_driver_accepts_delivers_and_goes_offline(
    pooled_order: Callable[..., Order], cut_redis: Callable[[], None]
) -> None:
    order = pooled_order()
    driver = make_driver(lat=offset(400))
    [offer_id] = run_round().offers
    cut_redis()

    accepted = client_for(driver).post(f"/api/v1/driver/offers/{offer_id}/accept")
    assert accepted.status_code == 200, accepted.json()
    job_id = accepted.json()["jobs"][0]["job_id"]
    for state in ("arrived_at_pickup", "picked_up", "en_route_to_dropoff", "arrived_at_dropoff"):
        assert _step(driver, job_id, state).status_code == 200
    delivered = _step(driver, job_id, "delivered", cash_collected_vnd=order.total_vnd)

    assert delivered.status_code == 200, delivered.json()
    assert Order.objects.get(pk=order.pk).status == "delivered"
    assert Offer.objects.get(pk=offer_id).completed_at is not None
    assert client_for(driver).post("/api/v1/driver/offline").status_code == 200


def test_without_redis_etas_are_planned_from_the_position_saved_in_postgresql_while_it_is_fresh(
    cut_redis: Callable[[], None],
) -> None:
    driver = make_driver(lat=offset(400))
    services.save_due_positions()  # the throttled copy of the live position
    profile = DriverProfile.objects.get(pk=driver.pk)
    cut_redis()

    assert driver_point(profile, now=timezone.now()) == point(profile.last_lat, profile.last_lng)
    stale = timezone.now() + timedelta(seconds=settings.DRIVER_POSITION_STALE_SECONDS + 1)
    assert driver_point(profile, now=stale) is None


def test_carrying_sets_redis_lost_or_could_not_change_are_rewritten_from_the_jobs(
    pooled_order: Callable[..., Order],
) -> None:
    driver, order, job_id = _assigned(pooled_order)
    _step(driver, job_id, "picked_up")
    carrying = location.CARRYING_KEY.format(driver.pk)
    location.client().delete(carrying)  # Redis restarted empty

    services.sync_carrying()
    assert location.client().smembers(carrying) == {str(order.pk).encode()}

    _step(driver, job_id, "delivered", cash_collected_vnd=order.total_vnd)
    location.set_carrying(driver.pk, [order.pk])  # the step's clearing was lost (Redis down then)
    services.sync_carrying()
    assert not location.client().exists(carrying)


def test_a_wrong_delivery_code_or_cash_amount_is_refused_and_changes_nothing(
    pooled_order: Callable[..., Order],
) -> None:
    driver, order, job_id = _assigned(pooled_order)
    _step(driver, job_id, "picked_up")
    wrong_code = "0000" if order.delivery_code != "0000" else "1111"

    bad_code = _step(driver, job_id, "delivered", delivery_code=wrong_code)
    bad_cash = _step(driver, job_id, "delivered", cash_collected_vnd=order.total_vnd - 1000)

    assert bad_code.status_code == 422
    assert bad_code.json()["error"]["code"] == "delivery_code_wrong"
    assert bad_cash.status_code == 422
    assert bad_cash.json()["error"]["code"] == "cash_amount_mismatch"
    order.refresh_from_db()
    assert order.status == "picked_up"
    assert DriverProfile.objects.get(pk=driver.pk).cash_balance_vnd == 0


def test_skipping_pickup_is_a_409_with_a_code(pooled_order: Callable[..., Order]) -> None:
    driver, _, job_id = _assigned(pooled_order)

    response = _step(driver, job_id, "delivered")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "job_transition_not_allowed"


def test_a_failed_delivery_records_the_reason_and_ends_the_bundle(pooled_order: Callable[..., Order]) -> None:
    driver, order, job_id = _assigned(pooled_order)
    _step(driver, job_id, "picked_up")

    response = _step(driver, job_id, "failed", reason="khách không nghe máy")

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == "delivery_failed"
    assert Job.objects.get(pk=job_id).offer.completed_at is not None


def test_a_driver_sees_only_orders_offered_or_assigned_to_them(pooled_order: Callable[..., Order]) -> None:
    mine = pooled_order()
    driver = make_driver(lat=offset(300))
    stranger = make_driver(lat=offset(5000))
    [offer_id] = run_round().offers
    not_offered = pooled_order(ready=False)

    assert client_for(driver).get(f"/api/v1/driver/orders/{mine.pk}").status_code == 200
    assert client_for(driver).get(f"/api/v1/driver/orders/{not_offered.pk}").status_code == 404
    assert client_for(stranger).get(f"/api/v1/driver/orders/{mine.pk}").status_code == 404
    assert client_for(stranger).post(f"/api/v1/driver/offers/{offer_id}/accept").status_code == 404
    job_id = client_for(driver).post(f"/api/v1/driver/offers/{offer_id}/accept").json()["jobs"][0]["job_id"]
    response = client_for(stranger).get(f"/api/v1/driver/jobs/{job_id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "job_not_found"
    assert _step(stranger, job_id, "picked_up").status_code == 404
    assert "delivery_code" not in client_for(driver).get(f"/api/v1/driver/orders/{mine.pk}").json()


def test_a_customer_cannot_use_the_driver_api() -> None:
    customer = UserFactory()

    response = authenticated_client(customer).get("/api/v1/driver/profile")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_a_driver"


def test_online_offline_and_shift_end_through_the_api() -> None:
    driver = make_driver(online=False)
    client = client_for(driver)

    bad = client.post("/api/v1/driver/online", {"shift_ends_at": "2000-01-01T00:00:00Z"}, format="json")
    online = client.post("/api/v1/driver/online", {}, format="json")
    profile = client.patch(
        "/api/v1/driver/profile", {"plate": "59-X1 123.45", "vehicle": "motorbike"}, format="json"
    )
    offline = client.post("/api/v1/driver/offline")

    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "shift_end_invalid"
    assert online.json()["is_online"] is True
    assert profile.json()["plate"] == "59-X1 123.45"
    assert offline.json()["is_online"] is False


def test_ops_assign_by_hand_and_unassign_returns_the_order_to_the_pool(
    pooled_order: Callable[..., Order],
) -> None:
    order = pooled_order()
    driver = make_driver(lat=offset(9000))
    ops = UserFactory(roles=[Role.OPS])
    ops_client = authenticated_client(ops)

    assigned = ops_client.post(
        "/api/v1/ops/dispatch/assign", {"order_id": order.pk, "driver_id": driver.pk}, format="json"
    )
    again = ops_client.post(
        "/api/v1/ops/dispatch/assign", {"order_id": order.pk, "driver_id": driver.pk}, format="json"
    )
    refused = client_for(driver).post(
        "/api/v1/ops/dispatch/assign", {"order_id": order.pk, "driver_id": driver.pk}, format="json"
    )

    assert assigned.status_code == 200, assigned.json()
    assert (again.status_code, again.json()) == (200, assigned.json())
    assert refused.status_code == 403
    order.refresh_from_db()
    assert order.driver_id == driver.pk

    unassigned = ops_client.post(
        "/api/v1/ops/dispatch/unassign", {"order_id": order.pk, "reason": "tài xế hỏng xe"}, format="json"
    )

    assert unassigned.status_code == 200, unassigned.json()
    assert unassigned.json()["state"] == "cancelled"
    order.refresh_from_db()
    assert order.driver_id is None
    assert DispatchRequest.objects.get(pk=order.pk).status == "waiting"


def test_the_hot_driver_endpoints_use_a_fixed_number_of_queries(
    pooled_order: Callable[..., Order], django_assert_num_queries: Any
) -> None:
    driver, _, _ = _assigned(pooled_order)
    client = client_for(driver)
    fixes = {
        "fixes": [{"lat": 10.78, "lng": 106.70, "timestamp": int(time.time() * 1000) + n} for n in range(10)]
    }

    # The token's user is cached since the driver's first request (the offer accept): no query for it.
    with django_assert_num_queries(1):  # the driver's profile
        assert client.post("/api/v1/driver/locations", fixes, format="json").status_code == 200
    with django_assert_num_queries(1):  # the jobs with their orders and merchants
        assert client.get("/api/v1/driver/current-job").status_code == 200
