"""Pure price arithmetic, in whole VND. No database: the services feed it and store what it returns.

The fee schedule comes from settings (ORDER_* below) so ops can tune it per deployment.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from merchants.geo import FeeSchedule, tiered_fee_vnd
from merchants.geo import travel_minutes as shared_travel_minutes


@dataclass(frozen=True, slots=True)
class PricingConfig:
    #: (up to this many metres, fee in VND), ascending.
    delivery_tiers: tuple[tuple[int, int], ...]
    #: Added per started kilometre beyond the last tier.
    extra_km_fee_vnd: int
    small_order_fee_vnd: int
    service_fee_vnd: int
    #: Average motorbike speed used for the travel part of the ETA.
    speed_kmh: int
    #: Minutes on top of preparation and travel (finding a driver, parking, handover).
    eta_buffer_minutes: int

    @classmethod
    def from_settings(cls) -> "PricingConfig":
        return cls(
            delivery_tiers=tuple((int(m), int(fee)) for m, fee in settings.ORDER_DELIVERY_FEE_TIERS),
            extra_km_fee_vnd=settings.ORDER_DELIVERY_FEE_PER_EXTRA_KM_VND,
            small_order_fee_vnd=settings.ORDER_SMALL_ORDER_FEE_VND,
            service_fee_vnd=settings.ORDER_SERVICE_FEE_VND,
            speed_kmh=settings.ORDER_DRIVER_SPEED_KMH,
            eta_buffer_minutes=settings.ORDER_ETA_BUFFER_MINUTES,
        )


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal_vnd: int
    delivery_fee_vnd: int
    small_order_fee_vnd: int
    service_fee_vnd: int
    discount_vnd: int
    total_vnd: int


def delivery_fee_vnd(distance_m: int, config: PricingConfig) -> int:
    """The fee of the first tier that covers the distance; beyond the last, each started km adds."""
    schedule = FeeSchedule(tiers=config.delivery_tiers, extra_km_fee_vnd=config.extra_km_fee_vnd)
    return tiered_fee_vnd(distance_m, schedule)


def small_order_fee_vnd(subtotal_vnd: int, min_order_vnd: int, config: PricingConfig) -> int:
    """A flat fee when the subtotal is under the merchant's minimum order."""
    return config.small_order_fee_vnd if subtotal_vnd < min_order_vnd else 0


def promo_discount_vnd(*, kind: str, value: int, max_discount_vnd: int | None, subtotal_vnd: int) -> int:
    """The discount on the subtotal: a percentage (rounded down) or a fixed amount, capped, never
    more than the subtotal."""
    raw = subtotal_vnd * value // 100 if kind == "percent" else value
    if max_discount_vnd is not None:
        raw = min(raw, max_discount_vnd)
    return max(0, min(raw, subtotal_vnd))


def totals(
    *, subtotal_vnd: int, distance_m: int, min_order_vnd: int, discount_vnd: int, config: PricingConfig
) -> Totals:
    delivery = delivery_fee_vnd(distance_m, config)
    small = small_order_fee_vnd(subtotal_vnd, min_order_vnd, config)
    service = config.service_fee_vnd
    discount = min(discount_vnd, subtotal_vnd)
    return Totals(
        subtotal_vnd=subtotal_vnd,
        delivery_fee_vnd=delivery,
        small_order_fee_vnd=small,
        service_fee_vnd=service,
        discount_vnd=discount,
        total_vnd=subtotal_vnd + delivery + small + service - discount,
    )


def travel_minutes(distance_m: int, config: PricingConfig) -> int:
    return shared_travel_minutes(distance_m, speed_kmh=config.speed_kmh)


def ride_minutes(distance_m: int, config: PricingConfig) -> int:
    """From the merchant's counter to the customer's door: the travel and the handover buffer."""
    return travel_minutes(distance_m, config) + config.eta_buffer_minutes


def estimated_delivery_at(
    *, now: datetime, prep_minutes: int, distance_m: int, config: PricingConfig
) -> datetime:
    minutes = prep_minutes + ride_minutes(distance_m, config)
    return now + timedelta(minutes=minutes)
