"""The feasibility checks of the MDRP library's own evaluator, applied the way that evaluator applies them.

The library (grubhub/mdrplib) judges a solution with nine checks on the files as it reads them:
assignment and pickup times truncated to whole minutes, moves taken courier block by courier block
(see `evaluation_files.read_solution`), origin `0` standing for the courier's on-location. Where the
library's script would stop on a missing key (an unknown order or courier, an assigned order absent
from the orders file, a courier with assignments but no moves), the solution is not accepted either,
and that is reported here as a violation of the check that would stop.
"""

import bisect
import math
from collections import Counter
from dataclasses import dataclass

from research.mdrp.evaluation_files import AssignmentLine, Instance, MoveLine, OrderLine

SEVERAL_ASSIGNMENTS = "orders in more than one assignment"
BEFORE_PLACEMENT = "assignments made before orders are placed"
AFTER_OFF_TIME = "bundle picked up after off-time of courier"
BEFORE_READY = "bundle pickup times do not respect individual ready times"
DROPOFF_SEQUENCE = "dropoffs do not follow the prescribed sequence"
DISCONTINUITY = "discontinuities in sequence of origin-destination pairs"
DEPARTURE_BEFORE_ARRIVAL = "departures sometimes happen before arrivals"
DROPOFF_PLACE = "inconsistency in dropoff times and locations"
PICKUP_PLACE = "inconsistency in pickup times and locations"


@dataclass
class _Timeline:
    """A courier's moments and where it is from each: its own id at on-time, '' while driving."""

    times: list[float]
    places: list[str]

    def place_before(self, moment: float) -> str:
        """The place at the last moment strictly before `moment` (the library's bisect, index -1 included)."""
        return self.places[bisect.bisect_left(self.times, moment) - 1]


def library_violations(
    instance: Instance,
    assignments: list[AssignmentLine],
    order_lines: list[OrderLine],
    blocks: dict[str, list[MoveLine]],
) -> list[str]:
    """Every violation the library's evaluator finds, each prefixed with the heading it prints it under."""
    violations: list[str] = []
    _check_assignments(instance, assignments, order_lines, violations)
    timelines = _timelines(instance, blocks, violations)
    _check_places(instance, assignments, order_lines, timelines, violations)
    return violations


def _check_assignments(
    instance: Instance,
    assignments: list[AssignmentLine],
    order_lines: list[OrderLine],
    violations: list[str],
) -> None:
    bundles_of = Counter(order for line in assignments for order in set(line.orders))
    listed = Counter(line.order for line in order_lines)
    for order, times_listed in listed.items():
        if bundles_of[order] * times_listed > 1:
            violations.append(f"{SEVERAL_ASSIGNMENTS}: {order}")
    dropoff_of = {line.order: line.dropoff_time for line in order_lines}
    for line in assignments:
        label = f"{line.courier} {' '.join(line.orders)} assigned at {line.assignment_time:g}"
        courier = instance.couriers.get(line.courier)
        unknown = [order_id for order_id in line.orders if order_id not in instance.orders]
        if unknown or courier is None or not line.orders:
            violations.append(f"{BEFORE_PLACEMENT}: {label}: unknown courier or orders, or no order")
            continue
        assigned_at, pickup_at = _whole(line.assignment_time), _whole(line.pickup_time)
        for order_id in line.orders:
            placed_at = float(instance.orders[order_id]["placement_time"])
            ready_at = float(instance.orders[order_id]["ready_time"])
            if assigned_at < placed_at:
                violations.append(f"{BEFORE_PLACEMENT}: {label}: {order_id} placed {placed_at:g}")
            if ready_at > pickup_at:
                violations.append(f"{BEFORE_READY}: {label}: {order_id} ready {ready_at:g}")
        if courier["off_time"] < pickup_at:
            violations.append(f"{AFTER_OFF_TIME}: {label}: pickup {pickup_at:g}")
        dropoffs: list[float] = []
        for order_id in line.orders:
            if order_id not in dropoff_of:
                violations.append(f"{DROPOFF_SEQUENCE}: {label}: {order_id} missing from the orders file")
                break
            drop = dropoff_of[order_id]
            if dropoffs and drop < dropoffs[-1] + instance.dropoff_service:
                violations.append(f"{DROPOFF_SEQUENCE}: {label}: {order_id} dropped off at {drop:g}")
            dropoffs.append(drop)


def _timelines(
    instance: Instance, blocks: dict[str, list[MoveLine]], violations: list[str]
) -> dict[str, _Timeline]:
    """Each courier's timeline from its block; origin continuity and time order checked on the way."""
    timelines: dict[str, _Timeline] = {}
    for courier_id, moves in blocks.items():
        courier = instance.couriers.get(courier_id)
        if courier is None:
            violations.append(f"{DISCONTINUITY}: moves of unknown courier {courier_id}")
            continue
        timeline = _Timeline(times=[courier["on_time"]], places=[courier_id])
        for move in moves:
            origin = courier_id if move.origin == "0" else move.origin
            if origin != timeline.places[-1]:
                violations.append(
                    f"{DISCONTINUITY}: {courier_id} leaves {origin} but is at {timeline.places[-1]}"
                )
            start, end = (
                _location(instance, courier_id, origin),
                _location(instance, courier_id, move.destination),
            )
            if start is None or end is None:
                violations.append(
                    f"{DISCONTINUITY}: {courier_id} moves {origin} -> {move.destination}, unknown"
                )
                break
            departure = _whole(move.departure_time)
            timeline.times += [departure, departure + instance.travel(start, end)]
            timeline.places += ["", move.destination]
        if timeline.times != sorted(timeline.times):
            violations.append(f"{DEPARTURE_BEFORE_ARRIVAL}: {courier_id}")
        timelines[courier_id] = timeline
    return timelines


def _check_places(
    instance: Instance,
    assignments: list[AssignmentLine],
    order_lines: list[OrderLine],
    timelines: dict[str, _Timeline],
    violations: list[str],
) -> None:
    """Each drop-off and pickup happens where the courier's timeline has it at that time."""
    for line in order_lines:
        if line.courier not in instance.couriers:
            continue  # the library skips order lines of unknown couriers
        timeline = timelines.get(line.courier)
        place = timeline.place_before(line.dropoff_time) if timeline else "no moves"
        if place != line.order:
            violations.append(
                f"{DROPOFF_PLACE}: {line.order} at {line.dropoff_time:g}: {line.courier} at {place!r}"
            )
    for assignment in assignments:
        if not assignment.orders or assignment.orders[0] not in instance.orders:
            continue  # already reported: the library stops earlier on it
        restaurant = str(instance.orders[assignment.orders[0]]["restaurant"])
        timeline = timelines.get(assignment.courier)
        pickup_at = _whole(assignment.pickup_time)
        place = timeline.place_before(pickup_at) if timeline else "no moves"
        if place != restaurant:
            violations.append(
                f"{PICKUP_PLACE}: {restaurant} at {pickup_at:g}: {assignment.courier} at {place!r}"
            )


def _location(instance: Instance, courier_id: str, place: str) -> tuple[float, float] | None:
    """Coordinates of an order's drop-off, a restaurant or a courier's on-location, by id."""
    if place in instance.orders:
        order = instance.orders[place]
        return float(order["x"]), float(order["y"])
    if place in instance.restaurants:
        return instance.restaurants[place]
    courier = instance.couriers.get(place)
    return None if courier is None else (courier["x"], courier["y"])


def _whole(value: float) -> float:
    """A time as the library reads it: truncated to a whole minute (NaN stays NaN)."""
    return value if math.isnan(value) else float(math.trunc(value))
