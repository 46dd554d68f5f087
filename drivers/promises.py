"""The drivers app's part of the delivery promise (`orders.promise`).

- `live_supply`: the free drivers around a merchant, from the live positions in Redis (drivers not
  carrying food), counted by the same pure function the MDRP replay uses
  (`drivers.dispatch.promise.free_supply`).
- `recent_supply`: `live_supply` kept per process and merchant for PROMISE_SUPPLY_SECONDS, installed
  as the orders app's supply source at start-up. Every quote and every placement asks for it, and
  two Redis round trips a time were a fifth of a placement; drivers move on a scale of minutes, so
  a count a few seconds old promises as well.
- `promised_after_assignment` and `promised_after_pickup`: the promise once the dispatcher's plan is
  known, handed to the orders transitions with the ETA.
"""

import logging
import time
from datetime import datetime, timedelta

import redis
from django.conf import settings

from drivers import location
from drivers.dispatch.entities import AvailableDriver
from drivers.dispatch.promise import free_supply
from drivers.eta import TRAVEL, point
from orders.promise import NO_SUPPLY, Supply, model, use_supply_source

logger = logging.getLogger(__name__)

#: How far around the merchant live drivers are looked for, and how many at most.
SUPPLY_RADIUS_M = 6000
SUPPLY_DRIVERS = 30


def live_supply(lat: float, lng: float, now: datetime) -> Supply:
    """Drivers with a live position near (lat, lng) and no food on board; `NO_SUPPLY` while Redis is
    unreachable (logged), so a quote or a placement never fails for it."""
    try:
        where = location.nearby_free_positions(
            lat=lat, lng=lng, radius_m=SUPPLY_RADIUS_M, count=SUPPLY_DRIVERS
        )
    except redis.RedisError:
        logger.warning("drivers: free drivers near %s,%s unavailable (Redis); promising without", lat, lng)
        return NO_SUPPLY
    if not where:
        return NO_SUPPLY
    drivers = [
        AvailableDriver(
            id=str(driver_id),
            position=point(d_lat, d_lng),
            free_at=0.0,
            free_position=point(d_lat, d_lng),
            shift_end=float("inf"),
        )
        for driver_id, (d_lat, d_lng) in where.items()
    ]
    return free_supply(point(lat, lng), drivers, 0.0, TRAVEL)


#: (merchant latitude, longitude) -> (monotonic time counted, the supply then).
_recent: dict[tuple[float, float], tuple[float, Supply]] = {}
_RECENT_KEPT = 20_000


def recent_supply(lat: float, lng: float, now: datetime) -> Supply:
    """`live_supply` around (lat, lng), counted at most PROMISE_SUPPLY_SECONDS ago in this process."""
    seconds = float(settings.PROMISE_SUPPLY_SECONDS)
    if seconds <= 0:
        return live_supply(lat, lng, now)
    clock = time.monotonic()
    kept = _recent.get((lat, lng))
    if kept is not None and clock - kept[0] < seconds:
        return kept[1]
    supply = live_supply(lat, lng, now)
    if len(_recent) >= _RECENT_KEPT:
        _recent.clear()
    _recent[(lat, lng)] = (clock, supply)
    return supply


def install() -> None:
    """Make `recent_supply` the orders app's source of free drivers (DriversConfig.ready())."""
    use_supply_source(recent_supply)


def promised_after_assignment(*, now: datetime, dropoff_eta: datetime) -> datetime:
    """The promise once a driver has the order and the plan says it reaches the door at `dropoff_eta`."""
    planned = (dropoff_eta - now).total_seconds() / 60
    return now + timedelta(minutes=model().after_assignment(planned))


def promised_after_pickup(*, now: datetime, ride_minutes: float) -> datetime:
    """The promise once the driver leaves the merchant with the food, `ride_minutes` from the door."""
    return now + timedelta(minutes=model().after_pickup(ride_minutes))
