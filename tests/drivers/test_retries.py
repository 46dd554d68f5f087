"""Every driver and dispatch action is safe to retry: the same request again answers 200 with the same
body and writes nothing more (no second job event, cash booking or ledger entry)."""

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from drivers.dispatch.orchestration import run_round
from drivers.models import DriverProfile, Job
from loship.events.models import OutboxEvent
from loship.timefmt import iso
from orders.models import LedgerEntry, Order
from tests.concurrency import run_at_once
from tests.conftest import authenticated_client
from tests.drivers.conftest import client_for, make_driver, offset
from tests.factories import UserFactory
from tests.retries import sent_twice
from users.models import Role


def _offered(pooled_order: Callable[..., Order]) -> tuple[Any, Order, int]:
    order = pooled_order()
    driver = make_driver(lat=offset(400))
    [offer_id] = run_round().offers
    return driver, order, offer_id


def _assigned(pooled_order: Callable[..., Order]) -> tuple[Any, Order, int]:
    driver, order, offer_id = _offered(pooled_order)
    accepted = client_for(driver).post(f"/api/v1/driver/offers/{offer_id}/accept")
    assert accepted.status_code == 200, accepted.json()
    return driver, order, accepted.json()["jobs"][0]["job_id"]


def _step(driver: Any, job_id: int, to: str, **body: Any) -> Callable[[], Any]:
    client = client_for(driver)
    return lambda: client.post(f"/api/v1/driver/jobs/{job_id}/steps", {"to": to, **body}, format="json")


@pytest.mark.django_db
def test_every_job_step_sent_twice_answers_the_same_job_and_books_the_cash_once(
    pooled_order: Callable[..., Order],
) -> None:
    driver, order, job_id = _assigned(pooled_order)

    for state in ("arrived_at_pickup", "picked_up", "en_route_to_dropoff", "arrived_at_dropoff"):
        first, _ = sent_twice(_step(driver, job_id, state))
        assert first.json()["state"] == state
    sent_twice(
        _step(
            driver, job_id, "delivered", delivery_code=order.delivery_code, cash_collected_vnd=order.total_vnd
        )
    )

    assert DriverProfile.objects.get(pk=driver.pk).cash_balance_vnd == order.total_vnd
    assert LedgerEntry.objects.filter(order=order, kind="cod_collected").count() == 1
    topics = Counter(OutboxEvent.objects.filter(aggregate_type="job").values_list("topic", flat=True))
    assert set(topics.values()) == {1}


@pytest.mark.django_db
def test_a_failed_delivery_sent_twice_answers_the_same_job(pooled_order: Callable[..., Order]) -> None:
    driver, order, job_id = _assigned(pooled_order)
    _step(driver, job_id, "picked_up")()

    first, _ = sent_twice(_step(driver, job_id, "failed", reason="khách không nghe máy"))

    assert first.json()["order_status"] == "delivery_failed"


@pytest.mark.django_db
def test_a_step_again_with_other_inputs_is_still_refused(pooled_order: Callable[..., Order]) -> None:
    driver, order, job_id = _assigned(pooled_order)
    _step(driver, job_id, "picked_up")()
    _step(driver, job_id, "failed", reason="khách không nghe máy")()
    wrong_code = "0000" if order.delivery_code != "0000" else "1111"

    other_reason = _step(driver, job_id, "failed", reason="xe hỏng")()
    delivered = _step(driver, job_id, "delivered", delivery_code=wrong_code)()

    assert (other_reason.status_code, other_reason.json()["error"]["code"]) == (
        409,
        "job_transition_not_allowed",
    )
    assert (delivered.status_code, delivered.json()["error"]["code"]) == (409, "job_transition_not_allowed")


@pytest.mark.django_db
@pytest.mark.parametrize("answer", ["accept", "decline"])
def test_an_offer_answer_sent_twice_answers_the_same(pooled_order: Callable[..., Order], answer: str) -> None:
    driver, _, offer_id = _offered(pooled_order)
    client = client_for(driver)

    sent_twice(lambda: client.post(f"/api/v1/driver/offers/{offer_id}/{answer}"))


@pytest.mark.django_db
def test_ops_assign_and_unassign_sent_twice_answer_the_same(pooled_order: Callable[..., Order]) -> None:
    order = pooled_order()
    driver = make_driver(lat=offset(9000))
    ops = authenticated_client(UserFactory(roles=[Role.OPS]))
    body = {"order_id": order.pk, "driver_id": driver.pk}

    sent_twice(lambda: ops.post("/api/v1/ops/dispatch/assign", body, format="json"))
    first, _ = sent_twice(
        lambda: ops.post(
            "/api/v1/ops/dispatch/unassign", {"order_id": order.pk, "reason": "hỏng xe"}, format="json"
        )
    )

    assert first.json()["state"] == "cancelled"
    assert Order.objects.get(pk=order.pk).driver_id is None


@pytest.mark.django_db
def test_an_unassign_by_another_ops_user_after_the_first_is_not_found(
    pooled_order: Callable[..., Order],
) -> None:
    order = pooled_order()
    driver = make_driver(lat=offset(9000))
    ops, colleague = (authenticated_client(UserFactory(roles=[Role.OPS])) for _ in range(2))
    ops.post("/api/v1/ops/dispatch/assign", {"order_id": order.pk, "driver_id": driver.pk}, format="json")
    body = {"order_id": order.pk, "reason": "hỏng xe"}
    assert ops.post("/api/v1/ops/dispatch/unassign", body, format="json").status_code == 200

    response = colleague.post("/api/v1/ops/dispatch/unassign", body, format="json")

    assert (response.status_code, response.json()["error"]["code"]) == (404, "job_not_found")


@pytest.mark.django_db
def test_going_online_offline_and_setting_the_shift_twice_answer_the_same() -> None:
    driver = make_driver(online=False)
    client = client_for(driver)
    shift = {"shift_ends_at": iso(timezone.now() + timedelta(hours=4))}

    sent_twice(lambda: client.post("/api/v1/driver/online", shift, format="json"))
    sent_twice(lambda: client.put("/api/v1/driver/shift", shift, format="json"))
    sent_twice(lambda: client.patch("/api/v1/driver/profile", {"plate": "59-X1 123.45"}, format="json"))
    sent_twice(lambda: client.post("/api/v1/driver/offline"))

    assert OutboxEvent.objects.filter(topic="driver.online", aggregate_id=str(driver.pk)).count() == 1


@pytest.mark.django_db(transaction=True)
def test_identical_deliveries_racing_book_the_cash_once(pooled_order: Callable[..., Order]) -> None:
    driver, order, job_id = _assigned(pooled_order)
    _step(driver, job_id, "picked_up")()
    deliver = _step(driver, job_id, "delivered", cash_collected_vnd=order.total_vnd)

    responses = run_at_once(4, lambda _: deliver())

    assert Counter(response.status_code for response in responses) == {200: 4}
    assert DriverProfile.objects.get(pk=driver.pk).cash_balance_vnd == order.total_vnd
    assert LedgerEntry.objects.filter(order=order, kind="cod_collected").count() == 1
    assert Job.objects.get(pk=job_id).state == "delivered"
