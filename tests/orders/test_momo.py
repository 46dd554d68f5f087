"""E-wallet payments through MoMo: the real client (orders/gateways/momo.py) against a local server
speaking MoMo's v2 protocol, which checks our signatures and signs its answers and IPNs."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from orders import services
from orders.gateways import GatewayError, RefundRefused
from orders.gateways.momo import (
    CREATE_FIELDS,
    IPN_FIELDS,
    REFUND_FIELDS,
    MomoGateway,
    raw_signature,
    refund_order_id,
)
from orders.models import (
    ActorRole,
    LedgerEntry,
    Order,
    OrderStatus,
    Payment,
    PaymentAttemptStatus,
    PaymentStatus,
    RefusedNotice,
    Tip,
    TipStatus,
)
from orders.tasks import reconcile_gateway_payments
from tests.orders.momo_provider import MomoProvider

pytestmark = pytest.mark.django_db

IPN = "/api/v1/payments/momo/ipn"


@pytest.fixture
def momo_order(place: Callable[..., Any], momo: MomoProvider) -> Order:
    response = place(payment_method="ewallet")
    assert response.status_code == 201, response.json()
    return Order.objects.get(pk=response.json()["id"])


def post_ipn(body: bytes) -> Any:
    return APIClient().post(IPN, body, content_type="application/json")


def charges(order: Order) -> list[tuple[str, int]]:
    return list(LedgerEntry.objects.filter(order=order).order_by("pk").values_list("kind", "amount_vnd"))


def gateway() -> MomoGateway:
    return MomoGateway.from_settings()


# --- creating a payment ------------------------------------------------------------------------------


def test_an_ewallet_order_opens_a_momo_payment_and_returns_its_pay_url_and_deeplink(
    place: Callable[..., Any], momo: MomoProvider
) -> None:
    response = place(payment_method="ewallet")

    body = response.json()
    order = Order.objects.get(pk=body["id"])
    payment = Payment.objects.get(order=order)
    assert response.status_code == 201
    assert body["payment"]["pay_url"].startswith("https://test-payment.momo.vn/v2/gateway/pay")
    assert body["payment"]["deeplink"].startswith("momo://app")
    assert (payment.provider, payment.provider_ref) == ("momo", order.code)
    assert momo.state.payments[order.code]["amount"] == order.total_vnd


def test_the_sandbox_stays_the_provider_unless_momo_is_configured(
    place: Callable[..., Any], sandbox: Any
) -> None:
    response = place(payment_method="ewallet")

    assert Payment.objects.get(order_id=response.json()["id"]).provider == "sandbox"


def test_the_client_signs_the_documented_fields_in_alphabetical_order() -> None:
    fields = {
        "partnerCode": "MOMO",
        "accessKey": "AK",
        "requestId": "LS1",
        "amount": 50000,
        "orderId": "LS1",
        "orderInfo": "Loship LS1",
        "redirectUrl": "loship://orders/LS1",
        "ipnUrl": "https://x/ipn",
        "requestType": "captureWallet",
        "extraData": "",
    }

    assert raw_signature(fields, CREATE_FIELDS) == (
        "accessKey=AK&amount=50000&extraData=&ipnUrl=https://x/ipn&orderId=LS1&orderInfo=Loship LS1"
        "&partnerCode=MOMO&redirectUrl=loship://orders/LS1&requestId=LS1&requestType=captureWallet"
    )
    assert [name for name in IPN_FIELDS] == sorted(IPN_FIELDS)


def test_momo_refuses_a_request_signed_with_another_key(momo: MomoProvider) -> None:
    wrong = MomoGateway(
        endpoint=momo.url,
        partner_code=momo.state.partner_code,
        access_key=momo.state.access_key,
        secret_key="not-the-secret",
        ipn_url="https://x/ipn",
    )

    with pytest.raises(GatewayError):
        wrong.create_payment(merchant_ref="LSX1", amount_vnd=50_000, description="d", return_url="r")
    assert "LSX1" not in momo.state.payments


def test_a_momo_that_does_not_answer_in_time_leaves_the_order_payable_later(
    place: Callable[..., Any], momo: MomoProvider, customer_client: APIClient, settings: SettingsWrapper
) -> None:
    settings.MOMO_TIMEOUT_SECONDS = 0.3
    momo.state.delay_seconds = 1.0
    response = place(payment_method="ewallet")
    assert response.status_code == 201
    assert response.json()["payment"]["pay_url"] in ("", None)

    momo.state.delay_seconds = 0
    retried = customer_client.post(f"/api/v1/orders/{response.json()['id']}/payment")

    assert retried.status_code == 200
    assert retried.json()["payment"]["pay_url"].startswith("https://test-payment.momo.vn/")


def test_a_momo_error_answer_is_a_503_and_the_order_stands(
    momo_order: Order, momo: MomoProvider, customer_client: APIClient
) -> None:
    Payment.objects.filter(order=momo_order).update(provider_ref="", pay_url="", deeplink="")
    momo.state.fail_next = 1

    response = customer_client.post(f"/api/v1/orders/{momo_order.pk}/payment")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "payment_gateway_unavailable"
    momo_order.refresh_from_db()
    assert (momo_order.status, momo_order.payment_status) == (OrderStatus.PLACED, PaymentStatus.PENDING)


# --- the IPN -----------------------------------------------------------------------------------------


def test_a_signed_ipn_confirms_the_payment_and_a_duplicate_changes_nothing(
    momo_order: Order, momo: MomoProvider
) -> None:
    momo.pay(momo_order.code)
    ipn = momo.ipn(momo_order.code)

    first = post_ipn(ipn)
    events_after_first = momo_order.events.count()
    second = post_ipn(ipn)

    assert (first.status_code, second.status_code) == (204, 204)
    momo_order.refresh_from_db()
    assert momo_order.payment_status == PaymentStatus.PAID
    assert Payment.objects.get(order=momo_order).status == PaymentAttemptStatus.SUCCEEDED
    assert charges(momo_order) == [("charge", momo_order.total_vnd)]
    assert momo_order.events.count() == events_after_first


def test_an_ipn_with_a_bad_signature_is_refused_in_the_error_shape_and_writes_nothing(
    momo_order: Order, momo: MomoProvider
) -> None:
    momo.pay(momo_order.code)

    forged = post_ipn(momo.ipn(momo_order.code, secret_key="guessed"))
    unsigned = post_ipn(b'{"orderId": "%s", "resultCode": 0}' % momo_order.code.encode())
    garbage = post_ipn(b"not json")

    for response in (forged, unsigned, garbage):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "webhook_signature_invalid"
        assert set(response.json()["error"]) >= {"code", "message"}
    assert Payment.objects.get(order=momo_order).status == PaymentAttemptStatus.CREATED
    assert charges(momo_order) == []
    assert not RefusedNotice.objects.exists()


def test_an_ipn_for_another_partner_is_refused(momo_order: Order, momo: MomoProvider) -> None:
    momo.pay(momo_order.code)
    other = MomoProvider(partner_code="SOMEONEELSE", secret_key=momo.state.secret_key)
    other.state.payments = momo.state.payments

    response = post_ipn(other.ipn(momo_order.code))

    assert response.status_code == 401
    assert charges(momo_order) == []


def test_an_ipn_for_another_amount_is_refused_recorded_once_and_not_paid(
    momo_order: Order, momo: MomoProvider
) -> None:
    momo.pay(momo_order.code)
    short = momo.ipn(momo_order.code, amount=momo_order.total_vnd - 1_000)

    responses = [post_ipn(short), post_ipn(short)]

    for response in responses:
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "payment_amount_mismatch"
    assert Payment.objects.get(order=momo_order).status == PaymentAttemptStatus.CREATED
    assert charges(momo_order) == []
    refused = RefusedNotice.objects.get()
    assert (refused.provider, refused.merchant_ref, refused.reason) == (
        "momo",
        momo_order.code,
        "amount_mismatch",
    )
    assert (refused.expected_vnd, refused.received_vnd) == (
        momo_order.total_vnd,
        momo_order.total_vnd - 1_000,
    )


def test_an_ipn_momo_still_waits_on_changes_nothing(momo_order: Order, momo: MomoProvider) -> None:
    response = post_ipn(momo.ipn(momo_order.code, result_code=1000))

    assert response.status_code == 204
    momo_order.refresh_from_db()
    assert momo_order.payment_status == PaymentStatus.PENDING
    assert Payment.objects.get(order=momo_order).status == PaymentAttemptStatus.CREATED


def test_a_failed_payment_ipn_cancels_the_order(momo_order: Order, momo: MomoProvider) -> None:
    momo.pay(momo_order.code, result_code=1006)

    response = post_ipn(momo.ipn(momo_order.code))

    assert response.status_code == 204
    momo_order.refresh_from_db()
    assert (momo_order.status, momo_order.payment_status) == (OrderStatus.CANCELLED, PaymentStatus.FAILED)
    assert charges(momo_order) == []


# --- the status query: an IPN that never came -------------------------------------------------------


def _age(order: Order, seconds: int) -> None:
    Payment.objects.filter(order=order).update(created_at=timezone.now() - timedelta(seconds=seconds))


def test_a_payment_whose_ipn_never_came_is_settled_by_the_reconciliation_sweep(
    momo_order: Order, momo: MomoProvider
) -> None:
    momo.pay(momo_order.code)
    _age(momo_order, 600)

    assert reconcile_gateway_payments() == 1
    late_ipn = post_ipn(momo.ipn(momo_order.code))

    assert late_ipn.status_code == 204
    momo_order.refresh_from_db()
    assert momo_order.payment_status == PaymentStatus.PAID
    assert charges(momo_order) == [("charge", momo_order.total_vnd)]
    assert reconcile_gateway_payments() == 0


def test_the_sweep_leaves_young_payments_and_payments_momo_still_waits_on(
    momo_order: Order, momo: MomoProvider
) -> None:
    assert reconcile_gateway_payments() == 0
    assert "/v2/gateway/api/query" not in momo.state.calls

    _age(momo_order, 600)
    assert reconcile_gateway_payments() == 0

    assert momo.state.calls.count("/v2/gateway/api/query") == 1
    assert Payment.objects.get(order=momo_order).status == PaymentAttemptStatus.CREATED


def test_the_sweep_skips_a_momo_that_is_down_and_settles_on_the_next_run(
    momo_order: Order, momo: MomoProvider
) -> None:
    momo.pay(momo_order.code)
    _age(momo_order, 600)
    momo.state.fail_next = 1

    assert reconcile_gateway_payments() == 0
    assert reconcile_gateway_payments() == 1
    assert charges(momo_order) == [("charge", momo_order.total_vnd)]


def test_a_payment_found_paid_after_its_order_expired_is_refunded(
    momo_order: Order, momo: MomoProvider
) -> None:
    Order.objects.filter(pk=momo_order.pk).update(payment_deadline=timezone.now() - timedelta(minutes=1))
    assert services.expire_unpaid_order(order_id=momo_order.pk)
    momo.pay(momo_order.code)
    _age(momo_order, 600)

    reconcile_gateway_payments()
    services.refund_payment(payment_id=Payment.objects.get(order=momo_order).pk)

    momo_order.refresh_from_db()
    assert (momo_order.status, momo_order.payment_status) == (OrderStatus.CANCELLED, PaymentStatus.REFUNDED)
    assert charges(momo_order) == [("charge", momo_order.total_vnd), ("refund", momo_order.total_vnd)]


def test_an_expired_payment_momo_reports_unpaid_is_asked_about_once(
    momo_order: Order, momo: MomoProvider
) -> None:
    Order.objects.filter(pk=momo_order.pk).update(payment_deadline=timezone.now() - timedelta(minutes=1))
    services.expire_unpaid_order(order_id=momo_order.pk)
    momo.pay(momo_order.code, result_code=1005)
    _age(momo_order, 600)

    reconcile_gateway_payments()
    reconcile_gateway_payments()

    assert momo.state.calls.count("/v2/gateway/api/query") == 1
    assert Payment.objects.get(order=momo_order).status == PaymentAttemptStatus.FAILED
    assert charges(momo_order) == []


def test_a_tip_whose_ipn_never_came_is_held_by_the_sweep_once(
    placed_order: Order, momo: MomoProvider, customer_client: APIClient
) -> None:
    response = customer_client.post(
        f"/api/v1/orders/{placed_order.pk}/tip", {"amount_vnd": 20_000}, format="json"
    )
    assert response.status_code == 201, response.json()
    tip = Tip.objects.get(order=placed_order)
    assert (tip.provider, tip.provider_ref) == ("momo", tip.merchant_ref)
    momo.pay(tip.merchant_ref)
    Tip.objects.filter(pk=tip.pk).update(created_at=timezone.now() - timedelta(minutes=10))

    assert reconcile_gateway_payments() == 1
    assert post_ipn(momo.ipn(tip.merchant_ref)).status_code == 204

    assert Tip.objects.get(pk=tip.pk).status == TipStatus.HELD
    assert charges(placed_order) == [("tip", 20_000)]


# --- refunds ---------------------------------------------------------------------------------------


def _paid(order: Order, momo: MomoProvider) -> Payment:
    momo.pay(order.code)
    assert post_ipn(momo.ipn(order.code)).status_code == 204
    return Payment.objects.get(order=order)


def test_a_cancelled_paid_order_is_refunded_through_momo_once(momo_order: Order, momo: MomoProvider) -> None:
    payment = _paid(momo_order, momo)

    services.cancel_order(order_id=momo_order.pk, actor=None, by=ActorRole.OPS, reason="khách gọi hủy")
    services.refund_payment(payment_id=payment.pk)
    services.refund_payment(payment_id=payment.pk)

    momo_order.refresh_from_db()
    assert momo_order.payment_status == PaymentStatus.REFUNDED
    [refund] = momo.state.payments[momo_order.code]["refunds"]
    assert refund["amount"] == momo_order.total_vnd
    assert refund["orderId"] == refund_order_id(momo_order.code, f"refund-{payment.pk}")
    assert Payment.objects.get(pk=payment.pk).refund_ref == str(refund["transId"])
    assert charges(momo_order) == [("charge", momo_order.total_vnd), ("refund", momo_order.total_vnd)]


def test_a_refund_whose_answer_was_lost_is_found_not_made_again(
    momo_order: Order, momo: MomoProvider
) -> None:
    _paid(momo_order, momo)
    client = gateway()
    first = client.refund(
        provider_ref=momo_order.code, amount_vnd=momo_order.total_vnd, refund_ref="refund-1"
    )

    again = client.refund(
        provider_ref=momo_order.code, amount_vnd=momo_order.total_vnd, refund_ref="refund-1"
    )

    assert again == first
    assert len(momo.state.payments[momo_order.code]["refunds"]) == 1
    assert momo.state.calls.count("/v2/gateway/api/refund") == 1


def test_a_refund_of_a_refund_is_refused(momo_order: Order, momo: MomoProvider) -> None:
    payment = _paid(momo_order, momo)
    services.cancel_order(order_id=momo_order.pk, actor=None, by=ActorRole.OPS, reason="x")
    services.refund_payment(payment_id=payment.pk)
    [refund] = momo.state.payments[momo_order.code]["refunds"]

    with pytest.raises(RefundRefused):
        gateway().refund(provider_ref=refund["orderId"], amount_vnd=1_000, refund_ref="again")
    refund_of_refund = gateway()._post(
        "/v2/gateway/api/refund",
        {
            "requestId": "rr-1",
            "orderId": "rr-1",
            "amount": 1_000,
            "transId": refund["transId"],
            "description": "",
        },
        REFUND_FIELDS,
    )
    assert refund_of_refund["resultCode"] != 0  # MoMo itself refuses a refund of a refund's transaction
    services.refund_payment(payment_id=payment.pk)

    assert len(momo.state.payments[momo_order.code]["refunds"]) == 1
    assert charges(momo_order) == [("charge", momo_order.total_vnd), ("refund", momo_order.total_vnd)]


def test_partial_refunds_add_up_to_the_paid_amount_and_no_further(
    momo_order: Order, momo: MomoProvider
) -> None:
    _paid(momo_order, momo)
    client = gateway()
    half = momo_order.total_vnd // 2

    client.refund(provider_ref=momo_order.code, amount_vnd=half, refund_ref="part-1")
    client.refund(provider_ref=momo_order.code, amount_vnd=momo_order.total_vnd - half, refund_ref="part-2")
    with pytest.raises(RefundRefused):
        client.refund(provider_ref=momo_order.code, amount_vnd=1_000, refund_ref="part-3")

    assert sum(r["amount"] for r in momo.state.payments[momo_order.code]["refunds"]) == momo_order.total_vnd


def test_a_refund_momo_cannot_answer_stays_pending_for_the_sweep(
    momo_order: Order, momo: MomoProvider
) -> None:
    payment = _paid(momo_order, momo)
    services.cancel_order(order_id=momo_order.pk, actor=None, by=ActorRole.OPS, reason="x")
    momo.state.fail_next = 1

    with pytest.raises(GatewayError):
        services.refund_payment(payment_id=payment.pk)

    assert Payment.objects.get(pk=payment.pk).status == PaymentAttemptStatus.REFUND_PENDING
    services.refund_payment(payment_id=payment.pk)
    assert Payment.objects.get(pk=payment.pk).status == PaymentAttemptStatus.REFUNDED
