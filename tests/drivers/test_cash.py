"""The cash on delivery a driver owes: hub settlements by ops, e-wallet top-ups, the history, the limit
that stops cash orders, the ops dashboard and admin, and a ledger that balances to the dong."""

from collections.abc import Callable
from typing import Any

import pytest
from django.db.models import Sum
from django.test import Client
from pytest_django.fixtures import SettingsWrapper

from drivers.dispatch.orchestration import run_round
from drivers.dispatch.policy import (
    AvailableDriver,
    DispatchParams,
    EuclideanTravel,
    PendingOrder,
    Point,
    plan_round,
)
from drivers.models import CashSettlement, DriverProfile
from loship.events.models import OutboxEvent
from orders.models import LedgerAccount, LedgerEntry, Order, Tip
from orders.services.ledger import account_balance
from tests.conftest import authenticated_client
from tests.drivers.conftest import client_for, make_driver, offset
from tests.factories import UserFactory
from tests.orders.sandbox_provider import SandboxProvider
from tests.orders.test_payments import post_webhook
from tests.retries import sent_twice
from users.models import Role, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops() -> User:
    return UserFactory(roles=[Role.OPS], is_staff=True)


def deliver_cash_order(pooled_order: Callable[..., Order], driver: User | None = None) -> tuple[User, Order]:
    """A cash order dispatched to `driver` (a new one nearby by default) and delivered."""
    order = pooled_order()
    driver = driver or make_driver(lat=offset(400))
    [offer_id] = run_round().offers
    job_id = client_for(driver).post(f"/api/v1/driver/offers/{offer_id}/accept").json()["jobs"][0]["job_id"]
    for state in ("picked_up", "delivered"):
        response = client_for(driver).post(
            f"/api/v1/driver/jobs/{job_id}/steps", {"to": state}, format="json"
        )
        assert response.status_code == 200, response.json()
    return driver, order


def owed(driver: User) -> int:
    return DriverProfile.objects.get(pk=driver.pk).cash_balance_vnd


def settle(ops: User, driver: User, amount: Any, *, key: str | None = None, hub: str = "Hub Q1") -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return authenticated_client(ops).post(
        f"/api/v1/ops/drivers/{driver.pk}/cash-settlements",
        {"amount_vnd": amount, "hub": hub},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
        **headers,
    )


def assert_ledger_balances(*drivers: User) -> None:
    """Debits equal credits over the whole ledger, and each driver's cash account equals what the
    profile says they owe, to the dong."""
    debits = LedgerEntry.objects.aggregate(total=Sum("amount_vnd", default=0))["total"]
    per_account = {account: account_balance(account) for account in LedgerAccount.values}
    assert debits > 0
    assert sum(per_account.values()) == 0, per_account
    for driver in drivers:
        assert account_balance(LedgerAccount.DRIVER_CASH, driver_id=driver.pk) == owed(driver)


# --- Hub settlements -----------------------------------------------------------------------------


def test_cash_paid_in_at_a_hub_lowers_what_the_driver_owes_and_shows_in_their_history(
    pooled_order: Callable[..., Order], ops: User
) -> None:
    driver, order = deliver_cash_order(pooled_order)
    assert owed(driver) == order.total_vnd

    response = settle(ops, driver, 30_000)

    assert response.status_code == 201, response.json()
    assert response.json()["balance_after_vnd"] == order.total_vnd - 30_000
    assert owed(driver) == order.total_vnd - 30_000
    entry = LedgerEntry.objects.get(kind="cash_settled")
    assert (entry.amount_vnd, entry.debit, entry.credit, entry.driver_id, entry.order_id) == (
        30_000,
        "hub_cash",
        "driver_cash",
        driver.pk,
        None,
    )
    history = client_for(driver).get("/api/v1/driver/cash/settlements").json()
    assert history["count"] == 1
    assert history["results"][0] | {"created_at": None, "completed_at": None} == {
        "id": response.json()["id"],
        "method": "hub",
        "status": "completed",
        "amount_vnd": 30_000,
        "balance_after_vnd": order.total_vnd - 30_000,
        "hub": "Hub Q1",
        "pay_url": "",
        "deeplink": "",
        "created_at": None,
        "completed_at": None,
    }
    event = OutboxEvent.objects.get(topic="driver.cash_settled")
    assert event.payload["cash_balance_vnd"] == order.total_vnd - 30_000
    assert_ledger_balances(driver)


def test_a_settlement_of_more_than_is_owed_or_of_nothing_is_refused_and_nothing_is_written(
    pooled_order: Callable[..., Order], ops: User
) -> None:
    driver, order = deliver_cash_order(pooled_order)

    too_much = settle(ops, driver, order.total_vnd + 1)
    nothing = settle(ops, driver, 0)
    not_whole = settle(ops, driver, "1000.5")

    assert too_much.status_code == 409
    assert too_much.json()["error"]["code"] == "settlement_exceeds_balance"
    assert str(order.total_vnd) in too_much.json()["error"]["message"]
    assert (nothing.status_code, nothing.json()["error"]["code"]) == (422, "settlement_amount_invalid")
    assert (not_whole.status_code, not_whole.json()["error"]["code"]) == (400, "invalid")
    assert not CashSettlement.objects.exists()
    assert not LedgerEntry.objects.filter(kind="cash_settled").exists()
    assert owed(driver) == order.total_vnd


def test_only_ops_record_settlements_and_a_driver_sees_only_their_own(
    pooled_order: Callable[..., Order], ops: User
) -> None:
    driver, _ = deliver_cash_order(pooled_order)
    other = make_driver(online=False)
    settle(ops, driver, 5_000)

    for caller in (driver, other, UserFactory()):
        assert settle(caller, driver, 1_000).status_code == 403
    assert client_for(other).get("/api/v1/driver/cash/settlements").json()["count"] == 0
    assert client_for(other).get("/api/v1/driver/cash").json()["recent_settlements"] == []
    assert authenticated_client(UserFactory()).get("/api/v1/driver/cash").status_code == 403
    assert settle(ops, UserFactory(), 1_000).json()["error"]["code"] == "not_a_driver"
    assert CashSettlement.objects.count() == 1


# --- Top-ups through the gateway ------------------------------------------------------------------


def test_a_wallet_top_up_lowers_the_balance_once_the_gateway_confirms_it(
    pooled_order: Callable[..., Order], sandbox: SandboxProvider
) -> None:
    driver, order = deliver_cash_order(pooled_order)

    response = client_for(driver).post("/api/v1/driver/cash/top-ups", {"amount_vnd": 40_000}, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "pending"
    assert response.json()["pay_url"].startswith("https://sandbox.example/pay/")
    assert owed(driver) == order.total_vnd
    settlement = CashSettlement.objects.get()
    body, headers = sandbox.webhook(settlement.provider_ref)
    assert post_webhook(body, headers).json() == {"status": "completed"}
    assert post_webhook(body, headers).json() == {"status": "completed"}
    assert owed(driver) == order.total_vnd - 40_000
    assert LedgerEntry.objects.filter(kind="cash_topup").count() == 1
    assert_ledger_balances(driver)


def test_a_top_up_the_gateway_cannot_open_is_a_503_and_changes_nothing_owed(
    pooled_order: Callable[..., Order], sandbox: SandboxProvider
) -> None:
    driver, order = deliver_cash_order(pooled_order)
    sandbox.state.fail_next = 1

    response = client_for(driver).post("/api/v1/driver/cash/top-ups", {"amount_vnd": 40_000}, format="json")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "payment_gateway_unavailable"
    assert CashSettlement.objects.get().status == "failed"
    assert owed(driver) == order.total_vnd


def test_a_failed_top_up_leaves_the_balance(
    pooled_order: Callable[..., Order], sandbox: SandboxProvider
) -> None:
    driver, order = deliver_cash_order(pooled_order)
    client_for(driver).post("/api/v1/driver/cash/top-ups", {"amount_vnd": 40_000}, format="json")
    settlement = CashSettlement.objects.get()

    assert post_webhook(*sandbox.webhook(settlement.provider_ref, succeeded=False)).json() == {
        "status": "failed"
    }
    assert owed(driver) == order.total_vnd
    assert not LedgerEntry.objects.filter(kind="cash_topup").exists()


# --- The cash limit -------------------------------------------------------------------------------


def test_a_driver_over_the_cash_limit_gets_no_cash_order_until_they_settle(
    pooled_order: Callable[..., Order], ops: User, settings: SettingsWrapper
) -> None:
    driver, first = deliver_cash_order(pooled_order)
    settings.DRIVER_CASH_LIMIT_VND = first.total_vnd - 1
    assert client_for(driver).get("/api/v1/driver/cash").json()["takes_cash_orders"] is False

    second = pooled_order()
    assert run_round().offers == []

    settle(ops, driver, 1)
    [offer_id] = run_round().offers
    offered = client_for(driver).get("/api/v1/driver/offers").json()["offers"]
    assert [offer["order_ids"] for offer in offered] == [[second.pk]]
    assert offered[0]["offer_id"] == offer_id


def test_ops_cannot_hand_a_cash_order_to_a_driver_over_the_limit(
    pooled_order: Callable[..., Order], ops: User, settings: SettingsWrapper
) -> None:
    driver, first = deliver_cash_order(pooled_order)
    settings.DRIVER_CASH_LIMIT_VND = first.total_vnd - 1
    waiting = pooled_order()

    response = authenticated_client(ops).post(
        "/api/v1/ops/dispatch/assign", {"order_id": waiting.pk, "driver_id": driver.pk}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "driver_over_cash_limit"
    assert Order.objects.get(pk=waiting.pk).driver_id is None


def test_the_policy_gives_a_driver_who_may_not_carry_cash_only_orders_paid_online() -> None:
    params = DispatchParams(travel=EuclideanTravel(metres_per_minute=100))
    here = Point(0, 0)
    blocked = AvailableDriver("d1", here, 0, here, 600, takes_cash=False)
    cash = PendingOrder("cash", "m1", here, Point(1000, 0), 0, 0, pays_cash=True)
    online = PendingOrder("online", "m2", here, Point(1000, 0), 0, 0, pays_cash=False)

    assert plan_round([cash], [blocked], 0, params) == []
    [assignment] = plan_round([cash, online], [blocked], 0, params)
    assert assignment.order_ids == ("online",)


# --- Ops: dashboard and admin ---------------------------------------------------------------------


def test_the_ops_dashboard_lists_the_largest_cash_balances(
    pooled_order: Callable[..., Order], ops: User, settings: SettingsWrapper
) -> None:
    driver, order = deliver_cash_order(pooled_order)
    small = make_driver(online=False)
    DriverProfile.objects.filter(pk=small.pk).update(cash_balance_vnd=1_000)
    settings.DRIVER_CASH_LIMIT_VND = order.total_vnd - 1
    client = Client()
    client.force_login(ops)

    page = client.get("/admin/ops/dashboard/").content.decode()

    table = page[page.index('id="cash-balances"') :]
    assert table.index(f'data-driver-id="{driver.pk}"') < table.index(f'data-driver-id="{small.pk}"')
    assert "bị chặn đến khi nộp" in table  # blocked until settled


def test_ops_record_cash_paid_in_at_a_hub_in_the_admin(pooled_order: Callable[..., Order], ops: User) -> None:
    driver, order = deliver_cash_order(pooled_order)
    client = Client()
    client.force_login(ops)
    url = "/admin/drivers/cashsettlement/add/"

    refused = client.post(url, {"driver": driver.pk, "amount_vnd": order.total_vnd + 1, "hub": "Hub Q3"})
    accepted = client.post(url, {"driver": driver.pk, "amount_vnd": order.total_vnd, "hub": "Hub Q3"})

    assert refused.status_code == 200
    assert list(refused.context["adminform"].form.errors) == ["amount_vnd"]
    assert accepted.status_code == 302
    settlement = CashSettlement.objects.get()
    assert (settlement.recorded_by_id, settlement.hub, settlement.balance_after_vnd) == (ops.pk, "Hub Q3", 0)
    assert owed(driver) == 0
    assert_ledger_balances(driver)


def test_staff_who_are_not_ops_cannot_record_settlements_in_the_admin(
    pooled_order: Callable[..., Order],
) -> None:
    driver, order = deliver_cash_order(pooled_order)
    staff = UserFactory(roles=[Role.MERCHANT_STAFF], is_staff=True)
    client = Client()
    client.force_login(staff)

    response = client.post(
        "/admin/drivers/cashsettlement/add/", {"driver": driver.pk, "amount_vnd": 1, "hub": "x"}
    )

    assert response.status_code == 403
    assert owed(driver) == order.total_vnd


def test_the_ledger_balances_to_the_dong_across_deliveries_settlements_and_top_ups(
    pooled_order: Callable[..., Order], ops: User, sandbox: SandboxProvider
) -> None:
    driver, first = deliver_cash_order(pooled_order)
    _, second = deliver_cash_order(pooled_order, driver=driver)
    settle(ops, driver, 12_345)
    client_for(driver).post("/api/v1/driver/cash/top-ups", {"amount_vnd": 7_001}, format="json")
    post_webhook(*sandbox.webhook(CashSettlement.objects.get(method="wallet").provider_ref))

    assert owed(driver) == first.total_vnd + second.total_vnd - 12_345 - 7_001
    assert_ledger_balances(driver)
    assert account_balance(LedgerAccount.HUB_CASH) == 12_345
    # Each delivery shares the order's money out (merchant, commission, fees): nothing stays receivable.
    assert account_balance(LedgerAccount.ORDERS_RECEIVABLE) == 0
    assert (
        -account_balance(LedgerAccount.MERCHANT_PAYABLE)
        - account_balance(LedgerAccount.COMMISSION_REVENUE)
        - account_balance(LedgerAccount.FEES_REVENUE)
        == first.total_vnd + second.total_vnd
    )


def test_a_hub_settlement_sent_again_with_its_key_answers_as_the_first_and_writes_nothing(
    pooled_order: Callable[..., Order], ops: User
) -> None:
    driver, _ = deliver_cash_order(pooled_order)

    first, _ = sent_twice(lambda: settle(ops, driver, 2_000, key="hub-again"))

    assert first.status_code == 201


def test_a_tip_reaches_the_drivers_earnings_of_the_day_in_full(
    pooled_order: Callable[..., Order], sandbox: SandboxProvider
) -> None:
    order = pooled_order(tip_vnd=20_000)
    tip = Tip.objects.get(order=order)
    post_webhook(*sandbox.webhook(tip.provider_ref))
    driver = make_driver(lat=offset(400))
    deliver_cash_order(lambda: order, driver=driver)

    summary = client_for(driver).get("/api/v1/driver/earnings").json()

    [line] = summary["orders"]
    assert summary["tips_vnd"] == line["tip_vnd"] == 20_000
    assert summary["earnings_vnd"] == summary["base_pay_vnd"] + summary["distance_pay_vnd"] + 20_000
    assert owed(driver) == order.total_vnd  # the tip was paid online: not cash the driver owes
    assert_ledger_balances(driver)
