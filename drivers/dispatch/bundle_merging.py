"""Merging same-merchant bundles when one driver serving both beats the current matching."""

from collections import defaultdict
from collections.abc import Sequence
from itertools import combinations

from drivers.dispatch.bundles import Bundle, Visit, make_bundle, plan_visit
from drivers.dispatch.entities import DispatchParams


def merge_bundles(
    matched: Sequence[tuple[Bundle, Visit | None]], now: float, params: DispatchParams
) -> list[Bundle] | None:
    """The bundles after every profitable same-merchant merge, or None when no merge pays off."""
    # A freed driver is worth more the more bundles this round go without a driver or wait for one.
    short = sum(1 for bundle, visit in matched if visit is None or visit.pickup_at > bundle.ready_at)
    freed_value = params.freed_driver_value + params.scarce_driver_value * short / len(matched)
    by_merchant: dict[str, list[tuple[Bundle, Visit | None]]] = defaultdict(list)
    for bundle, visit in matched:
        by_merchant[bundle.merchant_id].append((bundle, visit))
    merged_any = False
    result: list[Bundle] = []
    for merchant_id in sorted(by_merchant):
        group = by_merchant[merchant_id]
        while len(group) > 1:
            best = _best_merge(group, now, params, freed_value)
            if best is None:
                break
            first, second, merged = best
            group = [entry for index, entry in enumerate(group) if index not in (first, second)]
            group.append(merged)
            merged_any = True
        result.extend(bundle for bundle, _ in group)
    return result if merged_any else None


def _best_merge(
    group: list[tuple[Bundle, Visit | None]], now: float, params: DispatchParams, freed_value: float
) -> tuple[int, int, tuple[Bundle, Visit | None]] | None:
    """The pair whose merge gains the most over their current visits, with the merged bundle's visit."""
    best: tuple[float, int, int, tuple[Bundle, Visit | None]] | None = None
    for (first, (bundle_a, visit_a)), (second, (bundle_b, visit_b)) in combinations(enumerate(group), 2):
        orders = bundle_a.orders + bundle_b.orders
        if len(orders) > params.max_bundle_size:
            continue
        ready_times = [order.ready_at for order in orders]
        if max(ready_times) - min(ready_times) > params.bundle_ready_gap:
            continue
        drivers = [visit.driver for visit in (visit_a, visit_b) if visit is not None]
        if not drivers:
            continue
        merged = make_bundle(orders, params)
        visits = [
            visit for driver in drivers if (visit := plan_visit(merged, driver, now, params)) is not None
        ]
        if not visits:
            continue
        merged_visit = min(visits, key=lambda visit: visit.cost)
        freed = freed_value if len(drivers) == 2 else 0.0
        before = _cost(bundle_a, visit_a, now, params) + _cost(bundle_b, visit_b, now, params)
        gain = before - merged_visit.cost + freed
        if gain > 0 and (best is None or gain > best[0]):
            best = (gain, first, second, (merged, merged_visit))
    return None if best is None else best[1:]


def _cost(bundle: Bundle, visit: Visit | None, now: float, params: DispatchParams) -> float:
    return visit.cost if visit is not None else unmatched_cost(bundle, now, params)


def unmatched_cost(bundle: Bundle, now: float, params: DispatchParams) -> float:
    """The assumed cost of leaving a bundle unmatched this round: its best case plus a penalty per order.

    The penalty is small while the bundle is far from ready, since a later round can still serve it.
    """
    urgent = bundle.ready_at <= now + params.urgent_window
    penalty = params.unmatched_order_cost if urgent else params.deferrable_order_cost
    return bundle.click_to_door_sum(bundle.ready_at) + penalty * bundle.size
