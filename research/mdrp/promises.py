"""Fit and measure the delivery promise (`orders.promise`) on MDRP replays of the dispatch policy.

    python -m research.mdrp.promises fit INSTANCES_DIR [--quantile Q] [--out orders/promise_model.json]
    python -m research.mdrp.promises measure INSTANCES_DIR [--model orders/promise_model.json]

Each instance is replayed through the production policy (`plan_round`), wrapped so that every order is
observed in the first round that sees it: the promise's inputs then (`PromiseInputs`, the supply counted
by `drivers.dispatch.promise.free_supply`) and, once the replay ends, when it was dropped off.

Fitting: a linear quantile regression (pinball loss, iteratively reweighted least squares) of the
minutes from placement to drop-off over `orders.promise.features`. Measuring: the share of orders
delivered by the promise made at placement and the mean slack (promise minus drop-off), beside a
naive promise (ready time + direct ride + a constant) whose constant is set so that the same share of
orders is on time. An order never delivered counts as late and has no slack.
"""

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from drivers.dispatch.entities import Assignment, AvailableDriver, DispatchParams, PendingOrder
from drivers.dispatch.policy import plan_round
from drivers.dispatch.promise import free_supply
from orders.promise import FEATURES, MODEL_PATH, PromiseInputs, PromiseModel, features
from research.mdrp.instance import MdrpInstance, load_instance
from research.mdrp.replay import replay
from research.mdrp.solve import instance_params

#: MDRP executes an assignment exactly as planned, so no margin after assignment or pickup can be
#: learned from it; these cover what the replay does not have (traffic, parking, a slow handover).
ASSIGNED_MARGIN = 5.0
PICKUP_MARGIN = 3.0


@dataclass(frozen=True, slots=True)
class Observation:
    """One order as the promise saw it in the replay, and when it reached the door (None: never)."""

    instance: str
    order_id: str
    seen_at: float
    ready_at: float
    ride_minutes: float
    inputs: PromiseInputs
    delivered_at: float | None
    #: Minutes from `seen_at` to the drop-off the dispatcher planned when it assigned the order.
    planned_minutes: float | None = None


class _Observer:
    """Wraps the policy: records each order's inputs the first round it is seen, and each plan."""

    def __init__(self, instance: MdrpInstance) -> None:
        self.instance = instance
        self.inputs: dict[str, tuple[float, PromiseInputs]] = {}
        self.planned: dict[str, float] = {}
        self.pickups: list[tuple[str, float]] = []  # (merchant, planned pickup) of assigned orders

    def dispatch(
        self,
        orders: Sequence[PendingOrder],
        drivers: Sequence[AvailableDriver],
        now: float,
        params: DispatchParams,
    ) -> list[Assignment]:
        waiting: dict[str, int] = {}
        for order in orders:
            waiting[order.merchant_id] = waiting.get(order.merchant_id, 0) + 1
        for merchant_id, pickup_at in self.pickups:
            if pickup_at > now:
                waiting[merchant_id] = waiting.get(merchant_id, 0) + 1
        for order in orders:
            if order.id not in self.inputs:
                self.inputs[order.id] = (
                    now,
                    PromiseInputs(
                        prep_minutes=max(0.0, order.ready_at - now),
                        ride_minutes=params.travel.minutes(order.pickup, order.dropoff),
                        supply=free_supply(order.pickup, drivers, now, params.travel),
                        merchant_queue=waiting[order.merchant_id] - 1,
                        hour=(now / 60) % 24,
                    ),
                )
        assignments = plan_round(orders, drivers, now, params)
        merchants = {order.id: order.merchant_id for order in orders}
        for assignment in assignments:
            for order_id, dropoff_at in zip(assignment.order_ids, assignment.dropoff_at, strict=True):
                self.planned[order_id] = dropoff_at - self.inputs[order_id][0]
                self.pickups.append((merchants[order_id], assignment.pickup_at))
        return assignments


def observe(instance: MdrpInstance) -> list[Observation]:
    """Replay the instance through the policy and return one observation per order it saw."""
    params = instance_params(instance)
    observer = _Observer(instance)
    solution = replay(instance, observer.dispatch, params, round_interval=params.round_interval)
    delivered = {delivery.order.id: delivery.dropoff_time for delivery in solution.deliveries}
    observations = []
    for order in instance.orders:
        if order.id not in observer.inputs:
            continue
        seen_at, inputs = observer.inputs[order.id]
        observations.append(
            Observation(
                instance=instance.name,
                order_id=order.id,
                seen_at=seen_at,
                ready_at=order.ready_at,
                ride_minutes=inputs.ride_minutes,
                inputs=inputs,
                delivered_at=delivered.get(order.id),
                planned_minutes=observer.planned.get(order.id),
            )
        )
    return observations


# --- Fitting -------------------------------------------------------------------------------------


def fit_quantile(
    rows: Sequence[Sequence[float]], targets: Sequence[float], quantile: float, iterations: int = 80
) -> tuple[float, ...]:
    """Coefficients minimising the pinball loss at `quantile` (IRLS: weighted least squares whose
    weights are the loss's slope over each residual, floored so a point on the line cannot dominate)."""
    width = len(rows[0])
    weights = [1.0] * len(rows)
    coefficients: tuple[float, ...] = (0.0,) * width
    for _ in range(iterations):
        coefficients = _weighted_least_squares(rows, targets, weights)
        weights = []
        for row, target in zip(rows, targets, strict=True):
            residual = target - sum(c * x for c, x in zip(coefficients, row, strict=True))
            slope = quantile if residual > 0 else 1 - quantile
            weights.append(slope / max(abs(residual), 0.05))
    return coefficients


def _weighted_least_squares(
    rows: Sequence[Sequence[float]], targets: Sequence[float], weights: Sequence[float]
) -> tuple[float, ...]:
    width = len(rows[0])
    gram = [[0.0] * width for _ in range(width)]
    moment = [0.0] * width
    for row, target, weight in zip(rows, targets, weights, strict=True):
        for i in range(width):
            scaled = weight * row[i]
            moment[i] += scaled * target
            gram_row = gram[i]
            for j in range(i, width):
                gram_row[j] += scaled * row[j]
    for i in range(width):
        gram[i][i] += 1e-6 * (1 + gram[i][i])  # a touch of ridge keeps near-collinear inputs solvable
        for j in range(i):
            gram[i][j] = gram[j][i]
    return _solve(gram, moment)


def _solve(matrix: list[list[float]], vector: list[float]) -> tuple[float, ...]:
    """Gaussian elimination with partial pivoting."""
    size = len(vector)
    augmented = [[*row, value] for row, value in zip(matrix, vector, strict=True)]
    for column in range(size):
        pivot = max(range(column, size), key=lambda r: abs(augmented[r][column]))
        augmented[column], augmented[pivot] = augmented[pivot], augmented[column]
        for r in range(column + 1, size):
            factor = augmented[r][column] / augmented[column][column]
            for c in range(column, size + 1):
                augmented[r][c] -= factor * augmented[column][c]
    solution = [0.0] * size
    for r in range(size - 1, -1, -1):
        tail = sum(augmented[r][c] * solution[c] for c in range(r + 1, size))
        solution[r] = (augmented[r][size] - tail) / augmented[r][r]
    return tuple(solution)


def fit(observations: Sequence[Observation], quantile: float) -> PromiseModel:
    """The promise model fitted on the delivered orders among `observations`."""
    delivered = [o for o in observations if o.delivered_at is not None]
    rows = [features(o.inputs) for o in delivered]
    targets = [o.delivered_at - o.seen_at for o in delivered if o.delivered_at is not None]
    return PromiseModel(
        coefficients=fit_quantile(rows, targets, quantile),
        quantile=quantile,
        assigned_margin=ASSIGNED_MARGIN,
        pickup_margin=PICKUP_MARGIN,
    )


# --- Measuring -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Measure:
    orders: int
    delivered: int
    on_time_share: float
    mean_slack: float
    naive_constant: float
    naive_on_time_share: float
    naive_mean_slack: float
    #: The promise updated at assignment (the plan plus its margin): on-time share and mean slack.
    assigned_on_time_share: float
    assigned_mean_slack: float


def promise_at_placement(model: PromiseModel, observation: Observation) -> float:
    return observation.seen_at + model.before_driver(observation.inputs)


def naive_promise(observation: Observation, constant: float) -> float:
    return observation.ready_at + observation.ride_minutes + constant


def calibrate_naive(observations: Sequence[Observation], share: float) -> float:
    """The smallest whole-minute constant whose naive promise has at least `share` of orders on time."""
    needed = math.ceil(share * len(observations) - 1e-9)
    excesses = sorted(
        o.delivered_at - o.ready_at - o.ride_minutes for o in observations if o.delivered_at is not None
    )
    if needed <= 0:
        return 0.0
    if needed > len(excesses):
        raise ValueError(f"no naive constant puts {share:.3f} of the orders on time")
    return float(math.ceil(excesses[needed - 1] - 1e-9))


def measure(model: PromiseModel, observations: Sequence[Observation]) -> Measure:
    """The model's promise at placement beside the naive promise calibrated to the same on-time share."""
    return score(model, observations, [promise_at_placement(model, o) for o in observations])


def cross_validate(observations: Sequence[Observation], quantile: float) -> Measure:
    """`measure` with each instance's promises made by a model fitted on the other instances only."""
    model, promises = held_out_promises(observations, quantile)
    return score(model, observations, promises)


def held_out_promises(
    observations: Sequence[Observation], quantile: float
) -> tuple[PromiseModel, list[float]]:
    """Each observation's promise at placement by a model fitted without its instance (one per
    observation, in order), and the last of those models (for its margins)."""
    names = sorted({o.instance for o in observations})
    if len(names) < 2:
        raise ValueError("cross-validation needs two instances or more")
    promises: dict[tuple[str, str], float] = {}
    for name in names:
        model = fit([o for o in observations if o.instance != name], quantile)
        for o in observations:
            if o.instance == name:
                promises[(o.instance, o.order_id)] = promise_at_placement(model, o)
    return model, [promises[(o.instance, o.order_id)] for o in observations]


def score(model: PromiseModel, observations: Sequence[Observation], promises: Sequence[float]) -> Measure:
    """On-time share and mean slack of the promises at placement (one per observation), of the naive
    promise calibrated to the same share, and of the model's promise at assignment."""
    delivered = [(p, o.delivered_at) for p, o in zip(promises, observations, strict=True)]
    share = _on_time(delivered) / len(observations)
    constant = calibrate_naive(observations, share)
    naive = [(naive_promise(o, constant), o.delivered_at) for o in observations]
    assigned = [
        (o.seen_at + model.after_assignment(o.planned_minutes), o.delivered_at)
        for o in observations
        if o.planned_minutes is not None
    ]
    return Measure(
        orders=len(observations),
        delivered=sum(1 for o in observations if o.delivered_at is not None),
        on_time_share=share,
        mean_slack=_mean_slack(delivered),
        naive_constant=constant,
        naive_on_time_share=_on_time(naive) / len(observations),
        naive_mean_slack=_mean_slack(naive),
        assigned_on_time_share=_on_time(assigned) / len(observations),
        assigned_mean_slack=_mean_slack(assigned),
    )


def _on_time(pairs: Sequence[tuple[float, float | None]]) -> int:
    return sum(1 for promise, at in pairs if at is not None and at <= promise)


def _mean_slack(pairs: Sequence[tuple[float, float | None]]) -> float:
    slacks = [promise - at for promise, at in pairs if at is not None]
    return sum(slacks) / len(slacks) if slacks else 0.0


def observe_all(instances_dir: Path) -> list[Observation]:
    """Observations of every instance directory under `instances_dir`, in name order."""
    observations: list[Observation] = []
    for directory in sorted(path for path in instances_dir.iterdir() if path.is_dir()):
        observations += observe(load_instance(directory))
    return observations


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m research.mdrp.promises")
    commands = parser.add_subparsers(dest="command", required=True)
    fit_parser = commands.add_parser("fit", help="fit the promise model on every instance and store it")
    fit_parser.add_argument("instances_dir", type=Path)
    fit_parser.add_argument("--quantile", type=float, default=0.9)
    fit_parser.add_argument("--out", type=Path, default=MODEL_PATH)
    measure_parser = commands.add_parser("measure", help="measure a stored model on every instance")
    measure_parser.add_argument("instances_dir", type=Path)
    measure_parser.add_argument("--model", type=Path, default=MODEL_PATH)
    args = parser.parse_args(argv)
    observations = observe_all(args.instances_dir)
    if args.command == "fit":
        model = fit(observations, args.quantile)
        args.out.write_text(json.dumps(model.to_json(), indent=2) + "\n")
        print(f"fitted on {len(observations)} orders: {dict(zip(FEATURES, model.coefficients, strict=True))}")
    else:
        model = PromiseModel.from_json(json.loads(args.model.read_text()))
        print(measure(model, observations))
    return 0


if __name__ == "__main__":
    sys.exit(main())
