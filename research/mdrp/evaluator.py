"""An independent checker of MDRP solutions, with the metrics it reports.

    python -m research.mdrp.evaluator INSTANCE_DIR SOLUTION_DIR [--json]

It applies every check of the library's own evaluator, reading the files the way that evaluator reads
them (`library_checks`), and the stricter timing rules of the README on top. It reads the instance and
solution files itself and shares no code with the replay, so a replay bug shows up here as a violation.
The exit status is 1 when the solution breaks any rule.
"""

import argparse
import json
import math
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from research.mdrp.evaluation_files import (
    AssignmentLine,
    Instance,
    MoveLine,
    OrderLine,
    read_instance,
    read_solution,
)
from research.mdrp.evaluation_metrics import Metrics, lower_bound_click_to_door, measure
from research.mdrp.library_checks import library_violations
from research.mdrp.solve import run  # the replay only produces the greedy baseline, never checks

TOLERANCE = 1e-6


@dataclass
class Evaluation:
    violations: list[str] = field(default_factory=list)  # the library's and the README's, together
    library_violations: list[str] = field(default_factory=list)  # those the library's evaluator finds
    metrics: Metrics | None = None

    @property
    def feasible(self) -> bool:
        return not self.violations


def evaluate(instance_dir: Path, solution_dir: Path) -> Evaluation:
    """Every rule violation of the solution, and its metrics."""
    instance = read_instance(instance_dir)
    assignments, order_lines, moves = read_solution(solution_dir)
    evaluation = Evaluation(library_violations=library_violations(instance, assignments, order_lines, moves))
    violations = evaluation.violations
    violations.extend(f"library: {violation}" for violation in evaluation.library_violations)
    _check_assignments(instance, assignments, violations)
    _check_order_lines(instance, assignments, order_lines, violations)
    driving = _check_routes(instance, assignments, order_lines, moves, violations)
    evaluation.metrics = measure(
        instance, order_lines, assignments_count=len(assignments), driving_minutes=driving
    )
    return evaluation


def _check_assignments(instance: Instance, assignments: list[AssignmentLine], violations: list[str]) -> None:
    seen: set[str] = set()
    for line in assignments:
        label = f"assignment of {' '.join(line.orders)} to {line.courier} at {line.assignment_time:g}"
        courier = instance.couriers.get(line.courier)
        if courier is None:
            violations.append(f"{label}: unknown courier")
            continue
        if not line.orders:
            violations.append(f"{label}: no orders")
            continue
        unknown = [order for order in line.orders if order not in instance.orders]
        if unknown:
            violations.append(f"{label}: unknown orders {unknown}")
            continue
        for order_id in line.orders:
            if order_id in seen:
                violations.append(f"{label}: order {order_id} assigned more than once")
            seen.add(order_id)
            order = instance.orders[order_id]
            if line.assignment_time < float(order["placement_time"]) - TOLERANCE:
                violations.append(f"{label}: made before order {order_id} was placed")
            if line.pickup_time < float(order["ready_time"]) - TOLERANCE:
                violations.append(f"{label}: pickup at {line.pickup_time:g} before {order_id} is ready")
        if len({instance.orders[order_id]["restaurant"] for order_id in line.orders}) != 1:
            violations.append(f"{label}: bundles orders of several restaurants")
        if line.assignment_time < courier["on_time"] - TOLERANCE:
            violations.append(f"{label}: courier not on shift yet")
        if line.pickup_time > courier["off_time"] + TOLERANCE:
            violations.append(f"{label}: pickup at {line.pickup_time:g} after the courier's off time")


def _check_order_lines(
    instance: Instance, assignments: list[AssignmentLine], order_lines: list[OrderLine], violations: list[str]
) -> None:
    assigned = {order_id: line for line in assignments for order_id in line.orders}
    listed: set[str] = set()
    for line in order_lines:
        order = instance.orders.get(line.order)
        assignment = assigned.get(line.order)
        if order is None or assignment is None:
            violations.append(f"order line {line.order}: not an assigned order of the instance")
            continue
        if line.order in listed:
            violations.append(f"order line {line.order}: listed twice")
        listed.add(line.order)
        if not _same(line.placement_time, float(order["placement_time"])) or not _same(
            line.ready_time, float(order["ready_time"])
        ):
            violations.append(f"order line {line.order}: placement or ready time differs from the instance")
        if line.courier != assignment.courier or not _same(line.pickup_time, assignment.pickup_time):
            violations.append(f"order line {line.order}: courier or pickup differs from its assignment")
    for order_id in assigned.keys() - listed:
        violations.append(f"order {order_id}: assigned but missing from the orders file")


def _check_routes(
    instance: Instance,
    assignments: list[AssignmentLine],
    order_lines: list[OrderLine],
    moves_of: dict[str, list[MoveLine]],
    violations: list[str],
) -> float:
    """Walk each courier's block of moves against its assignments; returns the total driving minutes."""
    dropoff_of = {line.order: line.dropoff_time for line in order_lines}
    assignments_of: dict[str, list[AssignmentLine]] = defaultdict(list)
    for line in assignments:
        if (
            line.courier in instance.couriers
            and line.orders
            and all(o in instance.orders for o in line.orders)
        ):
            assignments_of[line.courier].append(line)
    for courier_id in moves_of.keys() - assignments_of.keys():
        violations.append(f"courier {courier_id}: moves without any assignment")
    driving = 0.0
    for courier_id, courier_assignments in assignments_of.items():
        route = sorted(courier_assignments, key=lambda line: (line.pickup_time, line.assignment_time))
        courier_moves = moves_of.get(courier_id, [])
        stops = [
            stop
            for line in route
            for stop in (str(instance.orders[line.orders[0]]["restaurant"]), *line.orders)
        ]
        if [move.destination for move in courier_moves] != stops:
            violations.append(f"courier {courier_id}: moves do not follow its assignments, in order, whole")
            continue
        driving += _walk_courier(instance, courier_id, route, iter(courier_moves), dropoff_of, violations)
    return driving


def _walk_courier(
    instance: Instance,
    courier_id: str,
    route: list[AssignmentLine],
    moves: Iterator[MoveLine],
    dropoff_of: dict[str, float],
    violations: list[str],
) -> float:
    """Check one courier's timing stop by stop (its moves match its stops); returns its driving minutes."""
    courier = instance.couriers[courier_id]
    location, point, free_at = "0", (courier["x"], courier["y"]), courier["on_time"]
    driving = 0.0
    for line in route:
        move = next(moves)
        label = f"courier {courier_id} to {move.destination} at {move.departure_time:g}"
        restaurant = instance.restaurants[move.destination]
        if move.origin != location:
            violations.append(f"{label}: leaves from {move.origin}, but the courier is at {location}")
        if move.departure_time < max(free_at, line.assignment_time) - TOLERANCE:
            violations.append(f"{label}: leaves before being free ({free_at:g}) and assigned")
        travel = instance.travel(point, restaurant)
        driving += travel
        arrival = move.departure_time + travel
        if line.pickup_time < arrival + instance.pickup_service / 2 - TOLERANCE:
            violations.append(
                f"{label}: pickup at {line.pickup_time:g} before arrival {arrival:g} + half service"
            )
        leave_at = line.pickup_time + instance.pickup_service / 2
        location, point = move.destination, restaurant
        for order_id in line.orders:
            move = next(moves)
            label = f"courier {courier_id} to {order_id} at {move.departure_time:g}"
            if move.origin != location or not _same(move.departure_time, leave_at):
                violations.append(f"{label}: should leave {location} at {leave_at:g} (half a service after)")
            order = instance.orders[order_id]
            dropoff_point = (float(order["x"]), float(order["y"]))
            travel = instance.travel(point, dropoff_point)
            driving += travel
            arrival = move.departure_time + travel
            dropoff = dropoff_of.get(order_id, math.nan)
            if not _same(dropoff, arrival + instance.dropoff_service / 2):
                violations.append(
                    f"{label}: drop-off at {dropoff:g} is not arrival {arrival:g} + half service"
                )
            leave_at = dropoff + instance.dropoff_service / 2
            location, point = order_id, dropoff_point
        free_at = leave_at
    return driving


def _same(first: float, second: float) -> bool:
    return abs(first - second) <= TOLERANCE


def greedy_evaluation(instance_dir: Path) -> Evaluation:
    """The greedy baseline's solution for the instance, evaluated by the same rules."""
    with tempfile.TemporaryDirectory() as directory:
        run(instance_dir, Path(directory), dispatcher="greedy")
        return evaluate(instance_dir, Path(directory))


def report(instance_dir: Path, solution_dir: Path) -> dict[str, object]:
    """The solution's violations and metrics beside the greedy baseline's and the lower bound."""
    evaluation = evaluate(instance_dir, solution_dir)
    greedy = greedy_evaluation(instance_dir)
    return {
        "feasible": evaluation.feasible,
        "library_feasible": not evaluation.library_violations,
        "violations": evaluation.violations,
        "solution": asdict(evaluation.metrics) if evaluation.metrics else None,
        "greedy": asdict(greedy.metrics) if greedy.metrics else None,
        "greedy_feasible": greedy.feasible,
        "lower_bound_click_to_door_mean": lower_bound_click_to_door(read_instance(instance_dir)),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m research.mdrp.evaluator")
    parser.add_argument("instance_dir", type=Path)
    parser.add_argument("solution_dir", type=Path)
    parser.add_argument("--json", action="store_true", help="print the whole report as JSON")
    args = parser.parse_args(argv)
    result = report(args.instance_dir, args.solution_dir)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print_report(result)
    return 0 if result["feasible"] else 1


def _print_report(result: dict[str, object]) -> None:
    violations = result["violations"]
    assert isinstance(violations, list)
    print(
        f"feasible: {result['feasible']} ({len(violations)} violations); "
        f"by the library's checks: {result['library_feasible']}"
    )
    for violation in violations[:20]:
        print(f"  {violation}")
    solution, greedy = result["solution"], result["greedy"]
    assert isinstance(solution, dict) and isinstance(greedy, dict)
    print(f"{'metric':34} {'solution':>10} {'greedy':>10}")
    for key in solution:
        print(f"{key:34} {solution[key]:>10.2f} {greedy[key]:>10.2f}")
    print(f"lower bound click-to-door mean: {result['lower_bound_click_to_door_mean']:.2f}")


if __name__ == "__main__":
    sys.exit(main())
