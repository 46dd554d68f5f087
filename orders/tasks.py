"""Celery entry points of the orders app: thin and idempotent; the rules live in the services.

The services queue these tasks (imported as `<name>_task`), so a task imports its services inside its
body, never at the top of this module.
"""

from celery import shared_task
from django.utils import timezone

from orders.gateways import GatewayError
from orders.models import (
    PAYABLE_STATUSES,
    Order,
    OrderStatus,
    Payment,
    PaymentAttemptStatus,
    PaymentStatus,
    Tip,
    TipStatus,
)

SWEEP_BATCH = 500


@shared_task(name="orders.tasks.sweep_deadlines", ignore_result=True)
def sweep_deadlines() -> dict[str, int]:
    """Cancel orders the merchant did not answer in time and e-wallet orders not paid in time, and
    retry refunds (of payments and tips) still pending. Safe to run twice or at once: each order is
    re-checked under its lock."""
    from orders import services

    now = timezone.now()
    unanswered = Order.objects.filter(
        status=OrderStatus.PLACED, merchant_accept_deadline__lte=now
    ).values_list("pk", flat=True)[:SWEEP_BATCH]
    unpaid = Order.objects.filter(
        status__in=PAYABLE_STATUSES, payment_status=PaymentStatus.PENDING, payment_deadline__lte=now
    ).values_list("pk", flat=True)[:SWEEP_BATCH]
    expired = sum(services.expire_unanswered_order(order_id=pk, now=now) for pk in list(unanswered))
    unpaid_count = sum(services.expire_unpaid_order(order_id=pk) for pk in list(unpaid))
    refunds = 0
    pending = Payment.objects.filter(status=PaymentAttemptStatus.REFUND_PENDING).values_list("pk", flat=True)
    for payment_id in list(pending[:SWEEP_BATCH]):
        try:
            services.refund_payment(payment_id=payment_id)
            refunds += 1
        except GatewayError:
            continue
    pending_tips = Tip.objects.filter(status=TipStatus.REFUND_PENDING).values_list("pk", flat=True)
    for tip_id in list(pending_tips[:SWEEP_BATCH]):
        try:
            services.refund_tip(tip_id=tip_id)
            refunds += 1
        except GatewayError:
            continue
    return {"merchant_timeouts": expired, "payment_expiries": unpaid_count, "refunds": refunds}


@shared_task(
    name="orders.tasks.refund_payment",
    ignore_result=True,
    autoretry_for=(GatewayError,),
    retry_backoff=True,
    max_retries=5,
)
def refund_payment(payment_id: int) -> None:
    """Refund one payment through its gateway (beat's sweep retries whatever this leaves pending)."""
    from orders import services

    services.refund_payment(payment_id=payment_id)


@shared_task(
    name="orders.tasks.refund_tip",
    ignore_result=True,
    autoretry_for=(GatewayError,),
    retry_backoff=True,
    max_retries=5,
)
def refund_tip(tip_id: int) -> None:
    """Refund one tip through its gateway (beat's sweep retries whatever this leaves pending)."""
    from orders import services

    services.refund_tip(tip_id=tip_id)


@shared_task(name="orders.tasks.reconcile_gateway_payments", ignore_result=True)
def reconcile_gateway_payments() -> int:
    """Ask the provider about payments whose notification has not come (idempotent; safe at once)."""
    from orders import services

    return services.reconcile_open_payments(limit=SWEEP_BATCH)


#: Sweeps of one beat tick stop after this many batches; the next tick goes on.
RELEASE_BATCHES_PER_TICK = 20


@shared_task(name="orders.tasks.release_scheduled_orders", ignore_result=True)
def release_scheduled_orders() -> int:
    """Release the scheduled orders that are due to their merchants (safe to run twice or at once: the
    due rows are claimed with SKIP LOCKED and released at most once by their state)."""
    from orders.services.scheduling import RELEASE_BATCH, release_due_orders

    released = 0
    for _ in range(RELEASE_BATCHES_PER_TICK):
        batch = release_due_orders()
        released += len(batch)
        if len(batch) < RELEASE_BATCH:
            break
    return released
