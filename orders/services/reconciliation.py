"""Settling payments whose notification never came, by asking the provider (MoMo's status query).

A provider's notification can be lost (our endpoint down, a network cut, the provider giving up its
retries). The `reconcile_gateway_payments` beat sweep asks the provider for each order payment and
tip still open a while after it was opened (`MOMO_QUERY_AFTER_SECONDS`), and for an expired one within
`MOMO_QUERY_WINDOW_HOURS`, and applies a settled answer through `handle_webhook`, exactly as the
notification would have been: the same locks, the same once-only ledger entry, so a notification
arriving at the same moment changes nothing twice. A payment that was paid after its order expired is
charged and refunded, as a late notification would be; an expired one MoMo reports failed (or never
saw) is marked failed, so it is asked about once.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from loship.errors import ApplicationError
from orders.gateways import GatewayError, queryable_gateway
from orders.models import Payment, PaymentAttemptStatus, Tip, TipStatus
from orders.services.payments import handle_webhook
from orders.services.tips import handle_tip_webhook


def _due(now: datetime) -> dict[str, object]:
    """Opened at a queryable provider long enough ago to ask about, and not too long ago."""
    return {
        "provider": "momo",
        "created_at__lte": now - timedelta(seconds=settings.MOMO_QUERY_AFTER_SECONDS),
        "created_at__gte": now - timedelta(hours=settings.MOMO_QUERY_WINDOW_HOURS),
    }


def payments_to_reconcile(*, now: datetime, limit: int) -> list[int]:
    """Ids of order payments still without a result, old enough to ask about."""
    open_statuses = (PaymentAttemptStatus.CREATED, PaymentAttemptStatus.EXPIRED)
    due = Payment.objects.filter(status__in=open_statuses, **_due(now)).order_by("created_at")
    return list(due.values_list("pk", flat=True)[:limit])


def tips_to_reconcile(*, now: datetime, limit: int) -> list[int]:
    """Ids of tips still awaiting their payment, old enough to ask about."""
    due = Tip.objects.filter(status=TipStatus.PENDING, **_due(now)).order_by("created_at")
    return list(due.values_list("pk", flat=True)[:limit])


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


def reconcile_tip(*, tip_id: int) -> str:
    """Ask the provider for a tip's payment and apply a settled answer once; answers the tip's status."""
    tip = Tip.objects.select_related("order").get(pk=tip_id)
    gateway = queryable_gateway(tip.provider)
    if tip.status != TipStatus.PENDING or gateway is None:
        return tip.status
    state = gateway.query_payment(merchant_ref=tip.provider_ref or tip.merchant_ref)
    if state is None or not state.notice.settled:
        return tip.status
    return handle_tip_webhook(state.notice, tip.provider)


def reconcile_open_payments(*, now: datetime | None = None, limit: int = 500) -> int:
    """Reconcile a batch of open order payments and tips; how many changed. A provider error (or a
    refused answer) skips that one: the next sweep asks again."""
    now = now or timezone.now()
    changed = 0
    for payment_id in payments_to_reconcile(now=now, limit=limit):
        changed += _changes(
            Payment.objects.filter(pk=payment_id), partial(reconcile_payment, payment_id=payment_id)
        )
    for tip_id in tips_to_reconcile(now=now, limit=limit):
        changed += _changes(Tip.objects.filter(pk=tip_id), partial(reconcile_tip, tip_id=tip_id))
    return changed


def _changes(row: QuerySet[Any], reconcile: Callable[[], str]) -> bool:
    before = row.values_list("status", flat=True).get()
    try:
        return reconcile() != before
    except (GatewayError, ApplicationError):
        return False
