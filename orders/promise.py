"""Promised delivery times: the moment the customer is told the food will be at the door by.

Pure Python, no Django: the orders services (quote, placement, merchant accept), the drivers app
(assignment, pickup) and the MDRP replay (`research.mdrp.promises`, which fits and measures it) call
the same functions, so the promise measured offline is the promise made online. Times are minutes.

Before a driver is assigned the promise is a linear conditional quantile of the minutes to the door,
over what is known at that moment (`PromiseInputs`): the kitchen's preparation time, the direct ride,
the nearest free driver and how many are near the merchant, the merchant's queue and the time of day.
Its coefficients are fitted on MDRP replays of the production dispatch policy and stored in
`promise_model.json` beside this module (how: `research/mdrp/promises.py`). Once a driver is assigned
the dispatcher's plan is known, and the promise is that plan plus a fixed margin; likewise after pickup.
"""

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

MODEL_PATH = Path(__file__).with_name("promise_model.json")

#: Minutes at the merchant and at the door (half before the handover, half after), as dispatch plans.
PICKUP_SERVICE = 4.0
DROPOFF_SERVICE = 4.0
#: A free driver this many minutes from the merchant or less counts as near it.
NEAR_MINUTES = 10.0
#: The nearest free driver's minutes when none is known (none near, or positions unavailable).
NO_DRIVER_MINUTES = 30.0
#: Counts above this tell nothing more.
COUNT_CAP = 10


@dataclass(frozen=True, slots=True)
class Supply:
    """Free drivers around a merchant: the nearest one's minutes to reach it (None: none known) and
    how many are within `NEAR_MINUTES`."""

    nearest_minutes: float | None
    near: int


NO_SUPPLY = Supply(nearest_minutes=None, near=0)


@dataclass(frozen=True, slots=True)
class PromiseInputs:
    """What is known about an order before a driver is assigned, on the caller's clock."""

    #: Minutes from now until the food is ready (the merchant's estimate).
    prep_minutes: float
    #: Minutes of the direct ride from the merchant to the door.
    ride_minutes: float
    supply: Supply
    #: Other orders at this merchant not yet picked up.
    merchant_queue: int
    #: Local time of day, in hours (0 to 24).
    hour: float


FEATURES = ("intercept", "plan", "prep", "ride", "reach", "near", "queue", "hour_sin", "hour_cos")


def reach_minutes(supply: Supply) -> float:
    """The nearest free driver's minutes to the merchant, `NO_DRIVER_MINUTES` at most."""
    if supply.nearest_minutes is None:
        return NO_DRIVER_MINUTES
    return min(supply.nearest_minutes, NO_DRIVER_MINUTES)


def earliest_minutes(inputs: PromiseInputs) -> float:
    """Minutes to the door if nothing waited: the food ready, handed over and ridden straight there."""
    return inputs.prep_minutes + PICKUP_SERVICE / 2 + inputs.ride_minutes + DROPOFF_SERVICE / 2


def features(inputs: PromiseInputs) -> tuple[float, ...]:
    """The model's inputs in `FEATURES` order; `plan` is the delivery if the nearest free driver
    went now and took no other order."""
    reach = reach_minutes(inputs.supply)
    pickup = max(inputs.prep_minutes, reach + PICKUP_SERVICE / 2)
    plan = pickup + PICKUP_SERVICE / 2 + inputs.ride_minutes + DROPOFF_SERVICE / 2
    angle = 2 * math.pi * inputs.hour / 24
    return (
        1.0,
        plan,
        inputs.prep_minutes,
        inputs.ride_minutes,
        reach,
        float(min(inputs.supply.near, COUNT_CAP)),
        float(min(inputs.merchant_queue, COUNT_CAP)),
        math.sin(angle),
        math.cos(angle),
    )


@dataclass(frozen=True, slots=True)
class PromiseModel:
    """The fitted promise: coefficients over `FEATURES` (the `quantile` they were fitted for) and the
    margins added to the dispatcher's plan once a driver is assigned and once the food is picked up."""

    coefficients: tuple[float, ...]
    quantile: float
    assigned_margin: float
    pickup_margin: float

    def before_driver(self, inputs: PromiseInputs) -> float:
        """Whole minutes from now to the promise, never sooner than the earliest possible delivery."""
        fitted = sum(c * x for c, x in zip(self.coefficients, features(inputs), strict=True))
        return float(math.ceil(max(fitted, earliest_minutes(inputs))))

    def after_assignment(self, planned_minutes: float) -> float:
        """Whole minutes from now to the promise, given the minutes to the door the dispatcher planned."""
        return float(math.ceil(planned_minutes + self.assigned_margin))

    def after_pickup(self, ride_minutes: float) -> float:
        """Whole minutes from now to the promise once the driver leaves the merchant with the food."""
        return float(math.ceil(ride_minutes + DROPOFF_SERVICE / 2 + self.pickup_margin))

    def to_json(self) -> dict[str, object]:
        return {
            "features": list(FEATURES),
            "coefficients": [round(c, 6) for c in self.coefficients],
            "quantile": self.quantile,
            "assigned_margin": self.assigned_margin,
            "pickup_margin": self.pickup_margin,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> "PromiseModel":
        if data["features"] != list(FEATURES):
            raise ValueError(f"promise model features {data['features']} are not {list(FEATURES)}")
        coefficients = data["coefficients"]
        assert isinstance(coefficients, list)
        return cls(
            coefficients=tuple(float(c) for c in coefficients),
            quantile=float(str(data["quantile"])),
            assigned_margin=float(str(data["assigned_margin"])),
            pickup_margin=float(str(data["pickup_margin"])),
        )


_model: PromiseModel | None = None


def model() -> PromiseModel:
    """The model stored beside this module (read once per process)."""
    global _model
    if _model is None:
        _model = PromiseModel.from_json(json.loads(MODEL_PATH.read_text()))
    return _model


# --- Where the drivers come from ------------------------------------------------------------------

#: (merchant latitude, longitude, now) -> the free drivers around it. The drivers app installs the
#: real one when it starts (orders never imports drivers); without it no driver is known.
SupplySource = Callable[[float, float, datetime], Supply]
_supply_source: SupplySource | None = None


def use_supply_source(source: SupplySource | None) -> None:
    """Install the function that tells the free drivers around a merchant."""
    global _supply_source
    _supply_source = source


def supply_near(*, lat: float, lng: float, now: datetime) -> Supply:
    """The free drivers around (lat, lng) now, or `NO_SUPPLY` when nothing tells them."""
    return _supply_source(lat, lng, now) if _supply_source is not None else NO_SUPPLY
