"""What a driver sees of an order: everything while their offer is open or the job is theirs, nothing
once the offer is gone (withdrawn, declined, expired) or the job has ended."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from drivers import services
from drivers.dispatch.orchestration import run_round
from drivers.models import Offer, OfferStatus
from orders.models import Order
from tests.conftest import authenticated_client
from tests.drivers.conftest import client_for, make_driver, offset
from tests.factories import UserFactory
from users.models import Role

pytestmark = pytest.mark.django_db


def _offered(pooled_order: Callable[..., Order]) -> tuple[Any, Order, int]:
    order = pooled_order()
    driver = make_driver(lat=offset(300))
    [offer_id] = run_round().offers
    assert Offer.objects.get(pk=offer_id).driver_id == driver.pk
    return driver, order, offer_id


def _order_seen_by(driver: Any, order: Order) -> Any:
    return client_for(driver).get(f"/api/v1/driver/orders/{order.pk}")


def _assert_hidden(response: Any) -> None:
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "customer_phone" not in response.content.decode()


def test_a_driver_with_an_open_offer_sees_the_order_and_the_customers_phone(
    pooled_order: Callable[..., Order],
) -> None:
    driver, order, _ = _offered(pooled_order)

    response = _order_seen_by(driver, order)

    assert response.status_code == 200
    assert response.json()["customer_phone"] == order.customer_phone


def test_a_driver_whose_offer_was_withdrawn_for_an_ops_assignment_sees_nothing(
    pooled_order: Callable[..., Order], django_capture_on_commit_callbacks: Any
) -> None:
    """Was a 200 with the customer's phone, drop-off address and lines after ops gave it to another."""
    driver, order, offer_id = _offered(pooled_order)
    other = make_driver(lat=offset(9000))
    ops = authenticated_client(UserFactory(roles=[Role.OPS]))

    with django_capture_on_commit_callbacks(execute=True):
        assigned = ops.post(
            "/api/v1/ops/dispatch/assign", {"order_id": order.pk, "driver_id": other.pk}, format="json"
        )

    assert assigned.status_code == 200, assigned.json()
    assert Offer.objects.get(pk=offer_id).status == OfferStatus.WITHDRAWN
    _assert_hidden(_order_seen_by(driver, order))
    assert _order_seen_by(other, order).status_code == 200


def test_a_driver_who_declined_the_offer_sees_nothing(pooled_order: Callable[..., Order]) -> None:
    driver, order, offer_id = _offered(pooled_order)

    assert client_for(driver).post(f"/api/v1/driver/offers/{offer_id}/decline").status_code == 200

    _assert_hidden(_order_seen_by(driver, order))


def test_a_driver_whose_offer_expired_sees_nothing_even_before_the_sweep_marks_it(
    pooled_order: Callable[..., Order],
) -> None:
    driver, order, offer_id = _offered(pooled_order)
    Offer.objects.filter(pk=offer_id).update(expires_at=timezone.now() - timedelta(seconds=1))

    _assert_hidden(_order_seen_by(driver, order))
    assert services.expire_offers() == 1
    _assert_hidden(_order_seen_by(driver, order))


@pytest.mark.parametrize("ending", ["delivered", "failed"])
def test_a_driver_sees_the_order_during_the_job_and_nothing_of_the_customer_after_it(
    pooled_order: Callable[..., Order], ending: str
) -> None:
    driver, order, offer_id = _offered(pooled_order)
    client = client_for(driver)
    job_id = client.post(f"/api/v1/driver/offers/{offer_id}/accept").json()["jobs"][0]["job_id"]
    steps = f"/api/v1/driver/jobs/{job_id}/steps"
    assert client.post(steps, {"to": "picked_up"}, format="json").status_code == 200
    during = _order_seen_by(driver, order)
    last_step = {"to": ending, "reason": "khách không nghe máy"}
    if ending == "delivered":
        last_step = {
            "to": ending,
            "delivery_code": order.delivery_code,
            "cash_collected_vnd": order.total_vnd,
        }

    ended = client.post(steps, last_step, format="json")

    assert during.status_code == 200
    assert during.json()["customer_phone"] == order.customer_phone
    assert ended.status_code == 200, ended.json()
    assert "customer_phone" not in ended.json()["delivery"]
    _assert_hidden(_order_seen_by(driver, order))
    job = client.get(f"/api/v1/driver/jobs/{job_id}").json()
    assert job["state"] == ending
    assert "customer_phone" not in job["delivery"] and "note" not in job["delivery"]
    earnings = client.get("/api/v1/driver/earnings").json()
    assert [line["order_id"] for line in earnings["orders"]] == [order.pk]


def test_another_driver_never_sees_the_order(pooled_order: Callable[..., Order]) -> None:
    _, order, _ = _offered(pooled_order)
    stranger = make_driver(lat=offset(5000))

    _assert_hidden(_order_seen_by(stranger, order))
