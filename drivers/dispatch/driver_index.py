"""A grid of drivers by where they will be free, answering "the K drivers who can arrive soonest"."""

import math
from collections import defaultdict
from collections.abc import Sequence

from drivers.dispatch.entities import AvailableDriver, DispatchParams
from drivers.dispatch.geometry import Point


class DriverIndex:
    """Buckets drivers by free position so a query only looks at the cells that could beat its K-th best."""

    def __init__(self, drivers: Sequence[AvailableDriver], now: float, params: DispatchParams) -> None:
        self._now = now
        self._params = params
        self._cell = params.grid_cell_metres
        self._cells: dict[tuple[int, int], list[AvailableDriver]] = defaultdict(list)
        for driver in drivers:
            self._cells[self._cell_of(driver.free_position)].append(driver)
        xs = [cell[0] for cell in self._cells] or [0]
        ys = [cell[1] for cell in self._cells] or [0]
        self._bounds = (min(xs), max(xs), min(ys), max(ys))

    def soonest(self, point: Point, ready_at: float, count: int) -> list[tuple[float, AvailableDriver]]:
        """Up to `count` drivers by earliest arrival at point who could still pick up before shift end.

        Ties are broken by driver id so the answer is deterministic.
        """
        if not self._cells:
            return []
        centre = self._cell_of(point)
        min_x, max_x, min_y, max_y = self._bounds
        last_ring = max(centre[0] - min_x, max_x - centre[0], centre[1] - min_y, max_y - centre[1])
        half_pickup = self._params.pickup_service / 2
        travel = self._params.travel
        found: list[tuple[float, str, AvailableDriver]] = []
        for ring in range(last_ring + 1):
            if len(found) >= count:
                nearest_possible = self._now + travel.minutes_at_least(max(0, ring - 1) * self._cell)
                if found[count - 1][0] <= nearest_possible:
                    break
            for cell in _ring_cells(centre, ring):
                for driver in self._cells.get(cell, ()):
                    arrive_at = max(self._now, driver.free_at) + travel.minutes(driver.free_position, point)
                    if max(ready_at, arrive_at + half_pickup) <= driver.shift_end:
                        found.append((arrive_at, driver.id, driver))
            found.sort(key=lambda item: (item[0], item[1]))
            del found[count:]
        return [(arrive_at, driver) for arrive_at, _, driver in found]

    def _cell_of(self, point: Point) -> tuple[int, int]:
        x, y = self._params.travel.to_plane(point)
        return math.floor(x / self._cell), math.floor(y / self._cell)


def _ring_cells(centre: tuple[int, int], ring: int) -> list[tuple[int, int]]:
    """The cells at Chebyshev distance `ring` from centre."""
    cx, cy = centre
    if ring == 0:
        return [centre]
    cells = [(cx + dx, cy + dy) for dx in range(-ring, ring + 1) for dy in (-ring, ring)]
    cells += [(cx + dx, cy + dy) for dx in (-ring, ring) for dy in range(-ring + 1, ring)]
    return cells
