"""Fresh ETAs for a driver's bundle, with the same travel model the dispatch policy plans with."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from drivers.dispatch.entities import DispatchParams
from drivers.dispatch.geometry import HaversineTravel, Point

TRAVEL = HaversineTravel()
#: Minutes at the merchant (half before pickup) and at each door, as the policy assumes.
SERVICE = DispatchParams(travel=TRAVEL)


def point(lat: object, lng: object) -> Point:
    return Point(float(str(lng)), float(str(lat)))


def pickup_eta(
    *, now: datetime, driver_at: Point | None, merchant: Point, ready_at: datetime | None
) -> datetime:
    """When the driver can hand over the food: after arriving (and half the service) and after it is ready."""
    minutes = SERVICE.pickup_service / 2 + (TRAVEL.minutes(driver_at, merchant) if driver_at else 0.0)
    eta = now + timedelta(minutes=minutes)
    return max(eta, ready_at) if ready_at else eta


def dropoff_etas(*, start: datetime, origin: Point, dropoffs: Sequence[Point]) -> list[datetime]:
    """Arrival at each door in sequence, leaving `origin` at `start`."""
    etas = []
    elapsed = 0.0
    position = origin
    for dropoff in dropoffs:
        elapsed += TRAVEL.minutes(position, dropoff) + SERVICE.dropoff_service / 2
        etas.append(start + timedelta(minutes=elapsed))
        elapsed += SERVICE.dropoff_service / 2
        position = dropoff
    return etas
