"""An MDRP instance directory (restaurants, orders, couriers, parameters) loaded into plain records."""

import csv
from dataclasses import dataclass
from pathlib import Path

from drivers.dispatch.geometry import Point


@dataclass(frozen=True, slots=True)
class MdrpOrder:
    id: str
    dropoff: Point
    placed_at: float
    restaurant_id: str
    ready_at: float


@dataclass(frozen=True, slots=True)
class MdrpCourier:
    id: str
    on_location: Point
    on_time: float
    off_time: float


@dataclass(frozen=True, slots=True)
class MdrpParameters:
    metres_per_minute: float
    pickup_service: float
    dropoff_service: float
    target_click_to_door: float
    maximum_click_to_door: float
    pay_per_order: float
    guaranteed_pay_per_hour: float


@dataclass(frozen=True, slots=True)
class MdrpInstance:
    name: str
    restaurants: dict[str, Point]
    orders: tuple[MdrpOrder, ...]
    couriers: tuple[MdrpCourier, ...]
    parameters: MdrpParameters


def load_instance(directory: Path) -> MdrpInstance:
    """The instance in `directory`, orders sorted by (placement, id) and couriers by (on_time, id)."""
    restaurants = {
        row["restaurant"]: Point(float(row["x"]), float(row["y"]))
        for row in _rows(directory / "restaurants.txt")
    }
    orders = sorted(
        (
            MdrpOrder(
                id=row["order"],
                dropoff=Point(float(row["x"]), float(row["y"])),
                placed_at=float(row["placement_time"]),
                restaurant_id=row["restaurant"],
                ready_at=float(row["ready_time"]),
            )
            for row in _rows(directory / "orders.txt")
        ),
        key=lambda order: (order.placed_at, order.id),
    )
    couriers = sorted(
        (
            MdrpCourier(
                id=row["courier"],
                on_location=Point(float(row["x"]), float(row["y"])),
                on_time=float(row["on_time"]),
                off_time=float(row["off_time"]),
            )
            for row in _rows(directory / "couriers.txt")
        ),
        key=lambda courier: (courier.on_time, courier.id),
    )
    values = [float(value) for value in next(iter(_rows(directory / "instance_parameters.txt"))).values()]
    return MdrpInstance(
        name=directory.name,
        restaurants=restaurants,
        orders=tuple(orders),
        couriers=tuple(couriers),
        parameters=MdrpParameters(*values),
    )


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))
