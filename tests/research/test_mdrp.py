"""Replaying a small MDRP instance; the independent evaluator accepts it and catches broken solutions."""

import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from drivers.dispatch.entities import DispatchParams
from drivers.dispatch.geometry import EuclideanTravel
from research.mdrp import evaluator, solve
from research.mdrp.instance import load_instance

PARAMETERS = "320\t4\t4\t40\t90\t10\t15"  # metres per minute, services, target, maximum, pay


@pytest.fixture
def instance_dir(tmp_path: Path) -> Path:
    """Four restaurants, 30 orders over two hours, eight couriers, on a 4 km square."""
    rng = random.Random(7)
    directory = tmp_path / "instance"
    directory.mkdir()
    restaurants = [(f"r{n}", rng.randrange(4000), rng.randrange(4000)) for n in range(4)]
    orders = []
    for n in range(30):
        placed = rng.randrange(0, 120)
        restaurant = rng.choice(restaurants)[0]
        orders.append(
            (
                f"o{n}",
                rng.randrange(4000),
                rng.randrange(4000),
                placed,
                restaurant,
                placed + rng.randrange(5, 20),
            )
        )
    couriers = [(f"c{n}", rng.randrange(4000), rng.randrange(4000), 0, 180) for n in range(8)]
    _write(directory / "restaurants.txt", "restaurant\tx\ty", restaurants)
    _write(directory / "orders.txt", "order\tx\ty\tplacement_time\trestaurant\tready_time", orders)
    _write(directory / "couriers.txt", "courier\tx\ty\ton_time\toff_time", couriers)
    (directory / "instance_parameters.txt").write_text(
        "meters_per_minute\tpickup service minutes\tdropoff service minutes\ttarget click-to-door\t"
        f"maximum click-to-door\tpay per order\tguaranteed pay per hour\n{PARAMETERS}\n"
    )
    return directory


@pytest.fixture
def solution_dir(instance_dir: Path, tmp_path: Path) -> Path:
    directory = tmp_path / "solution"
    assert solve.main(["run", str(instance_dir), "--out", str(directory)]) == 0
    return directory


def test_policy_replay_delivers_every_order_and_the_evaluator_finds_it_feasible(
    instance_dir: Path, solution_dir: Path
) -> None:
    evaluation = evaluator.evaluate(instance_dir, solution_dir)

    assert evaluation.violations == []
    assert evaluation.library_violations == []
    assert evaluation.metrics is not None
    assert evaluation.metrics.delivered == 30
    assert evaluation.metrics.click_to_door_mean >= evaluation.metrics.lower_bound_mean_of_delivered
    assert evaluator.main([str(instance_dir), str(solution_dir)]) == 0


def test_greedy_baseline_is_feasible_and_no_better_than_the_lower_bound(instance_dir: Path) -> None:
    greedy = evaluator.greedy_evaluation(instance_dir)

    assert greedy.violations == []
    assert greedy.metrics is not None
    assert greedy.metrics.click_to_door_mean >= greedy.metrics.lower_bound_mean_of_delivered


def test_solution_files_follow_the_readme_format(solution_dir: Path) -> None:
    assignments = (solution_dir / "solution_info_assignments.txt").read_text().splitlines()
    orders = (solution_dir / "solution_info_orders.txt").read_text().splitlines()
    moves = (solution_dir / "solution_info_couriers.txt").read_text().splitlines()

    assert orders[0] == "order placement_time ready_time pickup_time dropoff_time courier"
    assert len(orders) == 31
    assert all(len(line.split()) >= 4 for line in assignments[1:])
    assert all(len(line.split()) == 4 for line in moves[1:])
    first_moves = {}
    for line in moves[1:]:
        courier, _, origin, _ = line.split()
        first_moves.setdefault(courier, origin)
    assert set(first_moves.values()) == {"0"}
    # Each courier's moves are one consecutive block, in time order, each leaving where the last arrived.
    couriers = [line.split()[0] for line in moves[1:]]
    blocks = [
        courier for index, courier in enumerate(couriers) if index == 0 or couriers[index - 1] != courier
    ]
    assert len(blocks) == len(set(couriers)) > 1
    for courier in set(couriers):
        block = [line.split() for line in moves[1:] if line.split()[0] == courier]
        assert [float(row[1]) for row in block] == sorted(float(row[1]) for row in block)
        assert [row[2] for row in block[1:]] == [row[3] for row in block[:-1]]


def test_evaluator_rejects_an_order_assigned_twice(instance_dir: Path, solution_dir: Path) -> None:
    path = solution_dir / "solution_info_assignments.txt"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, lines[1]]) + "\n")

    assert _violations_mentioning(instance_dir, solution_dir, "more than once")
    assert evaluator.main([str(instance_dir), str(solution_dir)]) == 1


def test_evaluator_rejects_a_pickup_before_the_food_is_ready(instance_dir: Path, solution_dir: Path) -> None:
    _edit_first(solution_dir / "solution_info_assignments.txt", column=1, change=lambda row: "-100")

    assert _violations_mentioning(instance_dir, solution_dir, "is ready")
    assert evaluator.main([str(instance_dir), str(solution_dir)]) == 1


def test_evaluator_rejects_an_assignment_made_before_placement(
    instance_dir: Path, solution_dir: Path
) -> None:
    _edit_first(solution_dir / "solution_info_assignments.txt", column=0, change=lambda row: "-1")

    assert _violations_mentioning(instance_dir, solution_dir, "before order")
    assert evaluator.main([str(instance_dir), str(solution_dir)]) == 1


def test_evaluator_rejects_a_drop_off_that_ignores_the_travel_time(
    instance_dir: Path, solution_dir: Path
) -> None:
    _edit_first(
        solution_dir / "solution_info_orders.txt", column=4, change=lambda row: str(float(row[4]) - 1)
    )

    assert _violations_mentioning(instance_dir, solution_dir, "is not arrival")
    assert evaluator.main([str(instance_dir), str(solution_dir)]) == 1


def _violations_mentioning(instance_dir: Path, solution_dir: Path, text: str) -> list[str]:
    return [v for v in evaluator.evaluate(instance_dir, solution_dir).violations if text in v]


def _edit_first(path: Path, *, column: int, change: Callable[[list[str]], str]) -> None:
    header, first, *rest = path.read_text().splitlines()
    row = first.split()
    row[column] = change(row)
    path.write_text("\n".join([header, " ".join(row), *rest]) + "\n")


def _write(path: Path, header: str, rows: list[tuple[object, ...]]) -> None:
    path.write_text("\n".join([header, *("\t".join(str(value) for value in row) for row in rows)]) + "\n")


def test_the_guarded_solution_never_trails_greedy(instance_dir: Path) -> None:
    instance = load_instance(instance_dir)
    greedy = solve.solve(instance, "greedy")

    kept = solve.solve(instance)

    assert len(kept.deliveries) >= len(greedy.deliveries)
    assert kept.click_to_door_mean() <= greedy.click_to_door_mean()


def test_a_policy_behind_greedy_gives_way_to_greedys_solution(instance_dir: Path, tmp_path: Path) -> None:
    instance = load_instance(instance_dir)
    # Leaving an order unmatched costs nothing: this policy never assigns anything.
    idle = DispatchParams(
        travel=EuclideanTravel(320), unmatched_order_cost=-1000.0, deferrable_order_cost=-1000.0
    )
    assert solve.solve(instance, "policy", idle).deliveries == []

    kept = solve.solve(instance, tuning=idle)

    assert kept.dispatcher == "greedy"
    assert len(kept.deliveries) == 30
    solve.write_solution(kept, tmp_path / "kept")
    assert evaluator.evaluate(instance_dir, tmp_path / "kept").violations == []


def test_greedys_solution_is_kept_only_when_it_is_faster_on_average(instance_dir: Path) -> None:
    greedy = solve.solve(load_instance(instance_dir), "greedy")
    slower = replace(
        greedy, deliveries=[replace(d, dropoff_time=d.dropoff_time + 1) for d in greedy.deliveries]
    )
    faster = replace(
        greedy, deliveries=[replace(d, dropoff_time=d.dropoff_time - 1) for d in greedy.deliveries]
    )
    fewer = replace(faster, deliveries=faster.deliveries[1:])

    assert solve.guarded(slower, greedy) is greedy
    assert solve.guarded(fewer, greedy) is greedy
    assert solve.guarded(faster, greedy) is faster
    assert solve.guarded(greedy, greedy) is greedy
