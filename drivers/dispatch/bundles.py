"""Bundles (orders of one merchant in drop-off sequence) and the visit a driver would make for one."""

from dataclasses import dataclass
from itertools import permutations

from drivers.dispatch.entities import AvailableDriver, DispatchParams, PendingOrder
from drivers.dispatch.geometry import Point


@dataclass(frozen=True, slots=True)
class Bundle:
    """Orders of one merchant in the drop-off sequence that minimises their summed click-to-door."""

    orders: tuple[PendingOrder, ...]
    drop_offsets: tuple[float, ...]  # minutes from pickup to each drop-off
    ready_at: float  # the latest ready time: the bundle is picked up at or after it
    # Summed drop-off offsets minus summed placement times: click-to-door sum = size * pickup + this.
    click_to_door_base: float = 0.0

    @property
    def merchant_id(self) -> str:
        return self.orders[0].merchant_id

    @property
    def pickup(self) -> Point:
        return self.orders[0].pickup

    @property
    def size(self) -> int:
        return len(self.orders)

    def click_to_door_sum(self, pickup_at: float) -> float:
        """Summed click-to-door of the bundle's orders if it is picked up at pickup_at."""
        return len(self.orders) * pickup_at + self.click_to_door_base


@dataclass(frozen=True, slots=True)
class Visit:
    """One driver serving one bundle: when it leaves, arrives, picks up, and its cost to the objective."""

    driver: AvailableDriver
    depart_at: float
    arrive_at: float
    pickup_at: float
    cost: float


def make_bundle(orders: tuple[PendingOrder, ...], params: DispatchParams) -> Bundle:
    """The bundle of these same-merchant orders in their best drop-off sequence (ties broken by order id)."""
    best: tuple[float, tuple[PendingOrder, ...], tuple[float, ...]] | None = None
    for sequence in permutations(sorted(orders, key=lambda order: order.id)):
        offsets = _drop_offsets(sequence, params)
        total = sum(offsets)
        if best is None or total < best[0]:
            best = (total, sequence, offsets)
    assert best is not None, "a bundle has at least one order"
    return Bundle(
        orders=best[1],
        drop_offsets=best[2],
        ready_at=max(order.ready_at for order in orders),
        click_to_door_base=sum(best[2]) - sum(order.placed_at for order in orders),
    )


def plan_visit(
    bundle: Bundle,
    driver: AvailableDriver,
    now: float,
    params: DispatchParams,
    arrive_at: float | None = None,
) -> Visit | None:
    """The driver's visit for the bundle per the pickup rules, or None if it would pick up after shift end.

    `arrive_at`, when the caller already knows the driver's arrival at the pickup, saves computing it.
    """
    depart_at = max(now, driver.free_at)
    if arrive_at is None:
        arrive_at = depart_at + params.travel.minutes(driver.free_position, bundle.pickup)
    pickup_at = max(bundle.ready_at, arrive_at + params.pickup_service / 2)
    if pickup_at > driver.shift_end:
        return None
    # Among drivers on time, prefer the one with the least time to spare: earlier ones stay free for others.
    spare = max(0.0, bundle.ready_at - params.pickup_service / 2 - arrive_at)
    cost = bundle.click_to_door_sum(pickup_at) + params.spare_time_weight * spare
    return Visit(driver=driver, depart_at=depart_at, arrive_at=arrive_at, pickup_at=pickup_at, cost=cost)


def _drop_offsets(sequence: tuple[PendingOrder, ...], params: DispatchParams) -> tuple[float, ...]:
    offsets = []
    elapsed = params.pickup_service / 2
    position = sequence[0].pickup
    for order in sequence:
        elapsed += params.travel.minutes(position, order.dropoff) + params.dropoff_service / 2
        offsets.append(elapsed)
        elapsed += params.dropoff_service / 2
        position = order.dropoff
    return tuple(offsets)
