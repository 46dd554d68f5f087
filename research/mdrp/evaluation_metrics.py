"""The README's metrics of an evaluated solution, and the per-order lower bound on click-to-door."""

from dataclasses import dataclass

from research.mdrp.evaluation_files import Instance, OrderLine


@dataclass(frozen=True, slots=True)
class Metrics:
    orders: int
    delivered: int
    undelivered: int
    click_to_door_mean: float
    click_to_door_p50: float
    click_to_door_p90: float
    click_to_door_max: float
    over_target_orders: int
    overage_mean: float  # minutes beyond the target, averaged over delivered orders
    over_maximum_orders: int
    ready_to_pickup_mean: float
    courier_utilization: float
    orders_per_courier_hour: float
    total_courier_pay: float
    lower_bound_mean_of_delivered: float


def lower_bound(instance: Instance, order_id: str) -> float:
    """Ready + half pickup service + direct travel + half drop-off service - placement, for one order."""
    order = instance.orders[order_id]
    restaurant = instance.restaurants[str(order["restaurant"])]
    direct = instance.travel(restaurant, (float(order["x"]), float(order["y"])))
    return (
        float(order["ready_time"])
        + instance.pickup_service / 2
        + direct
        + instance.dropoff_service / 2
        - float(order["placement_time"])
    )


def lower_bound_click_to_door(instance: Instance) -> float:
    """The mean per-order lower bound on click-to-door over every order of the instance."""
    return _mean([lower_bound(instance, order_id) for order_id in instance.orders])


def measure(
    instance: Instance, order_lines: list[OrderLine], *, assignments_count: int, driving_minutes: float
) -> Metrics:
    """Delivery, speed, food-waiting, courier-efficiency and pay figures of a solution."""
    target, maximum = instance.parameters[3], instance.parameters[4]
    pay_per_order, hourly_pay = instance.parameters[5], instance.parameters[6]
    delivered = [line for line in order_lines if line.order in instance.orders]
    click_to_door = sorted(line.dropoff_time - line.placement_time for line in delivered)
    shift_minutes = {cid: c["off_time"] - c["on_time"] for cid, c in instance.couriers.items()}
    orders_of: dict[str, int] = {}
    for line in delivered:
        orders_of[line.courier] = orders_of.get(line.courier, 0) + 1
    busy_minutes = (
        driving_minutes
        + assignments_count * instance.pickup_service
        + len(delivered) * instance.dropoff_service
    )
    total_shift = sum(shift_minutes.values())
    return Metrics(
        orders=len(instance.orders),
        delivered=len(delivered),
        undelivered=len(instance.orders) - len(delivered),
        click_to_door_mean=_mean(click_to_door),
        click_to_door_p50=_percentile(click_to_door, 0.5),
        click_to_door_p90=_percentile(click_to_door, 0.9),
        click_to_door_max=click_to_door[-1] if click_to_door else 0.0,
        over_target_orders=sum(1 for value in click_to_door if value > target),
        overage_mean=_mean([max(0.0, value - target) for value in click_to_door]),
        over_maximum_orders=sum(1 for value in click_to_door if value > maximum),
        ready_to_pickup_mean=_mean([line.pickup_time - line.ready_time for line in delivered]),
        courier_utilization=busy_minutes / total_shift if total_shift else 0.0,
        orders_per_courier_hour=len(delivered) / (total_shift / 60) if total_shift else 0.0,
        total_courier_pay=sum(
            max(pay_per_order * orders_of.get(cid, 0), hourly_pay * minutes / 60)
            for cid, minutes in shift_minutes.items()
        ),
        lower_bound_mean_of_delivered=_mean([lower_bound(instance, line.order) for line in delivered]),
    )


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return 0.0
    rank = max(1, -(-len(sorted_values) * fraction // 1))
    return sorted_values[int(rank) - 1]
