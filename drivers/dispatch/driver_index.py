"""A grid of drivers by where they will be free, answering "the K drivers who can arrive soonest"."""

import functools
import math
from collections import defaultdict
from collections.abc import Sequence

from drivers.dispatch.entities import AvailableDriver, DispatchParams
from drivers.dispatch.geometry import EuclideanTravel, Point


class DriverIndex:
    """Buckets drivers by free position so a query only looks at the cells that could beat its K-th best."""

    def __init__(self, drivers: Sequence[AvailableDriver], now: float, params: DispatchParams) -> None:
        self._now = now
        self._params = params
        self._cell = params.grid_cell_metres
        # Each driver with the time it can set off (now, or when its current route ends).
        self._cells: dict[tuple[int, int], list[tuple[float, AvailableDriver]]] = defaultdict(list)
        for driver in drivers:
            self._cells[self._cell_of(driver.free_position)].append((max(now, driver.free_at), driver))
        self._size = len(drivers)
        xs = [cell[0] for cell in self._cells] or [0]
        ys = [cell[1] for cell in self._cells] or [0]
        self._bounds = (min(xs), max(xs), min(ys), max(ys))

    def soonest(self, point: Point, ready_at: float, count: int) -> list[tuple[float, AvailableDriver]]:
        """Up to `count` drivers by earliest arrival at point who could still pick up before shift end.

        Ties are broken by driver id so the answer is deterministic.
        """
        if not self._cells:
            return []
        centre_x, centre_y = self._cell_of(point)
        min_x, max_x, min_y, max_y = self._bounds
        last_ring = max(centre_x - min_x, max_x - centre_x, centre_y - min_y, max_y - centre_y)
        half_pickup = self._params.pickup_service / 2
        travel = self._params.travel
        # The MDRP's travel, inlined: this loop is most of a dispatch round's time.
        metres_per_minute = travel.metres_per_minute if isinstance(travel, EuclideanTravel) else None
        minutes, ceil, hypot, px, py = travel.minutes, math.ceil, math.hypot, point.x, point.y
        now, cells = self._now, self._cells
        found: list[tuple[float, str, AvailableDriver]] = []
        kth_arrival = math.inf  # the count-th soonest arrival found so far
        unseen = self._size
        for ring in range(last_ring + 1):
            if not unseen or kth_arrival <= now + travel.minutes_at_least(max(0, ring - 1) * self._cell):
                break
            for dx, dy in _ring_offsets(ring):
                bucket = cells.get((centre_x + dx, centre_y + dy))
                if bucket is None:
                    continue
                unseen -= len(bucket)
                for sets_off, driver in bucket:
                    position = driver.free_position
                    if metres_per_minute is None:
                        arrive_at = sets_off + minutes(position, point)
                    else:
                        arrive_at = sets_off + ceil(
                            hypot(position.x - px, position.y - py) / metres_per_minute
                        )
                    if arrive_at + half_pickup <= driver.shift_end and ready_at <= driver.shift_end:
                        found.append((arrive_at, driver.id, driver))
            if len(found) >= count:
                found.sort()  # by arrival, then id (ids are distinct, so drivers are never compared)
                del found[count:]
                kth_arrival = found[-1][0]
        found.sort()
        return [(arrive_at, driver) for arrive_at, _, driver in found[:count]]

    def _cell_of(self, point: Point) -> tuple[int, int]:
        x, y = self._params.travel.to_plane(point)
        return math.floor(x / self._cell), math.floor(y / self._cell)


@functools.cache
def _ring_offsets(ring: int) -> tuple[tuple[int, int], ...]:
    """The cell offsets at Chebyshev distance `ring` from a centre."""
    if ring == 0:
        return ((0, 0),)
    cells = [(dx, dy) for dx in range(-ring, ring + 1) for dy in (-ring, ring)]
    cells += [(dx, dy) for dx in (-ring, ring) for dy in range(-ring + 1, ring)]
    return tuple(cells)
