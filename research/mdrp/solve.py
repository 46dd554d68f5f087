"""Replay an MDRP instance and write the README's solution files.

python -m research.mdrp.solve run INSTANCE_DIR --out DIR [--dispatcher guarded|policy|greedy]

`guarded` (the default) replays the instance through both the policy and the greedy baseline and keeps
the policy's solution unless greedy's delivers more orders or has a lower mean click-to-door; each of
the two is a complete, rule-abiding replay, so the kept one never trails greedy on either count.
"""

import argparse
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from drivers.dispatch.entities import DispatchParams
from drivers.dispatch.geometry import EuclideanTravel
from drivers.dispatch.policy import plan_round
from research.mdrp.greedy import greedy_round
from research.mdrp.instance import MdrpInstance, load_instance
from research.mdrp.replay import Dispatcher, Move, Solution, replay

DISPATCHERS: dict[str, Dispatcher] = {"policy": plan_round, "greedy": greedy_round}
GUARDED = "guarded"
CHOICES = (GUARDED, *DISPATCHERS)


def instance_params(instance: MdrpInstance, tuning: DispatchParams | None = None) -> DispatchParams:
    """The policy parameters for an instance: its travel speed and service times over the given tuning."""
    base = tuning or DispatchParams(travel=EuclideanTravel(instance.parameters.metres_per_minute))
    return replace(
        base,
        travel=EuclideanTravel(instance.parameters.metres_per_minute),
        pickup_service=instance.parameters.pickup_service,
        dropoff_service=instance.parameters.dropoff_service,
    )


def solve(
    instance: MdrpInstance, dispatcher: str = GUARDED, tuning: DispatchParams | None = None
) -> Solution:
    """The solution of a dispatcher ("guarded", "policy" or "greedy") on an instance."""
    if dispatcher == GUARDED:
        return guarded(solve(instance, "policy", tuning), solve(instance, "greedy", tuning))
    params = instance_params(instance, tuning)
    solution = replay(instance, DISPATCHERS[dispatcher], params, round_interval=params.round_interval)
    solution.dispatcher = dispatcher
    return solution


def guarded(policy: Solution, greedy: Solution) -> Solution:
    """The policy's solution unless greedy's, on the same instance, delivers more or faster on average."""
    behind = len(policy.deliveries) < len(greedy.deliveries) or (
        policy.click_to_door_mean() > greedy.click_to_door_mean()
    )
    return greedy if behind else policy


def write_solution(solution: Solution, directory: Path) -> None:
    """Write the three solution files in the README's space-separated format (assigned orders only)."""
    directory.mkdir(parents=True, exist_ok=True)
    _write(
        directory / "solution_info_assignments.txt",
        "assignment_time pickup_time courier orders",
        (
            [_minutes(a.assignment_time), _minutes(a.pickup_time), a.courier_id, *a.order_ids]
            for a in solution.assignments
        ),
    )
    _write(
        directory / "solution_info_orders.txt",
        "order placement_time ready_time pickup_time dropoff_time courier",
        (
            [
                d.order.id,
                _minutes(d.order.placed_at),
                _minutes(d.order.ready_at),
                _minutes(d.pickup_time),
                _minutes(d.dropoff_time),
                d.courier_id,
            ]
            for d in sorted(solution.deliveries, key=lambda d: (d.order.placed_at, d.order.id))
        ),
    )
    _write(
        directory / "solution_info_couriers.txt",
        "courier departure_time origin destination",
        (
            [m.courier_id, _minutes(m.departure_time), m.origin, m.destination]
            for m in grouped_by_courier(solution.moves)
        ),
    )


def grouped_by_courier(moves: Sequence[Move]) -> list[Move]:
    """The moves with each courier's as one consecutive block in time order, couriers by first move.

    The library's evaluator reads the couriers file block by block: a courier that reappears after
    another courier's lines would start a new block replacing its earlier moves.
    """
    first_seen: dict[str, int] = {}
    for move in moves:
        first_seen.setdefault(move.courier_id, len(first_seen))
    return sorted(moves, key=lambda move: (first_seen[move.courier_id], move.departure_time))


def run(instance_dir: Path, out_dir: Path, dispatcher: str = GUARDED) -> Solution:
    """Load, replay and write one instance's solution."""
    solution = solve(load_instance(instance_dir), dispatcher)
    write_solution(solution, out_dir)
    return solution


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m research.mdrp.solve")
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="replay an instance and write the solution files")
    run_parser.add_argument("instance_dir", type=Path)
    run_parser.add_argument("--out", type=Path, required=True)
    run_parser.add_argument("--dispatcher", choices=CHOICES, default=GUARDED)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    solution = run(args.instance_dir, args.out, args.dispatcher)
    print(
        f"{args.instance_dir.name}: {len(solution.deliveries)} orders delivered by {args.dispatcher} "
        f"({solution.dispatcher}'s solution) "
        f"in {time.perf_counter() - started:.1f} s; solution in {args.out}"
    )
    return 0


def _write(path: Path, header: str, rows: Iterable[list[str]]) -> None:
    with path.open("w") as handle:
        handle.write(header + "\n")
        for row in rows:
            handle.write(" ".join(row) + "\n")


def _minutes(value: float) -> str:
    """Integral minutes without a decimal point, others to three decimals."""
    return str(int(value)) if value == int(value) else f"{value:.3f}"


if __name__ == "__main__":
    sys.exit(main())
