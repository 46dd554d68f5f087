"""E-wallet payments of orders: open at the gateway, confirm or fail by webhook, expire.

Policy: an e-wallet order is placed with payment `pending` and is invisible to the merchant until the
gateway confirms the payment; then `order.placed` is announced and the merchant's answer deadline
starts. An unpaid order is cancelled when `payment_deadline` passes. A payment that succeeds after
its order was cancelled (late webhook) is charged and refunded at once (`refunds`). Every money
movement is a `LedgerEntry`, unique per (kind, reference), so replays and retries book nothing twice.
Gateway calls are HTTP and never happen while an order row is locked.
"""

from django.db import transaction
from django.utils import timezone

from orders.errors import PaymentErrors
from orders.gateways import WebhookNotice
from orders.models import (
    PAYABLE_STATUSES,
    ActorRole,
    LedgerAccount,
    LedgerEntry,
    LedgerKind,
    Order,
    OrderEventKind,
    OrderStatus,
    Payment,
    PaymentAttemptStatus,
    PaymentStatus,
)
from orders.services.gateway_payments import open_at_gateway, refuse_amount_mismatch
from orders.services.lifecycle import cancel_order
from orders.services.refunds import refund_after_commit
from orders.services.transitions import (
    lock_order,
    merchant_accept_deadline,
    record_change,
    record_payment_change,
)

#: A success notice for a payment in these states takes money (once); in any other it is a replay.
MONEY_NOT_TAKEN = (PaymentAttemptStatus.CREATED, PaymentAttemptStatus.EXPIRED, PaymentAttemptStatus.FAILED)


def start_payment(*, order_id: int) -> Payment:
    """Open the order's payment at the gateway if not yet open (idempotent); 503 if it is down, 409
    `order_not_payable` once the order no longer waits for its payment (paid, cancelled, expired)."""
    payment = Payment.objects.select_related("order").get(order_id=order_id)
    order = payment.order
    if order.status not in PAYABLE_STATUSES or order.payment_status != PaymentStatus.PENDING:
        raise PaymentErrors.NOT_PAYABLE(
            extra={"status": order.status, "payment_status": order.payment_status}
        )
    if payment.provider_ref or payment.status != PaymentAttemptStatus.CREATED:
        return payment
    return open_at_gateway(
        payment,
        provider=payment.provider,
        merchant_ref=order.code,
        amount_vnd=payment.amount_vnd,
        description=f"Loship {order.code}",
        return_code=order.code,
    )


def handle_webhook(*, notice: WebhookNotice, provider: str) -> Payment:
    """Apply a verified notification once: a replay (or a late duplicate) changes nothing."""
    payment = Payment.objects.filter(provider=provider, provider_ref=notice.provider_ref).first()
    if payment is None:
        # Our own payment whose creation answer was lost: match it by our reference.
        payment = Payment.objects.filter(
            provider=provider, order__code=notice.merchant_ref, provider_ref=""
        ).first()
    if payment is None:
        raise PaymentErrors.PAYMENT_NOT_FOUND()
    if notice.amount_vnd != payment.amount_vnd:
        raise refuse_amount_mismatch(notice=notice, provider=provider, expected_vnd=payment.amount_vnd)
    with transaction.atomic():
        order = lock_order(payment.order_id)
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        payment.provider_ref = payment.provider_ref or notice.provider_ref
        if notice.succeeded and payment.status in MONEY_NOT_TAKEN:
            _confirm(order, payment)
        elif not notice.succeeded and payment.status == PaymentAttemptStatus.CREATED:
            _fail(order, payment)
    return payment


def _confirm(order: Order, payment: Payment) -> None:
    now = timezone.now()
    payment.status = PaymentAttemptStatus.SUCCEEDED
    payment.confirmed_at = now
    LedgerEntry.objects.create(
        order=order,
        kind=LedgerKind.CHARGE,
        amount_vnd=payment.amount_vnd,
        debit=LedgerAccount.GATEWAY,
        credit=LedgerAccount.ORDERS_RECEIVABLE,
        reference=f"{payment.provider}:{payment.provider_ref}",
    )
    if order.status in PAYABLE_STATUSES and order.payment_status == PaymentStatus.PENDING:
        payment.save(update_fields=["status", "confirmed_at", "provider_ref"])
        order.payment_status = PaymentStatus.PAID
        order.payment_deadline = None
        # A scheduled order is announced to the merchant as upcoming; its answer clock starts at release.
        scheduled = order.status == OrderStatus.SCHEDULED
        order.merchant_accept_deadline = None if scheduled else merchant_accept_deadline(now)
        record_change(
            order,
            kind=OrderEventKind.SCHEDULED if scheduled else OrderEventKind.PLACED,
            from_status=order.status,
            actor=None,
            actor_role=ActorRole.SYSTEM,
            reason="payment_confirmed",
            update_fields=["payment_status", "payment_deadline", "merchant_accept_deadline"],
        )
        return
    # Paid after the order was cancelled or expired: give the money back.
    payment.status = PaymentAttemptStatus.REFUND_PENDING
    payment.save(update_fields=["status", "confirmed_at", "provider_ref"])
    order.payment_status = PaymentStatus.REFUND_PENDING
    record_payment_change(order, reason="paid_after_close")
    refund_after_commit(payment.pk)


def _fail(order: Order, payment: Payment) -> None:
    payment.status = PaymentAttemptStatus.FAILED
    payment.save(update_fields=["status", "provider_ref"])
    if order.status in PAYABLE_STATUSES and order.payment_status == PaymentStatus.PENDING:
        order.payment_status = PaymentStatus.FAILED
        cancel_order(order_id=order.pk, actor=None, by=ActorRole.SYSTEM, reason="payment_failed")


def expire_unpaid_order(*, order_id: int) -> bool:
    """Cancel an e-wallet order whose payment deadline passed; False if it no longer applies."""
    with transaction.atomic():
        order = lock_order(order_id)
        deadline = order.payment_deadline
        if (
            order.status not in PAYABLE_STATUSES
            or order.payment_status != PaymentStatus.PENDING
            or deadline is None
            or deadline > timezone.now()
        ):
            return False
        Payment.objects.filter(order=order, status=PaymentAttemptStatus.CREATED).update(
            status=PaymentAttemptStatus.EXPIRED
        )
        order.payment_status = PaymentStatus.EXPIRED
        order.save(update_fields=["payment_status"])
        cancel_order(order_id=order.pk, actor=None, by=ActorRole.SYSTEM, reason="payment_expired")
        return True
