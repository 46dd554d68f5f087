"""What a delivered order owes its merchant, booked in the ledger, and refunds charged to it later.

At delivery the order's money (held in `ORDERS_RECEIVABLE` since the e-wallet charge or the driver's
cash collection) is shared out in the delivery's transaction, every entry naming the merchant:

    SALE            receivable -> merchant payable    the food subtotal (gross sales)
    COMMISSION      merchant payable -> commission    gross x the merchant's rate in force at delivery
    MERCHANT_PROMO  merchant payable -> receivable    a discount the merchant funds
    PLATFORM_PROMO  promotions -> receivable          a discount the platform funds (the merchant is
                                                      paid the full price)
    ORDER_FEES      receivable -> fees                delivery, small-order and service fees

so the receivable of a delivered order comes back to zero (subtotal + fees - discount = total). The
entries carry the delivery's instant, so an order is never split across two statement periods. The
rate is snapshot on the order (`Order.commission_bps`) and in the entry's amount: a rate changed by
ops later never rewrites what was booked. Commission is charged on gross sales, before any discount.

A refund after delivery (a missing dish, a spoiled meal) is charged to the merchant (`MERCHANT_REFUND`,
merchant payable -> customer) up to what the merchant was credited for the food (gross minus its own
discount) less earlier refunds; the commission already booked stays. Tips never touch the merchant:
they go to the driver (`orders.services.tips`).
"""

from django.db import transaction
from django.db.models import Q, Sum

from orders.errors import SettlementErrors
from orders.models import (
    ActorRole,
    LedgerAccount,
    LedgerEntry,
    LedgerKind,
    Order,
    OrderEventKind,
    OrderStatus,
    PromotionFunding,
)
from orders.services.ledger import book
from orders.services.transitions import lock_order, record_change
from users.models import User


def commission_vnd(gross_vnd: int, rate_bps: int) -> int:
    """The commission on `gross_vnd` at `rate_bps`, rounded half up to the dong."""
    return (gross_vnd * rate_bps + 5_000) // 10_000


def book_merchant_settlement(*, order: Order) -> None:
    """Called by the lifecycle when the order is delivered (inside its transaction, order locked)."""
    rate_bps = order.merchant.commission_rate_bps
    order.commission_bps = rate_bps
    merchant_id = order.merchant_id

    def settle(kind: str, amount_vnd: int, *, debit: str, credit: str) -> None:
        if amount_vnd:
            book(
                kind=kind,
                amount_vnd=amount_vnd,
                debit=debit,
                credit=credit,
                reference=f"{kind}:{order.code}",
                order=order,
                merchant_id=merchant_id,
                at=order.delivered_at,
            )

    receivable, payable = LedgerAccount.ORDERS_RECEIVABLE, LedgerAccount.MERCHANT_PAYABLE
    settle(LedgerKind.SALE, order.subtotal_vnd, debit=receivable, credit=payable)
    settle(
        LedgerKind.COMMISSION,
        commission_vnd(order.subtotal_vnd, rate_bps),
        debit=payable,
        credit=LedgerAccount.COMMISSION_REVENUE,
    )
    if _discount_funder(order) == PromotionFunding.MERCHANT:
        settle(LedgerKind.MERCHANT_PROMO, order.discount_vnd, debit=payable, credit=receivable)
    else:
        settle(
            LedgerKind.PLATFORM_PROMO,
            order.discount_vnd,
            debit=LedgerAccount.PROMOTIONS_EXPENSE,
            credit=receivable,
        )
    fees = order.delivery_fee_vnd + order.small_order_fee_vnd + order.service_fee_vnd
    settle(LedgerKind.ORDER_FEES, fees, debit=receivable, credit=LedgerAccount.FEES_REVENUE)


def _discount_funder(order: Order) -> str:
    promotion = order.promotion
    return promotion.funded_by if promotion is not None else PromotionFunding.PLATFORM


def refunded_after_delivery_vnd(order: Order) -> int:
    """What has been refunded after delivery at the merchant's charge so far."""
    refunds = LedgerEntry.objects.filter(order=order, kind=LedgerKind.MERCHANT_REFUND)
    return int(refunds.aggregate(total=Sum("amount_vnd", default=0))["total"])


def refundable_vnd(order: Order) -> int:
    """What may still be refunded to the customer at the merchant's charge (0 before delivery)."""
    booked = LedgerEntry.objects.filter(order=order, merchant_id=order.merchant_id)
    totals = booked.aggregate(
        sale=Sum("amount_vnd", filter=Q(kind=LedgerKind.SALE), default=0),
        promo=Sum("amount_vnd", filter=Q(kind=LedgerKind.MERCHANT_PROMO), default=0),
        refunded=Sum("amount_vnd", filter=Q(kind=LedgerKind.MERCHANT_REFUND), default=0),
    )
    return max(0, int(totals["sale"]) - int(totals["promo"]) - int(totals["refunded"]))


@transaction.atomic
def refund_delivered_order(*, order_id: int, amount_vnd: int, actor: User, reason: str) -> LedgerEntry:
    """Give `amount_vnd` back to the customer of a delivered order at the merchant's charge (ops only).
    Refunds are counted under the order's row lock, so concurrent ones never exceed what is refundable:
    409 `refund_exceeds_refundable` and nothing is written."""
    if not actor.is_ops:
        raise SettlementErrors.OPS_ONLY()
    order = lock_order(order_id)
    if order.status != OrderStatus.DELIVERED:
        raise SettlementErrors.NOT_DELIVERED(extra={"status": order.status})
    refundable = refundable_vnd(order)
    if amount_vnd <= 0 or amount_vnd > refundable:
        raise SettlementErrors.EXCEEDS_REFUNDABLE(
            fields={"amount_vnd": [f"1..{refundable}"]},
            extra={"refundable_vnd": refundable},
            refundable_vnd=refundable,
        )
    earlier = LedgerEntry.objects.filter(order=order, kind=LedgerKind.MERCHANT_REFUND).count()
    entry = book(
        kind=LedgerKind.MERCHANT_REFUND,
        amount_vnd=amount_vnd,
        debit=LedgerAccount.MERCHANT_PAYABLE,
        credit=LedgerAccount.CUSTOMER,
        reference=f"{LedgerKind.MERCHANT_REFUND}:{order.code}:{earlier + 1}",
        order=order,
        merchant_id=order.merchant_id,
    )
    record_change(
        order,
        kind=OrderEventKind.PAYMENT_UPDATED,
        from_status=order.status,
        actor=actor,
        actor_role=ActorRole.OPS,
        reason=f"refunded_after_delivery {amount_vnd} VND: {reason}"[:255],
    )
    return entry
