"""Promo codes: checking them for a quote, and redeeming them under a row lock at placement.

Policy: a redemption is released (its use given back to the customer and to the global cap) when the
order is rejected or cancelled before delivery; the row stays, with `released_at`, for the record.
"""

from datetime import datetime

from django.db import IntegrityError
from django.utils import timezone

from orders.errors import PromoErrors
from orders.models import Order, Promotion, PromotionRedemption
from orders.pricing import promo_discount_vnd
from users.models import User


def check_promotion(
    promotion: Promotion, *, customer: User, merchant_id: int, subtotal_vnd: int, now: datetime
) -> int:
    """The discount this promotion gives this cart, or the refusal saying why it cannot be used."""
    if not promotion.is_active:
        raise PromoErrors.INVALID()
    if now < promotion.starts_at:
        raise PromoErrors.NOT_STARTED()
    if now >= promotion.ends_at:
        raise PromoErrors.EXPIRED()
    if promotion.merchant_id is not None and promotion.merchant_id != merchant_id:
        raise PromoErrors.WRONG_MERCHANT()
    if subtotal_vnd < promotion.min_subtotal_vnd:
        raise PromoErrors.MIN_SUBTOTAL_NOT_MET(
            extra={"min_subtotal_vnd": promotion.min_subtotal_vnd},
            min_subtotal_vnd=promotion.min_subtotal_vnd,
        )
    if promotion.usage_limit is not None and promotion.used_count >= promotion.usage_limit:
        raise PromoErrors.USED_UP()
    if promotion.per_customer_limit is not None:
        used = PromotionRedemption.objects.filter(
            promotion=promotion, customer=customer, released_at__isnull=True
        ).count()
        if used >= promotion.per_customer_limit:
            raise PromoErrors.CUSTOMER_LIMIT_REACHED()
    return promo_discount_vnd(
        kind=promotion.kind,
        value=promotion.value,
        max_discount_vnd=promotion.max_discount_vnd,
        subtotal_vnd=subtotal_vnd,
    )


def redemption_for(*, promotion: Promotion, order: Order, discount_vnd: int) -> PromotionRedemption:
    """The (unsaved) record of one use, written in placement's batch beside `count_use_sql`."""
    return PromotionRedemption(
        promotion=promotion, order=order, customer_id=order.customer_id, discount_vnd=discount_vnd
    )


#: The check constraint that refuses a use beyond the global cap (`used_count <= usage_limit`).
USAGE_LIMIT_CONSTRAINT = "promotion_usage_within_limit"


def count_use_sql(promotion: Promotion) -> tuple[str, tuple[int, ...]]:
    """The UPDATE that counts one use, for placement's write batch. It takes the promotion's row lock
    (held to commit, so concurrent placements count one after another) and the table's check
    constraint refuses a use beyond `usage_limit`: the caller turns that IntegrityError into
    `promo_used_up`, so the cap holds without holding the lock while the cart is priced."""
    promotion.used_count += 1
    return ("UPDATE orders_promotion SET used_count = used_count + 1 WHERE id = %s", (promotion.pk,))


def is_usage_limit_violation(error: IntegrityError) -> bool:
    cause = error.__cause__
    diag = getattr(cause, "diag", None)
    return getattr(diag, "constraint_name", None) == USAGE_LIMIT_CONSTRAINT


def lock_for_customer_limit(promotion: Promotion) -> Promotion:
    """A promotion with a per-customer limit is locked before its live redemptions are counted, so one
    customer's concurrent placements queue here and never exceed it (inside the caller's transaction)."""
    if promotion.per_customer_limit is None:
        return promotion
    return Promotion.objects.select_for_update().get(pk=promotion.pk)


def release_redemption(*, order: Order) -> bool:
    """Give the order's promo use back (inside the caller's transaction); False if there was none."""
    redemption = (
        PromotionRedemption.objects.select_for_update().filter(order=order, released_at__isnull=True).first()
    )
    if redemption is None:
        return False
    promotion = Promotion.objects.select_for_update().get(pk=redemption.promotion_id)
    promotion.used_count = max(0, promotion.used_count - 1)
    promotion.save(update_fields=["used_count"])
    redemption.released_at = timezone.now()
    redemption.save(update_fields=["released_at"])
    return True
