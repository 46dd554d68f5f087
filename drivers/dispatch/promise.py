"""The free drivers around a merchant as the delivery promise reads them (`orders.promise.Supply`).

Pure, like the policy: production builds the drivers from live positions (`drivers.promise_supply`),
the MDRP replay passes its couriers, and both count them here.
"""

from collections.abc import Sequence

from drivers.dispatch.entities import AvailableDriver
from drivers.dispatch.geometry import Point, TravelModel
from orders.promise import NEAR_MINUTES, Supply


def free_supply(
    merchant: Point, drivers: Sequence[AvailableDriver], now: float, travel: TravelModel
) -> Supply:
    """The drivers free at `now`: the nearest one's minutes to the merchant and how many are near it."""
    minutes = sorted(travel.minutes(driver.position, merchant) for driver in drivers if driver.free_at <= now)
    return Supply(
        nearest_minutes=minutes[0] if minutes else None,
        near=sum(1 for value in minutes if value <= NEAR_MINUTES),
    )
