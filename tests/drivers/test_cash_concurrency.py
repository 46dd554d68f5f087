"""Cash owed under concurrency: a settlement racing the delivery that adds cash, two settlements of the
whole balance at once. Real threads, each on its own PostgreSQL connection."""

from collections.abc import Callable

import pytest

from drivers import services
from drivers.dispatch.orchestration import run_round
from drivers.models import CashSettlement, DriverProfile
from loship.errors import ApplicationError
from orders.models import LedgerAccount, Order
from orders.services.ledger import account_balance
from tests.concurrency import race, run_at_once
from tests.drivers.conftest import client_for, make_driver, offset
from tests.factories import UserFactory
from users.models import Role, User

pytestmark = pytest.mark.django_db(transaction=True)


def _job_at_dropoff(pooled_order: Callable[..., Order], driver: User) -> tuple[Order, int]:
    order = pooled_order()
    [offer_id] = run_round().offers
    job_id = client_for(driver).post(f"/api/v1/driver/offers/{offer_id}/accept").json()["jobs"][0]["job_id"]
    response = client_for(driver).post(
        f"/api/v1/driver/jobs/{job_id}/steps", {"to": "picked_up"}, format="json"
    )
    assert response.status_code == 200, response.json()
    return order, job_id


def _deliver(driver: User, job_id: int) -> None:
    services.advance_job(driver=driver, job_id=job_id, to_state="delivered")


def test_a_settlement_racing_a_delivery_loses_neither(pooled_order: Callable[..., Order]) -> None:
    driver = make_driver(lat=offset(400))
    ops = UserFactory(roles=[Role.OPS], is_staff=True)
    first, job_id = _job_at_dropoff(pooled_order, driver)
    _deliver(driver, job_id)
    second, job_id = _job_at_dropoff(pooled_order, driver)

    results = race(
        [
            lambda: _deliver(driver, job_id),
            lambda: services.settle_cash_at_hub(
                driver_id=driver.pk, amount_vnd=first.total_vnd, hub="Hub Q1", actor=ops
            ),
        ]
    )

    assert not any(isinstance(result, Exception) for result in results), results
    owed = DriverProfile.objects.get(pk=driver.pk).cash_balance_vnd
    assert owed == second.total_vnd
    assert account_balance(LedgerAccount.DRIVER_CASH, driver_id=driver.pk) == owed


def test_two_settlements_of_the_whole_balance_at_once_take_it_once(
    pooled_order: Callable[..., Order],
) -> None:
    driver = make_driver(lat=offset(400))
    ops = UserFactory(roles=[Role.OPS], is_staff=True)
    order, job_id = _job_at_dropoff(pooled_order, driver)
    _deliver(driver, job_id)

    results = run_at_once(
        4,
        lambda index: services.settle_cash_at_hub(
            driver_id=driver.pk, amount_vnd=order.total_vnd, hub=f"Hub {index}", actor=ops
        ),
    )

    refusals = [result for result in results if isinstance(result, ApplicationError)]
    assert [refusal.code for refusal in refusals] == ["settlement_exceeds_balance"] * 3
    assert CashSettlement.objects.count() == 1
    assert DriverProfile.objects.get(pk=driver.pk).cash_balance_vnd == 0
    assert account_balance(LedgerAccount.DRIVER_CASH, driver_id=driver.pk) == 0
