"""The delivery promise before a driver is assigned (quote, placement, merchant accept).

The orders app knows the preparation time, the ride, the merchant's queue and the hour; the free drivers
around the merchant come from the drivers app through `orders.promise.supply_near` (orders never imports
drivers). The fitted model (`orders.promise`) turns them into the promised time. After assignment and
pickup the drivers app computes the promise from its plan and hands it to the transition.
"""

from datetime import datetime, timedelta

from merchants.models import Merchant
from merchants.selectors import LOCAL_TZ
from orders.models import BEFORE_PICKUP_STATUSES, Order
from orders.pricing import PricingConfig, travel_minutes
from orders.promise import PromiseInputs, model, supply_near


def promised_before_driver(
    *, merchant: Merchant, distance_m: int, prep_minutes: float, merchant_queue: int, now: datetime
) -> datetime:
    """The promised delivery time of an order `prep_minutes` from ready, with no driver yet."""
    local = now.astimezone(LOCAL_TZ)
    inputs = PromiseInputs(
        prep_minutes=prep_minutes,
        ride_minutes=travel_minutes(distance_m, PricingConfig.from_settings()),
        supply=supply_near(lat=float(merchant.lat), lng=float(merchant.lng), now=now),
        merchant_queue=merchant_queue,
        hour=local.hour + local.minute / 60,
    )
    return now + timedelta(minutes=model().before_driver(inputs))


def merchant_queue(*, merchant_id: int, excluding_order_id: int) -> int:
    """The merchant's other orders not yet picked up."""
    return (
        Order.objects.filter(merchant_id=merchant_id, status__in=BEFORE_PICKUP_STATUSES)
        .exclude(pk=excluding_order_id)
        .count()
    )
