"""E-wallet payments through the sandbox gateway: a real HTTP client against a local provider."""

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from loship.events.models import OutboxEvent
from orders import services
from orders.gateways import GatewayError
from orders.gateways.sandbox import SandboxGateway, signed_headers
from orders.models import (
    ActorRole,
    LedgerEntry,
    Order,
    OrderEvent,
    OrderStatus,
    Payment,
    PaymentAttemptStatus,
    PaymentStatus,
)
from orders.selectors import orders_for_merchant_staff
from orders.tasks import sweep_deadlines
from tests.orders.factories import NEAR_LAT, NEAR_LNG, Menu, make_staff
from tests.orders.sandbox_provider import SandboxProvider

pytestmark = pytest.mark.django_db

WEBHOOK = "/api/v1/payments/sandbox/webhook"


@pytest.fixture
def ewallet_order(place: Callable[..., Any], sandbox: SandboxProvider) -> Order:
    response = place(payment_method="ewallet")
    assert response.status_code == 201, response.json()
    return Order.objects.get(pk=response.json()["id"])


def post_webhook(body: bytes, headers: dict[str, str]) -> Any:
    return APIClient().post(WEBHOOK, body, content_type="application/json", **headers)


def test_placing_an_ewallet_order_opens_a_payment_and_returns_where_to_pay(
    place: Callable[..., Any], sandbox: SandboxProvider
) -> None:
    response = place(payment_method="ewallet")

    body = response.json()
    assert response.status_code == 201
    assert body["payment_status"] == "pending"
    assert body["payment"]["pay_url"].startswith("https://sandbox.example/pay/")
    assert body["payment"]["deeplink"].startswith("sandboxwallet://")
    assert body["payment"]["deadline"] is not None
    assert [e["kind"] for e in body["timeline"]] == ["payment_pending"]
    assert not OutboxEvent.objects.filter(topic="order.placed").exists()


def test_an_unpaid_order_is_invisible_to_the_merchant_and_cannot_be_accepted(
    ewallet_order: Order, menu: Menu
) -> None:
    staff = make_staff(menu.merchant)

    assert not orders_for_merchant_staff(staff).exists()
    with pytest.raises(Exception) as refused:
        services.accept_order(order_id=ewallet_order.pk, actor=staff, prep_minutes=10)
    assert getattr(refused.value, "code", "") == "order_awaiting_payment"


def test_a_signed_success_webhook_confirms_the_payment_and_releases_the_order(
    ewallet_order: Order, sandbox: SandboxProvider, menu: Menu
) -> None:
    payment = Payment.objects.get(order=ewallet_order)

    response = post_webhook(*sandbox.webhook(payment.provider_ref))

    assert response.status_code == 200
    ewallet_order.refresh_from_db()
    assert ewallet_order.payment_status == PaymentStatus.PAID
    assert ewallet_order.merchant_accept_deadline is not None
    assert ewallet_order.payment_deadline is None
    charge = LedgerEntry.objects.get(order=ewallet_order)
    assert (charge.kind, charge.amount_vnd) == ("charge", ewallet_order.total_vnd)
    assert OutboxEvent.objects.get(topic="order.placed").payload["payment_status"] == "paid"
    assert orders_for_merchant_staff(make_staff(menu.merchant)).get() == ewallet_order


def test_a_replayed_webhook_has_no_second_effect(ewallet_order: Order, sandbox: SandboxProvider) -> None:
    body, headers = sandbox.webhook(Payment.objects.get(order=ewallet_order).provider_ref)

    first, second = post_webhook(body, headers), post_webhook(body, headers)

    assert (first.status_code, second.status_code) == (200, 200)
    ewallet_order.refresh_from_db()
    assert ewallet_order.version == 2
    assert LedgerEntry.objects.filter(order=ewallet_order).count() == 1
    assert OutboxEvent.objects.filter(topic="order.placed").count() == 1


@pytest.mark.parametrize("tamper", ["bad_secret", "edited_body", "no_signature", "stale"])
def test_a_webhook_with_a_bad_signature_changes_nothing(
    ewallet_order: Order, sandbox: SandboxProvider, tamper: str
) -> None:
    payment_id = Payment.objects.get(order=ewallet_order).provider_ref
    body, headers = sandbox.webhook(payment_id, secret="wrong" if tamper == "bad_secret" else None)
    if tamper == "edited_body":
        body = body.replace(b"payment.succeeded", b"payment.failed")
    if tamper == "no_signature":
        headers = {}
    if tamper == "stale":
        stale = signed_headers(sandbox.state.secret, body, now=timezone.now().timestamp() - 3600)
        headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in stale.items()}

    response = post_webhook(body, headers)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "webhook_signature_invalid"
    ewallet_order.refresh_from_db()
    assert (ewallet_order.payment_status, ewallet_order.version) == (PaymentStatus.PENDING, 1)
    assert not LedgerEntry.objects.exists()


def test_a_webhook_for_a_different_amount_is_refused(ewallet_order: Order, sandbox: SandboxProvider) -> None:
    response = post_webhook(*sandbox.webhook(Payment.objects.get(order=ewallet_order).provider_ref, amount=1))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "payment_amount_mismatch"
    ewallet_order.refresh_from_db()
    assert ewallet_order.payment_status == PaymentStatus.PENDING


def test_a_failed_payment_cancels_the_order(ewallet_order: Order, sandbox: SandboxProvider) -> None:
    response = post_webhook(
        *sandbox.webhook(Payment.objects.get(order=ewallet_order).provider_ref, succeeded=False)
    )

    assert response.status_code == 200
    ewallet_order.refresh_from_db()
    assert (ewallet_order.status, ewallet_order.payment_status) == (
        OrderStatus.CANCELLED,
        PaymentStatus.FAILED,
    )
    assert ewallet_order.status_reason == "payment_failed"
    assert not LedgerEntry.objects.exists()


def test_an_unpaid_order_expires_after_its_deadline(ewallet_order: Order, settings: SettingsWrapper) -> None:
    Order.objects.filter(pk=ewallet_order.pk).update(payment_deadline=timezone.now() - timedelta(seconds=1))

    result = sweep_deadlines()

    ewallet_order.refresh_from_db()
    assert result["payment_expiries"] == 1
    assert (ewallet_order.status, ewallet_order.payment_status) == (
        OrderStatus.CANCELLED,
        PaymentStatus.EXPIRED,
    )
    assert Payment.objects.get(order=ewallet_order).status == PaymentAttemptStatus.EXPIRED
    assert sweep_deadlines()["payment_expiries"] == 0


def test_a_paid_order_that_is_cancelled_is_refunded_through_the_gateway(
    ewallet_order: Order, sandbox: SandboxProvider
) -> None:
    payment = Payment.objects.get(order=ewallet_order)
    post_webhook(*sandbox.webhook(payment.provider_ref))

    services.cancel_order(order_id=ewallet_order.pk, actor=None, by=ActorRole.OPS, reason="khách gọi hủy")
    ewallet_order.refresh_from_db()
    assert ewallet_order.payment_status == PaymentStatus.REFUND_PENDING
    services.refund_payment(payment_id=payment.pk)
    services.refund_payment(payment_id=payment.pk)

    ewallet_order.refresh_from_db()
    assert ewallet_order.payment_status == PaymentStatus.REFUNDED
    assert len(sandbox.state.refunds) == 1
    kinds = list(LedgerEntry.objects.filter(order=ewallet_order).values_list("kind", "amount_vnd"))
    assert kinds == [("charge", ewallet_order.total_vnd), ("refund", ewallet_order.total_vnd)]


def test_a_refund_the_gateway_refuses_is_retried_by_the_sweep(
    ewallet_order: Order, sandbox: SandboxProvider
) -> None:
    payment = Payment.objects.get(order=ewallet_order)
    post_webhook(*sandbox.webhook(payment.provider_ref))
    services.cancel_order(order_id=ewallet_order.pk, actor=None, by=ActorRole.OPS, reason="x")
    sandbox.state.fail_next = 1

    with pytest.raises(GatewayError):
        services.refund_payment(payment_id=payment.pk)
    assert sweep_deadlines()["refunds"] == 1

    ewallet_order.refresh_from_db()
    assert ewallet_order.payment_status == PaymentStatus.REFUNDED


def test_a_payment_arriving_after_cancellation_is_refunded(
    ewallet_order: Order, sandbox: SandboxProvider
) -> None:
    payment = Payment.objects.get(order=ewallet_order)
    services.cancel_order(order_id=ewallet_order.pk, actor=None, by=ActorRole.CUSTOMER)

    post_webhook(*sandbox.webhook(payment.provider_ref))
    services.refund_payment(payment_id=payment.pk)

    ewallet_order.refresh_from_db()
    assert (ewallet_order.status, ewallet_order.payment_status) == (
        OrderStatus.CANCELLED,
        PaymentStatus.REFUNDED,
    )
    assert LedgerEntry.objects.filter(order=ewallet_order).count() == 2


def test_the_gateway_client_signs_requests_the_provider_checks(sandbox: SandboxProvider) -> None:
    wrong = SandboxGateway(base_url=sandbox.url, api_key="test-key", secret="not-the-secret")

    with pytest.raises(GatewayError):
        wrong.create_payment(merchant_ref="LSX", amount_vnd=1000, description="d", return_url="r")


def test_the_order_stands_when_the_gateway_is_down_and_payment_can_be_retried(
    place: Callable[..., Any], sandbox: SandboxProvider, customer_client: APIClient
) -> None:
    sandbox.state.fail_next = 1
    response = place(payment_method="ewallet")
    assert response.status_code == 201
    assert response.json()["payment"]["pay_url"] in ("", None)

    retried = customer_client.post(f"/api/v1/orders/{response.json()['id']}/payment")

    assert retried.status_code == 200
    assert retried.json()["payment"]["pay_url"].startswith("https://sandbox.example/pay/")


def test_a_paid_or_cancelled_order_cannot_be_paid_again(
    ewallet_order: Order, sandbox: SandboxProvider, customer_client: APIClient
) -> None:
    payment = Payment.objects.get(order=ewallet_order)
    post_webhook(*sandbox.webhook(payment.provider_ref))
    cancelled_id = customer_client.post(
        "/api/v1/orders", {**_body_of(ewallet_order)}, format="json", HTTP_IDEMPOTENCY_KEY="second"
    ).json()["id"]
    customer_client.post(f"/api/v1/orders/{cancelled_id}/cancel", {}, format="json")
    created_before = len(sandbox.state.payments)

    paid_again = customer_client.post(f"/api/v1/orders/{ewallet_order.pk}/payment")
    cancelled = customer_client.post(f"/api/v1/orders/{cancelled_id}/payment")

    for response in (paid_again, cancelled):
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "order_not_payable"
    assert len(sandbox.state.payments) == created_before


def _body_of(order: Order) -> dict[str, Any]:
    """The cart of a placed test order, to place it again."""
    return {
        "merchant_id": order.merchant_id,
        "lines": [
            {"item_id": line.menu_item_id, "quantity": line.quantity,
             "option_ids": [option["option_id"] for option in line.options]}
            for line in order.lines.all()
        ],
        "delivery_lat": str(NEAR_LAT),
        "delivery_lng": str(NEAR_LNG),
        "payment_method": "ewallet",
    }  # fmt: skip


def test_a_merchant_rejecting_a_paid_order_refunds_it_and_the_ledger_balances(
    ewallet_order: Order, sandbox: SandboxProvider, menu: Menu
) -> None:
    payment = Payment.objects.get(order=ewallet_order)
    post_webhook(*sandbox.webhook(payment.provider_ref))

    services.reject_order(order_id=ewallet_order.pk, actor=make_staff(menu.merchant), reason="Hết món")
    services.refund_payment(payment_id=payment.pk)

    ewallet_order.refresh_from_db()
    assert (ewallet_order.status, ewallet_order.payment_status) == (
        OrderStatus.REJECTED,
        PaymentStatus.REFUNDED,
    )
    entries = list(LedgerEntry.objects.filter(order=ewallet_order).order_by("id"))
    assert [(e.kind, e.debit, e.credit) for e in entries] == [
        ("charge", "gateway", "orders_receivable"),
        ("refund", "orders_receivable", "gateway"),
    ]
    assert sum(e.amount_vnd for e in entries if e.credit == "orders_receivable") == sum(
        e.amount_vnd for e in entries if e.debit == "orders_receivable"
    )
    assert OutboxEvent.objects.filter(
        aggregate_id=str(ewallet_order.pk), topic="order.payment_updated"
    ).exists()


def test_a_replayed_failure_webhook_or_a_success_after_failure_books_at_most_once(
    ewallet_order: Order, sandbox: SandboxProvider
) -> None:
    payment = Payment.objects.get(order=ewallet_order)
    failed = sandbox.webhook(payment.provider_ref, succeeded=False)

    post_webhook(*failed)
    post_webhook(*failed)
    late_success = post_webhook(*sandbox.webhook(payment.provider_ref))
    services.refund_payment(payment_id=payment.pk)

    ewallet_order.refresh_from_db()
    assert late_success.status_code == 200
    assert ewallet_order.status == OrderStatus.CANCELLED
    assert OrderEvent.objects.filter(order=ewallet_order, kind="cancelled").count() == 1
    kinds = list(LedgerEntry.objects.filter(order=ewallet_order).values_list("kind", flat=True))
    assert kinds == ["charge", "refund"]


def test_a_webhook_for_an_unknown_payment_is_404_and_changes_nothing(
    ewallet_order: Order, sandbox: SandboxProvider
) -> None:
    body = json.dumps(
        {"event_id": "evt_x", "type": "payment.succeeded", "payment_id": "pay_nope", "merchant_ref": "LSNOPE",
         "amount": 1000}
    ).encode()  # fmt: skip
    headers = {
        f"HTTP_{k.upper().replace('-', '_')}": v
        for k, v in signed_headers(sandbox.state.secret, body).items()
    }

    response = post_webhook(body, headers)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "payment_not_found"
    assert not LedgerEntry.objects.exists()
