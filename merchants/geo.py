"""Distances and the delivery fee schedule, shared by the catalog (previews) and orders (pricing).

Pure arithmetic plus the settings it reads; no queries. Orders imports it (imports point downwards),
so a preview and the price of the order placed right after it can never disagree.
"""

import math
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from merchants.models import Merchant

EARTH_RADIUS_M = 6_371_000
#: Roads are longer than the straight line; the fee uses the estimated road distance.
ROAD_FACTOR = 1.3
#: Metres per degree of latitude (and of longitude at the equator).
METRES_PER_DEGREE = 111_320


@dataclass(frozen=True, slots=True)
class Distance:
    straight_m: int
    road_m: int


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    #: (up to this many metres, fee in VND), ascending.
    tiers: tuple[tuple[int, int], ...]
    #: Added per started kilometre beyond the last tier.
    extra_km_fee_vnd: int

    @classmethod
    def from_settings(cls) -> "FeeSchedule":
        return cls(
            tiers=tuple((int(m), int(fee)) for m, fee in settings.ORDER_DELIVERY_FEE_TIERS),
            extra_km_fee_vnd=settings.ORDER_DELIVERY_FEE_PER_EXTRA_KM_VND,
        )


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lng2 - lng1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def distance_between(straight_m: float) -> Distance:
    return Distance(straight_m=round(straight_m), road_m=round(straight_m * ROAD_FACTOR))


def delivery_distance(merchant: Merchant, *, lat: Decimal, lng: Decimal) -> Distance:
    return distance_between(haversine_m(float(merchant.lat), float(merchant.lng), float(lat), float(lng)))


def bounding_box(lat: float, lng: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min lat, max lat, min lng, max lng) of a square holding the circle: an indexable prefilter."""
    d_lat = radius_m / METRES_PER_DEGREE
    d_lng = radius_m / (METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    return lat - d_lat, lat + d_lat, lng - d_lng, lng + d_lng


def tiered_fee_vnd(distance_m: int, schedule: FeeSchedule) -> int:
    """The fee of the first tier that covers the distance; beyond the last, each started km adds."""
    for up_to_m, fee in schedule.tiers:
        if distance_m <= up_to_m:
            return fee
    last_m, last_fee = schedule.tiers[-1]
    extra_km = -(-(distance_m - last_m) // 1000)  # ceiling division
    return last_fee + extra_km * schedule.extra_km_fee_vnd


def travel_minutes(distance_m: int, *, speed_kmh: int) -> int:
    metres_per_minute = speed_kmh * 1000 / 60
    return max(1, round(distance_m / metres_per_minute))
