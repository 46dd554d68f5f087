"""The naive baseline: each order, as it comes, to the driver who can pick it up earliest; no bundling."""

from collections.abc import Sequence

from drivers.dispatch.entities import Assignment, AvailableDriver, DispatchParams, PendingOrder
from drivers.dispatch.geometry import Point


def greedy_round(
    orders: Sequence[PendingOrder], drivers: Sequence[AvailableDriver], now: float, params: DispatchParams
) -> list[Assignment]:
    """Every order, in placement order, to the driver with the earliest feasible pickup (then arrival, id)."""
    free: dict[str, tuple[float, Point]] = {
        driver.id: (driver.free_at, driver.free_position) for driver in drivers
    }
    assignments = []
    for order in sorted(orders, key=lambda order: (order.placed_at, order.id)):
        best: tuple[float, float, str] | None = None
        for driver in drivers:
            free_at, position = free[driver.id]
            depart_at = max(now, free_at)
            arrive_at = depart_at + params.travel.minutes(position, order.pickup)
            pickup_at = max(order.ready_at, arrive_at + params.pickup_service / 2)
            if pickup_at <= driver.shift_end and (best is None or (pickup_at, arrive_at, driver.id) < best):
                best = (pickup_at, arrive_at, driver.id)
        if best is None:
            continue
        pickup_at, _, driver_id = best
        depart_at = max(now, free[driver_id][0])
        dropoff_at = (
            pickup_at
            + params.pickup_service / 2
            + params.travel.minutes(order.pickup, order.dropoff)
            + params.dropoff_service / 2
        )
        free[driver_id] = (dropoff_at + params.dropoff_service / 2, order.dropoff)
        assignments.append(Assignment(driver_id, (order.id,), depart_at, pickup_at, (dropoff_at,)))
    return assignments
