"""Every write to merchants and menus that is a business action (the admin edits rows directly)."""

from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from merchants.models import Merchant


def record_merchant_rating(*, merchant_id: int, stars: int) -> Merchant:
    """Add one rating to the merchant's aggregate under a row lock, so concurrent ratings all count."""
    if not 1 <= stars <= 5:
        raise ValueError(f"stars must be 1..5, got {stars}")
    with transaction.atomic():
        merchant = Merchant.objects.select_for_update().get(pk=merchant_id)
        merchant.rating_count += 1
        merchant.rating_sum += stars
        merchant.rating_avg = (Decimal(merchant.rating_sum) / merchant.rating_count).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        merchant.save(update_fields=["rating_count", "rating_sum", "rating_avg", "updated_at"])
    return merchant
