"""Tips for the driver: given at checkout or after delivery, paid through the sandbox gateway, held until
delivery, then every dong in the driver's earnings; refunded when the order ends before pickup."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from loship.events.models import OutboxEvent
from orders import services
from orders.models import LedgerEntry, Order, Tip, TipStatus
from orders.services.ledger import account_balance
from tests.conftest import authenticated_client
from tests.factories import UserFactory
from tests.orders.factories import make_staff
from tests.orders.sandbox_provider import SandboxProvider
from tests.orders.test_payments import post_webhook
from tests.retries import sent_twice
from users.models import Role, User

pytestmark = pytest.mark.django_db


def deliver(order: Order) -> User:
    """Take a placed cash order through the merchant and a driver to delivery; returns the driver."""
    driver = UserFactory(roles=[Role.DRIVER])
    services.accept_order(order_id=order.pk, actor=None, prep_minutes=10)
    services.assign_driver(order_id=order.pk, driver=driver)
    services.mark_picked_up(order_id=order.pk, driver=driver)
    services.mark_delivered(order_id=order.pk, driver=driver)
    return driver


def pay(sandbox: SandboxProvider, tip: Tip, *, succeeded: bool = True) -> Any:
    tip.refresh_from_db()
    return post_webhook(*sandbox.webhook(tip.provider_ref, succeeded=succeeded))


def ledger_of(order: Order) -> list[tuple[str, int, str, str, int | None]]:
    return [
        (entry.kind, entry.amount_vnd, entry.debit, entry.credit, entry.driver_id)
        for entry in LedgerEntry.objects.filter(order=order).order_by("id")
    ]


def test_a_tip_given_at_checkout_is_paid_held_and_goes_whole_to_the_driver_at_delivery(
    place: Callable[..., Any],
    sandbox: SandboxProvider,
    customer_client: Any,
) -> None:
    response = place(tip_vnd=20_000)

    assert response.status_code == 201, response.json()
    order = Order.objects.get(pk=response.json()["id"])
    tip = Tip.objects.get(order=order)
    assert (tip.amount_vnd, tip.status) == (20_000, TipStatus.PENDING)
    shown = customer_client.get(f"/api/v1/orders/{order.pk}/tip").json()
    assert shown["pay_url"].startswith("https://sandbox.example/pay/")
    assert sandbox.state.payments[tip.provider_ref]["merchant_ref"] == f"tip-{order.code}"

    assert pay(sandbox, tip).json() == {"status": "held"}
    driver = deliver(order)

    tip.refresh_from_db()
    assert tip.status == TipStatus.PAID_OUT
    fees = order.total_vnd - order.subtotal_vnd
    assert ledger_of(order) == [
        ("tip", 20_000, "gateway", "tips_held", None),
        ("cod_collected", order.total_vnd, "driver_cash", "orders_receivable", driver.pk),
        # The order's money shared out at delivery: the tip is no part of the merchant's sale.
        ("sale", order.subtotal_vnd, "orders_receivable", "merchant_payable", None),
        ("commission", 17_000, "merchant_payable", "commission", None),
        ("order_fees", fees, "orders_receivable", "fees", None),
        ("tip_payout", 20_000, "tips_held", "driver_earnings", driver.pk),
    ]
    assert account_balance("driver_earnings", driver_id=driver.pk) == -20_000
    assert account_balance("tips_held") == 0
    reasons = list(order.events.filter(kind="tip_updated").values_list("reason", flat=True))
    assert reasons == ["tip_given", "tip_held", "tip_paid_out"]
    assert OutboxEvent.objects.filter(topic="order.tip_updated", aggregate_id=order.pk).count() == 3


def test_a_tip_after_delivery_is_paid_out_as_soon_as_it_is_paid(
    placed_order: Order,
    sandbox: SandboxProvider,
    customer_client: Any,
) -> None:
    driver = deliver(placed_order)

    response = customer_client.post(
        f"/api/v1/orders/{placed_order.pk}/tip", {"amount_vnd": 15_000}, format="json"
    )

    assert response.status_code == 201, response.json()
    tip = Tip.objects.get(order=placed_order)
    assert pay(sandbox, tip).json() == {"status": "paid_out"}
    assert ledger_of(placed_order)[-2:] == [
        ("tip", 15_000, "gateway", "tips_held", None),
        ("tip_payout", 15_000, "tips_held", "driver_earnings", driver.pk),
    ]
    replay = pay(sandbox, tip)
    assert replay.json() == {"status": "paid_out"}
    assert LedgerEntry.objects.filter(order=placed_order, kind="tip_payout").count() == 1


def test_a_tip_more_than_a_day_after_delivery_is_refused(placed_order: Order, customer_client: Any) -> None:
    deliver(placed_order)
    hours = settings.TIP_WINDOW_HOURS
    Order.objects.filter(pk=placed_order.pk).update(
        delivered_at=timezone.now() - timedelta(hours=hours, minutes=1)
    )

    response = customer_client.post(
        f"/api/v1/orders/{placed_order.pk}/tip",
        {"amount_vnd": 10_000},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "tip_window_closed"
    assert f"{hours} hours" in response.json()["error"]["message"]
    assert not Tip.objects.exists()


@pytest.mark.parametrize(
    ("amount", "status", "code"),
    [
        (0, 422, "tip_amount_out_of_bounds"),
        (-5_000, 422, "tip_amount_out_of_bounds"),
        (500_001, 422, "tip_amount_out_of_bounds"),
        ("12000.5", 400, "invalid"),
        ("lots", 400, "invalid"),
    ],
)
def test_a_tip_outside_the_bounds_or_not_whole_dong_is_refused_and_nothing_is_written(
    placed_order: Order, customer_client: Any, amount: Any, status: int, code: str
) -> None:
    response = customer_client.post(
        f"/api/v1/orders/{placed_order.pk}/tip", {"amount_vnd": amount}, format="json"
    )

    assert response.status_code == status, response.json()
    assert response.json()["error"]["code"] == code
    assert not Tip.objects.exists()
    assert not placed_order.events.filter(kind="tip_updated").exists()


def test_a_checkout_with_a_tip_out_of_bounds_places_no_order(place: Callable[..., Any]) -> None:
    response = place(tip_vnd=settings.TIP_MAX_VND + 1)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "tip_amount_out_of_bounds"
    assert not Order.objects.exists()


def test_the_same_tip_again_is_the_same_tip_and_another_amount_is_refused(
    placed_order: Order,
    sandbox: SandboxProvider,
    customer_client: Any,
) -> None:
    url = f"/api/v1/orders/{placed_order.pk}/tip"
    first = customer_client.post(url, {"amount_vnd": 10_000}, format="json")
    again = customer_client.post(url, {"amount_vnd": 10_000}, format="json")
    other = customer_client.post(url, {"amount_vnd": 30_000}, format="json")

    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 409)
    assert other.json()["error"]["code"] == "tip_already_given"
    assert Tip.objects.get().amount_vnd == 10_000
    assert len(sandbox.state.payments) == 1


def test_only_the_customer_of_the_order_may_tip_or_read_its_tip(
    placed_order: Order,
    sandbox: SandboxProvider,
) -> None:
    strangers = [
        UserFactory(),
        UserFactory(roles=[Role.DRIVER]),
        make_staff(placed_order.merchant),
    ]
    for stranger in strangers:
        client = authenticated_client(stranger)
        url = f"/api/v1/orders/{placed_order.pk}/tip"
        assert client.post(url, {"amount_vnd": 10_000}, format="json").status_code == 404
        assert client.get(url).status_code == 404
    assert not Tip.objects.exists()


def test_a_paid_tip_is_refunded_when_the_order_is_cancelled_before_pickup(
    place: Callable[..., Any],
    sandbox: SandboxProvider,
) -> None:
    order = Order.objects.get(pk=place(tip_vnd=25_000).json()["id"])
    tip = Tip.objects.get(order=order)
    pay(sandbox, tip)
    services.accept_order(order_id=order.pk, actor=None, prep_minutes=10)

    services.cancel_order(order_id=order.pk, actor=None, by="ops", reason="kitchen fire")
    tip.refresh_from_db()
    assert tip.status == TipStatus.REFUND_PENDING
    services.refund_tip(tip_id=tip.pk)
    services.refund_tip(tip_id=tip.pk)

    tip.refresh_from_db()
    assert tip.status == TipStatus.REFUNDED
    assert len(sandbox.state.refunds) == 1
    assert ledger_of(order) == [
        ("tip", 25_000, "gateway", "tips_held", None),
        ("tip_refund", 25_000, "tips_held", "gateway", None),
    ]
    assert account_balance("tips_held") == 0


def test_an_unpaid_tip_of_a_cancelled_order_fails_and_a_late_payment_is_refunded(
    place: Callable[..., Any],
    sandbox: SandboxProvider,
) -> None:
    order = Order.objects.get(pk=place(tip_vnd=10_000).json()["id"])
    services.cancel_order(order_id=order.pk, actor=None, by="ops", reason="closed")
    tip = Tip.objects.get(order=order)
    assert tip.status == TipStatus.FAILED

    assert pay(sandbox, tip).json() == {"status": "refund_pending"}
    services.refund_tip(tip_id=tip.pk)

    assert [kind for kind, *_ in ledger_of(order)] == ["tip", "tip_refund"]


def test_a_cancelled_order_takes_no_tip(placed_order: Order, customer_client: Any) -> None:
    services.cancel_order(order_id=placed_order.pk, actor=None, by="ops", reason="closed")

    response = customer_client.post(
        f"/api/v1/orders/{placed_order.pk}/tip", {"amount_vnd": 10_000}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "tip_not_allowed"


def test_a_tip_webhook_for_the_wrong_amount_changes_nothing(
    placed_order: Order,
    sandbox: SandboxProvider,
    customer_client: Any,
) -> None:
    customer_client.post(f"/api/v1/orders/{placed_order.pk}/tip", {"amount_vnd": 10_000}, format="json")
    tip = Tip.objects.get()

    response = post_webhook(*sandbox.webhook(tip.provider_ref, amount=1_000))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "payment_amount_mismatch"
    tip.refresh_from_db()
    assert tip.status == TipStatus.PENDING
    assert not LedgerEntry.objects.exists()


def test_a_tip_sent_again_answers_as_the_first_and_writes_nothing(
    placed_order: Order, sandbox: SandboxProvider, customer_client: Any
) -> None:
    first, _ = sent_twice(
        lambda: customer_client.post(
            f"/api/v1/orders/{placed_order.pk}/tip", {"amount_vnd": 5_000}, format="json"
        )
    )

    assert first.status_code == 201
