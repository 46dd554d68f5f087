"""Giving e-wallet money back.

An order that ends before delivery settles its payment inside the closing transaction: a paid one is
marked `refund_pending` and the `refund_payment` task is queued after commit; it calls `refund_payment`
below, which refunds through the gateway and books the refund once (beat's sweep retries whatever is
still pending). Gateway calls are HTTP and never happen while an order row is locked.
"""

from django.db import transaction
from django.utils import timezone

from loship.celery import queue_best_effort
from orders.gateways import get_gateway
from orders.models import (
    LedgerAccount,
    LedgerEntry,
    LedgerKind,
    Order,
    Payment,
    PaymentAttemptStatus,
    PaymentStatus,
)
from orders.services.transitions import lock_order, record_payment_change
from orders.tasks import refund_payment as refund_payment_task


def settle_payment_on_close(*, order: Order) -> None:
    """Called by the lifecycle when an order ends before delivery (inside its transaction).

    Paid: schedule the refund. Still pending: the payment will never count (a late success is refunded).
    """
    if order.payment_status == PaymentStatus.PAID:
        Payment.objects.filter(order=order, status=PaymentAttemptStatus.SUCCEEDED).update(
            status=PaymentAttemptStatus.REFUND_PENDING
        )
        order.payment_status = PaymentStatus.REFUND_PENDING
        refund_after_commit(order.payment.pk)
    elif order.payment_status == PaymentStatus.PENDING:
        order.payment_status = PaymentStatus.FAILED


def refund_after_commit(payment_id: int) -> None:
    """Queue the refund of a `refund_pending` payment once the caller's transaction commits. The
    payment's state is the durable trigger: if the broker is down, beat's sweep refunds it later."""
    transaction.on_commit(lambda: queue_best_effort(refund_payment_task, payment_id), robust=True)


def refund_payment(*, payment_id: int) -> Payment:
    """Refund a payment waiting for it through the gateway, then book it (idempotent; retried by beat)."""
    payment = Payment.objects.get(pk=payment_id)
    if payment.status != PaymentAttemptStatus.REFUND_PENDING:
        return payment
    refund_ref = f"refund-{payment.pk}"
    provider_refund_id = get_gateway(payment.provider).refund(
        provider_ref=payment.provider_ref, amount_vnd=payment.amount_vnd, refund_ref=refund_ref
    )
    with transaction.atomic():
        order = lock_order(payment.order_id)
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status != PaymentAttemptStatus.REFUND_PENDING:
            return payment
        payment.status = PaymentAttemptStatus.REFUNDED
        payment.refund_ref = provider_refund_id
        payment.refunded_at = timezone.now()
        payment.save(update_fields=["status", "refund_ref", "refunded_at"])
        LedgerEntry.objects.create(
            order=order,
            kind=LedgerKind.REFUND,
            amount_vnd=payment.amount_vnd,
            debit=LedgerAccount.ORDERS_RECEIVABLE,
            credit=LedgerAccount.GATEWAY,
            reference=f"{payment.provider}:{refund_ref}",
        )
        order.payment_status = PaymentStatus.REFUNDED
        record_payment_change(order, reason="refunded")
    return payment
