"""The customer's rating of a delivered order: the merchant (1-5, text) and the driver (1-5, tags), once."""

from django.db import IntegrityError, transaction

from merchants.services import record_merchant_rating
from orders.errors import OrderErrors
from orders.models import Order, OrderStatus, Rating
from users.models import User


@transaction.atomic
def rate_order(
    *,
    order: Order,
    customer: User,
    merchant_stars: int,
    merchant_text: str = "",
    driver_stars: int | None = None,
    driver_tags: list[str] | tuple[str, ...] = (),
) -> Rating:
    """Rate a delivered order once; the merchant's aggregate moves in the same transaction."""
    locked = Order.objects.select_for_update(of=("self",)).get(pk=order.pk, customer=customer)
    if locked.status != OrderStatus.DELIVERED:
        raise OrderErrors.NOT_RATEABLE(extra={"status": locked.status})
    if driver_stars is not None and locked.driver_id is None:
        raise OrderErrors.NO_DRIVER_TO_RATE()
    if Rating.objects.filter(order=locked).exists():
        raise OrderErrors.ALREADY_RATED()
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                order=locked,
                customer=customer,
                merchant_id=locked.merchant_id,
                merchant_stars=merchant_stars,
                merchant_text=merchant_text,
                driver_id=locked.driver_id if driver_stars is not None else None,
                driver_stars=driver_stars,
                driver_tags=sorted(set(driver_tags)) if driver_stars is not None else [],
            )
    except IntegrityError:
        raise OrderErrors.ALREADY_RATED() from None
    record_merchant_rating(merchant_id=locked.merchant_id, stars=merchant_stars)
    return rating
