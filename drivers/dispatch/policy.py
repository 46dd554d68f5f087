"""The rolling-horizon dispatch policy: pure Python, no Django, deterministic.

Each round: every pending order ready within the planning horizon starts as its own bundle; bundles are
matched to drivers at minimum total cost (click-to-door plus a little empty driving) among each bundle's
K soonest drivers; same-merchant bundles are merged while that lowers the cost, then re-matched. Only the
matches whose driver must leave before the next round are committed; the rest wait, so later rounds can
still bundle new orders or pick a better driver. Times are minutes (float) on the caller's clock.
"""

from collections.abc import Sequence

from drivers.dispatch.bundle_merging import merge_bundles, unmatched_cost
from drivers.dispatch.bundles import Bundle, Visit, make_bundle, plan_visit
from drivers.dispatch.cash import may_carry
from drivers.dispatch.driver_index import DriverIndex
from drivers.dispatch.entities import Assignment, AvailableDriver, DispatchParams, PendingOrder
from drivers.dispatch.geometry import EuclideanTravel, HaversineTravel, Point, TravelModel
from drivers.dispatch.matching import min_cost_assignment

__all__ = [
    "Assignment",
    "AvailableDriver",
    "DispatchParams",
    "EuclideanTravel",
    "HaversineTravel",
    "PendingOrder",
    "Point",
    "TravelModel",
    "plan_round",
]

MERGE_PASSES = 2


def plan_round(
    orders: Sequence[PendingOrder], drivers: Sequence[AvailableDriver], now: float, params: DispatchParams
) -> list[Assignment]:
    """Assignments to commit now: each order once at most, one merchant a bundle, pickups before shift end."""
    horizon = now + params.planning_horizon
    candidates = sorted((order for order in orders if order.ready_at <= horizon), key=lambda order: order.id)
    if not candidates or not drivers:
        return []
    index = DriverIndex(drivers, now, params)
    matched = _match([make_bundle((order,), params) for order in candidates], index, now, params)
    for _ in range(MERGE_PASSES):
        merged = merge_bundles(matched, now, params)
        if merged is None:
            break
        matched = _match(merged, index, now, params)
    return [
        _assignment(bundle, visit)
        for bundle, visit in matched
        if visit is not None and _must_commit(bundle, visit, now, params)
    ]


def _match(
    bundles: Sequence[Bundle], index: DriverIndex, now: float, params: DispatchParams
) -> list[tuple[Bundle, Visit | None]]:
    """Each bundle with the visit of the driver the min-cost matching gives it, or None."""
    driver_ids: dict[str, int] = {}
    visits: list[dict[int, Visit]] = []
    for bundle in bundles:
        options: dict[int, Visit] = {}
        for _, driver in index.soonest(bundle.pickup, bundle.ready_at, params.candidate_drivers):
            if not may_carry(bundle.orders, driver):
                continue
            visit = plan_visit(bundle, driver, now, params)
            if visit is not None:
                options[driver_ids.setdefault(driver.id, len(driver_ids))] = visit
        visits.append(options)
    columns = min_cost_assignment(
        [[(column, visit.cost) for column, visit in options.items()] for options in visits],
        [unmatched_cost(bundle, now, params) for bundle in bundles],
    )
    return [
        (bundle, None if column is None else options[column])
        for bundle, options, column in zip(bundles, visits, columns, strict=True)
    ]


def _must_commit(bundle: Bundle, visit: Visit, now: float, params: DispatchParams) -> bool:
    """Commit once the driver leaves before the next round and waiting a round could make it late."""
    leaves_this_round = visit.depart_at < now + params.round_interval
    spare = bundle.ready_at - params.pickup_service / 2 - visit.arrive_at
    return leaves_this_round and spare < params.round_interval + params.commit_slack


def _assignment(bundle: Bundle, visit: Visit) -> Assignment:
    return Assignment(
        driver_id=visit.driver.id,
        order_ids=tuple(order.id for order in bundle.orders),
        depart_at=visit.depart_at,
        pickup_at=visit.pickup_at,
        dropoff_at=tuple(visit.pickup_at + offset for offset in bundle.drop_offsets),
    )
