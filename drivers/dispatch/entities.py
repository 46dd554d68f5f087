"""What the dispatch policy reads and returns. Times are minutes (float) on one clock chosen by the caller."""

from dataclasses import dataclass

from drivers.dispatch.geometry import Point, TravelModel


@dataclass(frozen=True, slots=True)
class PendingOrder:
    """A placed order nobody has been assigned to yet."""

    id: str
    merchant_id: str
    pickup: Point
    dropoff: Point
    placed_at: float
    ready_at: float
    # Paid in cash at the door: only a driver who may carry cash takes it (`dispatch.cash`).
    pays_cash: bool = False


@dataclass(frozen=True, slots=True)
class AvailableDriver:
    """An on-shift driver: where it is now, and when and where it finishes its current route."""

    id: str
    position: Point
    free_at: float
    free_position: Point
    shift_end: float
    # False while the driver owes more cash on delivery than the limit allows.
    takes_cash: bool = True


@dataclass(frozen=True, slots=True)
class Assignment:
    """A driver and an ordered bundle from one merchant, with the times the policy planned for it."""

    driver_id: str
    order_ids: tuple[str, ...]
    depart_at: float
    pickup_at: float
    dropoff_at: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class DispatchParams:
    """Service times and tuning knobs of the rolling-horizon policy (all durations in minutes)."""

    travel: TravelModel
    pickup_service: float = 4.0
    dropoff_service: float = 4.0
    # How often the caller runs a round; a commitment is made once waiting a round could make it late.
    round_interval: float = 1.0
    # Commit a match once the driver's spare time before it must leave is under a round plus this.
    commit_slack: float = 0.0
    # Orders ready later than now + planning_horizon are left for later rounds.
    planning_horizon: float = 40.0
    max_bundle_size: int = 3
    # Orders whose ready times differ by more than this are never bundled.
    bundle_ready_gap: float = 15.0
    candidate_drivers: int = 40
    # Cost of one minute a driver could arrive before it is needed, against one minute of click-to-door.
    spare_time_weight: float = 0.05
    # Minutes of click-to-door worth spending to free a driver for someone else.
    freed_driver_value: float = 0.0
    # The same when this round leaves some bundle without a driver.
    scarce_driver_value: float = 12.0
    # Cost per order of leaving it unmatched in this round, once it is ready within urgent_window.
    unmatched_order_cost: float = 1000.0
    urgent_window: float = 25.0
    # The same for orders ready later, which a later round can still serve.
    deferrable_order_cost: float = 10.0
    # Spatial index cell side, in planar metres.
    grid_cell_metres: float = 1500.0
