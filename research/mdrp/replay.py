"""Replays an MDRP instance in simulated minutes: rounds call a dispatcher, couriers execute per the rules."""

import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from drivers.dispatch.entities import Assignment, AvailableDriver, DispatchParams, PendingOrder
from drivers.dispatch.geometry import Point
from research.mdrp.instance import MdrpCourier, MdrpInstance, MdrpOrder

ON_LOCATION = "0"

Dispatcher = Callable[
    [Sequence[PendingOrder], Sequence[AvailableDriver], float, DispatchParams], list[Assignment]
]


@dataclass(frozen=True, slots=True)
class ExecutedAssignment:
    assignment_time: float
    pickup_time: float
    courier_id: str
    order_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Delivery:
    order: MdrpOrder
    pickup_time: float
    dropoff_time: float
    courier_id: str


@dataclass(frozen=True, slots=True)
class Move:
    courier_id: str
    departure_time: float
    origin: str
    destination: str


@dataclass
class Solution:
    assignments: list[ExecutedAssignment] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    dispatcher: str = ""  # the dispatcher whose rounds made it

    def click_to_door_mean(self) -> float:
        """Mean drop-off minus placement over the delivered orders (0 when none is)."""
        total = sum(delivery.dropoff_time - delivery.order.placed_at for delivery in self.deliveries)
        return total / len(self.deliveries) if self.deliveries else 0.0


@dataclass
class _Courier:
    courier: MdrpCourier
    free_at: float
    location: str
    point: Point

    def as_driver(self) -> AvailableDriver:
        return AvailableDriver(
            id=self.courier.id,
            position=self.point,
            free_at=self.free_at,
            free_position=self.point,
            shift_end=self.courier.off_time,
        )


def replay(
    instance: MdrpInstance, dispatcher: Dispatcher, params: DispatchParams, round_interval: float = 1.0
) -> Solution:
    """Run rounds from the first placement until every order is assigned or no courier is left on shift.

    A round at time t sees only orders placed by t and couriers on shift at t; assignments are executed
    exactly per the MDRP rules, and one a dispatcher planned differently from that execution is an error.
    """
    solution = Solution()
    couriers = {
        courier.id: _Courier(courier, courier.on_time, ON_LOCATION, courier.on_location)
        for courier in instance.couriers
    }
    unplaced = deque(instance.orders)  # sorted by placement
    pending: dict[str, MdrpOrder] = {}
    last_shift_end = max((courier.off_time for courier in instance.couriers), default=0.0)
    now = math.floor(unplaced[0].placed_at) if unplaced else last_shift_end
    while (unplaced or pending) and now <= last_shift_end:
        while unplaced and unplaced[0].placed_at <= now:
            order = unplaced.popleft()
            pending[order.id] = order
        drivers = [
            state.as_driver()
            for state in couriers.values()
            if state.courier.on_time <= now < state.courier.off_time
            and state.free_at <= state.courier.off_time
        ]
        if pending and drivers:
            pending_orders = [
                PendingOrder(
                    id=order.id,
                    merchant_id=order.restaurant_id,
                    pickup=instance.restaurants[order.restaurant_id],
                    dropoff=order.dropoff,
                    placed_at=order.placed_at,
                    ready_at=order.ready_at,
                )
                for order in pending.values()
            ]
            for assignment in dispatcher(pending_orders, drivers, now, params):
                bundle = [pending.pop(order_id) for order_id in assignment.order_ids]
                _execute(instance, params, couriers[assignment.driver_id], bundle, now, assignment, solution)
        now += round_interval
    return solution


def _execute(
    instance: MdrpInstance,
    params: DispatchParams,
    state: _Courier,
    bundle: list[MdrpOrder],
    now: float,
    planned: Assignment,
    solution: Solution,
) -> None:
    """Move the courier through pickup and drop-offs per the rules and record the result."""
    restaurant_id = bundle[0].restaurant_id
    if any(order.restaurant_id != restaurant_id for order in bundle):
        raise ValueError(f"assignment {planned} mixes restaurants")
    if not state.courier.on_time <= now:
        raise ValueError(f"courier {state.courier.id} is not on shift at {now}")
    restaurant = instance.restaurants[restaurant_id]
    depart_at = max(now, state.free_at)
    arrive_at = depart_at + params.travel.minutes(state.point, restaurant)
    pickup_at = max(max(order.ready_at for order in bundle), arrive_at + params.pickup_service / 2)
    if pickup_at > state.courier.off_time:
        raise ValueError(f"assignment {planned} picks up after the courier's off time")
    if not math.isclose(pickup_at, planned.pickup_at):
        raise ValueError(
            f"assignment {planned} planned pickup at {planned.pickup_at}, executes at {pickup_at}"
        )
    solution.assignments.append(
        ExecutedAssignment(now, pickup_at, state.courier.id, tuple(order.id for order in bundle))
    )
    solution.moves.append(Move(state.courier.id, depart_at, state.location, restaurant_id))
    leave_at, location, point = pickup_at + params.pickup_service / 2, restaurant_id, restaurant
    for order in bundle:
        solution.moves.append(Move(state.courier.id, leave_at, location, order.id))
        dropoff_at = leave_at + params.travel.minutes(point, order.dropoff) + params.dropoff_service / 2
        solution.deliveries.append(Delivery(order, pickup_at, dropoff_at, state.courier.id))
        leave_at, location, point = dropoff_at + params.dropoff_service / 2, order.id, order.dropoff
    state.free_at, state.location, state.point = leave_at, location, point
