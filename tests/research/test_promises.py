"""Fitting and measuring the delivery promise on MDRP replays (research.mdrp.promises)."""

import json
import math
import random
from dataclasses import replace
from pathlib import Path

import pytest

from drivers.dispatch.geometry import EuclideanTravel
from orders.promise import FEATURES, PromiseInputs, PromiseModel, Supply, earliest_minutes, model
from research.mdrp import promises, solve
from research.mdrp.instance import load_instance
from tests.research.test_mdrp import instance_dir  # noqa: F401  (the small instance fixture)


def test_each_order_is_observed_when_placed_and_its_delivery_is_the_replays(
    instance_dir: Path,  # noqa: F811
) -> None:
    instance = load_instance(instance_dir)
    travel = EuclideanTravel(instance.parameters.metres_per_minute)
    delivered = {d.order.id: d.dropoff_time for d in solve.solve(instance, "policy").deliveries}

    observations = promises.observe(instance)

    assert [o.order_id for o in observations] == [order.id for order in instance.orders]
    for order, seen in zip(instance.orders, observations, strict=True):
        assert seen.seen_at == order.placed_at  # couriers are on shift all along: seen in its own round
        assert seen.inputs.prep_minutes == order.ready_at - order.placed_at
        pickup = instance.restaurants[order.restaurant_id]
        assert seen.inputs.ride_minutes == travel.minutes(pickup, order.dropoff)
        assert 0 <= seen.inputs.supply.near <= len(instance.couriers)
        assert seen.delivered_at == delivered[order.id]
        # MDRP executes a plan exactly: the drop-off planned at assignment is the one that happened.
        assert seen.planned_minutes == pytest.approx(seen.delivered_at - seen.seen_at)


def _observation(
    order_id: str, *, ready: float, ride: float, delivered: float | None
) -> promises.Observation:
    return promises.Observation(
        instance="i",
        order_id=order_id,
        seen_at=0.0,
        ready_at=ready,
        ride_minutes=ride,
        inputs=PromiseInputs(
            prep_minutes=ready, ride_minutes=ride, supply=Supply(2.0, 3), merchant_queue=0, hour=12.0
        ),
        delivered_at=delivered,
        planned_minutes=None if delivered is None else delivered - 1.0,
    )


def test_the_measure_counts_on_time_orders_and_slack_beside_a_naive_promise_on_time_as_often() -> None:
    # A flat 30-minute promise: intercept only.
    flat = PromiseModel(
        coefficients=(30.0,) + (0.0,) * (len(FEATURES) - 1),
        quantile=0.9,
        assigned_margin=2.0,
        pickup_margin=0.0,
    )
    observations = [
        _observation("a", ready=10, ride=5, delivered=20),  # promise 30: on time, slack 10
        _observation("b", ready=10, ride=5, delivered=30),  # on time, slack 0
        _observation("c", ready=10, ride=5, delivered=34),  # late, slack -4
        _observation("d", ready=10, ride=5, delivered=None),  # never delivered: late, no slack
    ]

    measure = promises.measure(flat, observations)

    assert (measure.orders, measure.delivered) == (4, 3)
    assert measure.on_time_share == 0.5
    assert measure.mean_slack == pytest.approx((10 + 0 - 4) / 3)
    # Two orders in four on time needs ready + ride + 15 (the second soonest excess is 15).
    assert measure.naive_constant == 15.0
    assert measure.naive_on_time_share == 0.5
    assert measure.naive_mean_slack == pytest.approx((10 + 0 - 4) / 3)
    # At assignment: the plan (a minute early) plus two minutes of margin: every delivered order on time.
    assert measure.assigned_on_time_share == 0.75
    assert measure.assigned_mean_slack == pytest.approx(1.0)


def test_the_quantile_fit_finds_the_line_nine_points_in_ten_fall_under() -> None:
    rng = random.Random(3)
    xs = [rng.uniform(0, 20) for _ in range(3000)]
    rows = [(1.0, x) for x in xs]
    targets = [2 * x + rng.uniform(0, 10) for x in xs]

    intercept, slope = promises.fit_quantile(rows, targets, 0.9)

    assert intercept == pytest.approx(9.0, abs=0.5) and slope == pytest.approx(2.0, abs=0.05)
    under = sum(1 for x, y in zip(xs, targets, strict=True) if y <= intercept + slope * x)
    assert under / len(xs) == pytest.approx(0.9, abs=0.02)


def test_fit_then_measure_on_a_replay_and_the_promise_is_never_sooner_than_possible(
    instance_dir: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stored = tmp_path / "model.json"

    assert promises.main(["fit", str(instance_dir.parent), "--quantile", "0.9", "--out", str(stored)]) == 0
    assert promises.main(["measure", str(instance_dir.parent), "--model", str(stored)]) == 0

    fitted = PromiseModel.from_json(json.loads(stored.read_text()))
    observations = promises.observe(load_instance(instance_dir))
    measure = promises.measure(fitted, observations)
    assert str(measure) in capsys.readouterr().out
    assert measure.on_time_share >= 0.85
    for seen in observations:
        assert promises.promise_at_placement(fitted, seen) >= seen.seen_at + math.ceil(
            earliest_minutes(seen.inputs)
        )


def test_cross_validation_promises_each_instance_with_a_model_fitted_without_it(instance_dir: Path) -> None:  # noqa: F811
    observations = promises.observe(load_instance(instance_dir))
    halves = [replace(o, instance="first" if n % 2 else "second") for n, o in enumerate(observations)]

    measure = promises.cross_validate(halves, 0.9)

    assert measure.orders == len(observations)
    assert 0 < measure.on_time_share <= 1
    assert measure.naive_on_time_share >= measure.on_time_share


def test_the_stored_model_reads_todays_features_and_refuses_others() -> None:
    stored = model()
    assert len(stored.coefficients) == len(FEATURES)
    assert PromiseModel.from_json(stored.to_json()) == replace(
        stored, coefficients=tuple(round(c, 6) for c in stored.coefficients)
    )
    with pytest.raises(ValueError, match="features"):
        PromiseModel.from_json({**stored.to_json(), "features": ["intercept"]})
