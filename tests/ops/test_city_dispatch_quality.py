"""The city simulation's dispatch quality: click to door against the MDRP per-order lower bound, in the
simulated world's terms (food ready as the merchant marked it, plus the ride)."""

import random

from bench.city.apps import Actors, City, Knobs
from bench.city.results import _against_bound, dispatch_quality


def city(ride_seconds: float = 60.0) -> City:
    knobs = Knobs(orders_per_minute=1, fix_interval=4, prep_seconds=30, ride_seconds=ride_seconds)
    return City(Actors([], [], []), knobs, "http://127.0.0.1:1", "ws://127.0.0.1:1", random.Random(1))


def test_click_to_door_is_set_against_ready_plus_ride_over_the_delivered_orders() -> None:
    run = city(ride_seconds=60.0)
    run.acknowledged = {1: 1000.0, 2: 1010.0, 3: 1020.0}
    run.food_ready = {1: 1030.0, 2: 1050.0, 3: 1060.0}  # ready 30 s and 40 s after placement; 3 undelivered
    run.door_by_order = {1: 99.0, 2: 121.0}  # 9 s and 21 s over their bounds of 90 s and 100 s

    quality = dispatch_quality(run)

    assert quality == {"orders": 2, "click_to_door_mean_s": 110.0, "lower_bound_mean_s": 95.0, "ratio": 1.158}
    assert _against_bound(quality) == "110.0 / 95.0 (1.158)"


def test_a_run_that_delivered_nothing_has_no_ratio() -> None:
    quality = dispatch_quality(city())

    assert quality["ratio"] is None
    assert _against_bound(quality) == "-"
