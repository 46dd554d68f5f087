"""Settling payments whose notification never came, by asking the provider (MoMo's status query).

A provider's notification can be lost (our endpoint down, a network cut, the provider giving up its
retries). The `reconcile_gateway_payments` beat sweep asks the provider for each payment still open a
while after it was opened (`MOMO_QUERY_AFTER_SECONDS`), and for an expired one within
`MOMO_QUERY_WINDOW_HOURS`, and applies a settled answer through `handle_webhook`, exactly as the
notification would have been: the same locks, the same once-only ledger entry, so a notification
arriving at the same moment changes nothing twice. A payment that was paid after its order expired is
charged and refunded, as a late notification would be; an expired one MoMo reports failed (or never
saw) is marked failed, so it is asked about once.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from loship.errors import ApplicationError
from orders.gateways import GatewayError, queryable_gateway
from orders.models import Payment, PaymentAttemptStatus
from orders.services.payments import handle_webhook


def payments_to_reconcile(*, now: datetime, limit: int) -> list[int]:
    """Ids of payments at a queryable provider still without a result, old enough to ask about."""
    asked_after = now - timedelta(seconds=settings.MOMO_QUERY_AFTER_SECONDS)
    window_start = now - timedelta(hours=settings.MOMO_QUERY_WINDOW_HOURS)
    return list(
        Payment.objects.filter(
            provider="momo",
            status__in=(PaymentAttemptStatus.CREATED, PaymentAttemptStatus.EXPIRED),
            created_at__lte=asked_after,
            created_at__gte=window_start,
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


def reconcile_payment(*, payment_id: int) -> str:
    """Ask the provider for the payment and apply a settled answer once; answers the payment's status.
    Raises GatewayError if the provider cannot answer (the next sweep asks again)."""
    payment = Payment.objects.select_related("order").get(pk=payment_id)
    if payment.status not in (PaymentAttemptStatus.CREATED, PaymentAttemptStatus.EXPIRED):
        return payment.status
    gateway = queryable_gateway(payment.provider)
    if gateway is None:
        return payment.status
    state = gateway.query_payment(merchant_ref=payment.provider_ref or payment.order.code)
    unknown_or_failed = state is None or (state.notice.settled and not state.notice.succeeded)
    if payment.status == PaymentAttemptStatus.EXPIRED and unknown_or_failed:
        # Its order is closed and MoMo will never take this money: stop asking. A success notice
        # arriving anyway still charges and refunds it (a failed payment still takes a late success).
        Payment.objects.filter(pk=payment.pk, status=PaymentAttemptStatus.EXPIRED).update(
            status=PaymentAttemptStatus.FAILED
        )
        return PaymentAttemptStatus.FAILED
    if state is None or not state.notice.settled:
        return payment.status
    return handle_webhook(notice=state.notice, provider=payment.provider).status


def reconcile_open_payments(*, now: datetime | None = None, limit: int = 500) -> int:
    """Reconcile a batch of open payments; how many changed. A provider error skips that payment."""
    changed = 0
    for payment_id in payments_to_reconcile(now=now or timezone.now(), limit=limit):
        before = Payment.objects.values_list("status", flat=True).get(pk=payment_id)
        try:
            after = reconcile_payment(payment_id=payment_id)
        except (GatewayError, ApplicationError):
            continue
        changed += after != before
    return changed
