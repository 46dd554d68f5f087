"""Tips for the driver, paid by e-wallet through the gateway, every dong to the driver's earnings.

    pending -> held (paid; TIP entry) -> paid_out (order delivered; TIP_PAYOUT entry)
    pending -> failed (payment failed, or the order ended first: a late payment is then refunded)
    held -> refund_pending (order ended undelivered) -> refunded (TIP_REFUND entry)

A customer gives one tip per order (`give_tip`), at checkout or until `TIP_WINDOW_HOURS` after
delivery; the tip's own gateway payment is opened outside any row lock (`start_tip_payment`). The
money is held (`TIPS_HELD`) until the order is delivered, then booked to the driver's earnings
(`DRIVER_EARNINGS`, naming the driver); a tip paid for an order that ends without delivery is refunded
through the gateway, like an order's payment (`refund_tip`, retried by beat's sweep). Each change
locks the order row first, then the tip, and is announced as `order.tip_updated`.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from loship.celery import queue_best_effort
from orders.errors import PaymentErrors, TipErrors
from orders.gateways import WebhookNotice, configured_provider, get_gateway
from orders.models import (
    TIP_REF_PREFIX,
    ActorRole,
    LedgerAccount,
    LedgerKind,
    Order,
    OrderEventKind,
    OrderStatus,
    Tip,
    TipStatus,
)
from orders.services.gateway_payments import open_at_gateway, refuse_amount_mismatch
from orders.services.ledger import book
from orders.services.transitions import lock_order, record_change
from orders.tasks import refund_tip as refund_tip_task
from users.models import User

#: An order in these states will never be delivered: no tip is taken for it.
UNDELIVERED_ENDS = (OrderStatus.REJECTED, OrderStatus.CANCELLED, OrderStatus.DELIVERY_FAILED)


def check_tip_amount(amount_vnd: int) -> None:
    """422 `tip_amount_out_of_bounds` unless TIP_MIN_VND <= amount <= TIP_MAX_VND."""
    low, high = settings.TIP_MIN_VND, settings.TIP_MAX_VND
    if not low <= amount_vnd <= high:
        raise TipErrors.AMOUNT_OUT_OF_BOUNDS(
            fields={"amount_vnd": [f"{low}..{high}"]}, min_vnd=low, max_vnd=high
        )


def _announce(order: Order, *, reason: str, actor: User | None = None) -> None:
    record_change(
        order,
        kind=OrderEventKind.TIP_UPDATED,
        from_status=order.status,
        actor=actor,
        actor_role=ActorRole.CUSTOMER if actor is not None else ActorRole.SYSTEM,
        reason=reason,
    )


@transaction.atomic
def give_tip(
    *, customer: User, order_id: int, amount_vnd: int, now: datetime | None = None
) -> tuple[Tip, bool]:
    """The customer's one tip for the order's driver, awaiting its payment, and whether it is new. The
    same tip asked again (same amount) is answered as it is; another is a 409 `tip_already_given`."""
    check_tip_amount(amount_vnd)
    now = now or timezone.now()
    order = lock_order(order_id)
    existing = Tip.objects.filter(order=order).first()
    if existing is not None:
        if existing.customer_id == customer.pk and existing.amount_vnd == amount_vnd:
            return existing, False
        raise TipErrors.ALREADY_GIVEN(extra={"tip_status": existing.status})
    if order.customer_id != customer.pk or order.status in UNDELIVERED_ENDS:
        raise TipErrors.NOT_ALLOWED(extra={"status": order.status})
    window = timedelta(hours=settings.TIP_WINDOW_HOURS)
    if order.delivered_at is not None and order.delivered_at + window < now:
        raise TipErrors.WINDOW_CLOSED(hours=settings.TIP_WINDOW_HOURS)
    tip = Tip.objects.create(
        order=order, customer=customer, amount_vnd=amount_vnd, provider=configured_provider()
    )
    _announce(order, reason="tip_given", actor=customer)
    return tip, True


def start_tip_payment(*, tip_id: int) -> Tip:
    """Open the tip's payment at the gateway if not yet open (idempotent); 503 if it is down. A tip
    no longer awaiting payment comes back as it is."""
    tip = Tip.objects.select_related("order").get(pk=tip_id)
    if tip.status != TipStatus.PENDING or tip.provider_ref:
        return tip
    return open_at_gateway(
        tip,
        provider=tip.provider,
        merchant_ref=tip.merchant_ref,
        amount_vnd=tip.amount_vnd,
        description=f"Loship tip {tip.order.code}",
        return_code=tip.order.code,
    )


def handle_tip_webhook(notice: WebhookNotice, provider: str) -> str:
    """Apply a verified notice of a tip's payment once; answers the tip's status."""
    tip = Tip.objects.filter(provider=provider, provider_ref=notice.provider_ref).first()
    if tip is None:
        code = notice.merchant_ref.removeprefix(TIP_REF_PREFIX)
        tip = Tip.objects.filter(provider=provider, order__code=code, provider_ref="").first()
    if tip is None:
        raise PaymentErrors.PAYMENT_NOT_FOUND()
    if notice.amount_vnd != tip.amount_vnd:
        raise refuse_amount_mismatch(notice=notice, provider=provider, expected_vnd=tip.amount_vnd)
    with transaction.atomic():
        order = lock_order(tip.order_id)
        tip = Tip.objects.select_for_update().get(pk=tip.pk)
        tip.provider_ref = tip.provider_ref or notice.provider_ref
        if notice.succeeded and tip.status in (TipStatus.PENDING, TipStatus.FAILED):
            _take(order, tip)
        elif not notice.succeeded and tip.status == TipStatus.PENDING:
            tip.status = TipStatus.FAILED
            tip.save(update_fields=["status", "provider_ref"])
            _announce(order, reason="tip_failed")
    return tip.status


def _take(order: Order, tip: Tip) -> None:
    """The customer paid: hold the money, then pay it out, refund it or keep it for the delivery."""
    tip.status = TipStatus.HELD
    tip.confirmed_at = timezone.now()
    tip.save(update_fields=["status", "confirmed_at", "provider_ref"])
    book(
        kind=LedgerKind.TIP,
        amount_vnd=tip.amount_vnd,
        debit=LedgerAccount.GATEWAY,
        credit=LedgerAccount.TIPS_HELD,
        reference=f"{tip.provider}:{tip.provider_ref}",
        order=order,
    )
    if order.status == OrderStatus.DELIVERED:
        _pay_out(order, tip)
    elif order.status in UNDELIVERED_ENDS:
        _refund_later(tip)
    _announce(order, reason=f"tip_{tip.status}")


def _pay_out(order: Order, tip: Tip) -> None:
    assert order.driver_id is not None, "a delivered order has its driver"
    tip.status = TipStatus.PAID_OUT
    tip.paid_out_at = timezone.now()
    tip.save(update_fields=["status", "paid_out_at"])
    book(
        kind=LedgerKind.TIP_PAYOUT,
        amount_vnd=tip.amount_vnd,
        debit=LedgerAccount.TIPS_HELD,
        credit=LedgerAccount.DRIVER_EARNINGS,
        reference=f"tip:{order.code}",
        order=order,
        driver_id=order.driver_id,
    )


def _refund_later(tip: Tip) -> None:
    tip.status = TipStatus.REFUND_PENDING
    tip.save(update_fields=["status"])
    transaction.on_commit(lambda: queue_best_effort(refund_tip_task, tip.pk), robust=True)


def pay_out_tip_on_delivery(*, order: Order) -> None:
    """Called by the lifecycle when the order is delivered (inside its transaction, order locked)."""
    tip = Tip.objects.select_for_update().filter(order=order, status=TipStatus.HELD).first()
    if tip is not None:
        _pay_out(order, tip)
        _announce(order, reason="tip_paid_out")


def settle_tip_on_close(*, order: Order) -> None:
    """Called by the lifecycle when the order ends without delivery (inside its transaction, order
    locked): a paid tip is refunded, an unpaid one will never count (a late payment is refunded)."""
    tip = Tip.objects.select_for_update().filter(order=order).first()
    if tip is None:
        return
    if tip.status == TipStatus.HELD:
        _refund_later(tip)
    elif tip.status == TipStatus.PENDING:
        tip.status = TipStatus.FAILED
        tip.save(update_fields=["status"])


def refund_tip(*, tip_id: int) -> Tip:
    """Refund a tip waiting for it through the gateway, then book it (idempotent; retried by beat)."""
    tip = Tip.objects.get(pk=tip_id)
    if tip.status != TipStatus.REFUND_PENDING:
        return tip
    refund_ref = f"tip-refund-{tip.pk}"
    provider_refund_id = get_gateway(tip.provider).refund(
        provider_ref=tip.provider_ref, amount_vnd=tip.amount_vnd, refund_ref=refund_ref
    )
    with transaction.atomic():
        order = lock_order(tip.order_id)
        tip = Tip.objects.select_for_update().get(pk=tip.pk)
        if tip.status != TipStatus.REFUND_PENDING:
            return tip
        tip.status = TipStatus.REFUNDED
        tip.refund_ref = provider_refund_id
        tip.refunded_at = timezone.now()
        tip.save(update_fields=["status", "refund_ref", "refunded_at"])
        book(
            kind=LedgerKind.TIP_REFUND,
            amount_vnd=tip.amount_vnd,
            debit=LedgerAccount.TIPS_HELD,
            credit=LedgerAccount.GATEWAY,
            reference=f"{tip.provider}:{refund_ref}",
            order=order,
        )
        _announce(order, reason="tip_refunded")
    return tip
