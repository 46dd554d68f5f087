"""Distance from a merchant to a drop-off point, as pricing and the delivery radius use it."""

import math
from dataclasses import dataclass
from decimal import Decimal

from merchants.models import Merchant

EARTH_RADIUS_M = 6_371_000
#: Roads are longer than the straight line; the fee uses the estimated road distance.
ROAD_FACTOR = 1.3


@dataclass(frozen=True, slots=True)
class Distance:
    straight_m: int
    road_m: int


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lng2 - lng1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def delivery_distance(merchant: Merchant, *, lat: Decimal, lng: Decimal) -> Distance:
    straight = haversine_m(float(merchant.lat), float(merchant.lng), float(lat), float(lng))
    return Distance(straight_m=round(straight), road_m=round(straight * ROAD_FACTOR))
