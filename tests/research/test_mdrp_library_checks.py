"""The evaluator applies the library's checks as the library's evaluator reads the files: hand-made
solutions, one correct and each of the others broken in one way that evaluator rejects."""

from pathlib import Path

import pytest

from research.mdrp import evaluator, library_checks
from research.mdrp.evaluation_files import read_solution

# One restaurant at the origin; 320 m/min, 4-minute services. c1 takes o1 and o2 as a bundle, c2 takes o3.
INSTANCE = {
    "restaurants.txt": ["restaurant\tx\ty", "r1\t0\t0"],
    "orders.txt": [
        "order\tx\ty\tplacement_time\trestaurant\tready_time",
        "o1\t640\t0\t0\tr1\t10",
        "o2\t1280\t0\t2\tr1\t12",
        "o3\t3200\t640\t20\tr1\t30",
    ],
    "couriers.txt": ["courier\tx\ty\ton_time\toff_time", "c1\t0\t960\t0\t100", "c2\t3200\t0\t0\t100"],
    "instance_parameters.txt": [
        "meters_per_minute\tpickup service minutes\tdropoff service minutes\ttarget click-to-door\t"
        "maximum click-to-door\tpay per order\tguaranteed pay per hour",
        "320\t4\t4\t40\t90\t10\t15",
    ],
}
ASSIGNMENTS = ["assignment_time pickup_time courier orders", "2 12 c1 o1 o2", "20 32 c2 o3"]
ORDERS = [
    "order placement_time ready_time pickup_time dropoff_time courier",
    "o1 0 10 12 18 c1",
    "o2 2 12 12 24 c1",
    "o3 20 30 32 47 c2",
]
MOVES = [
    "courier departure_time origin destination",
    "c1 2 0 r1",
    "c1 14 r1 o1",
    "c1 20 o1 o2",
    "c2 20 0 r1",
    "c2 34 r1 o3",
]


@pytest.fixture
def instance_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "instance"
    directory.mkdir()
    for name, lines in INSTANCE.items():
        (directory / name).write_text("\n".join(lines) + "\n")
    return directory


def _solution(
    tmp_path: Path,
    assignments: list[str] = ASSIGNMENTS,
    orders: list[str] = ORDERS,
    moves: list[str] = MOVES,
) -> Path:
    directory = tmp_path / "solution"
    directory.mkdir()
    for name, lines in (
        ("solution_info_assignments.txt", assignments),
        ("solution_info_orders.txt", orders),
        ("solution_info_couriers.txt", moves),
    ):
        (directory / name).write_text("\n".join(lines) + "\n")
    return directory


def _headings(instance_dir: Path, solution_dir: Path) -> set[str]:
    evaluation = evaluator.evaluate(instance_dir, solution_dir)
    headings = {violation.split(":")[0] for violation in evaluation.library_violations}
    assert not evaluation.feasible
    assert all(f"library: {v}" in evaluation.violations for v in evaluation.library_violations)
    return headings


def test_the_hand_made_solution_is_feasible(instance_dir: Path, tmp_path: Path) -> None:
    evaluation = evaluator.evaluate(instance_dir, _solution(tmp_path))

    assert evaluation.violations == []
    assert evaluation.metrics is not None
    assert evaluation.metrics.delivered == 3
    assert evaluation.metrics.click_to_door_mean == pytest.approx((18 + 22 + 27) / 3)


def test_interleaved_couriers_are_read_block_by_block_and_rejected(
    instance_dir: Path, tmp_path: Path
) -> None:
    # c2's first move between c1's: c1's second block replaces its first, c2's last block is dropped.
    moves = [MOVES[0], MOVES[1], MOVES[2], MOVES[4], MOVES[3], MOVES[5]]

    assert _headings(instance_dir, _solution(tmp_path, moves=moves)) == {
        library_checks.DISCONTINUITY,
        library_checks.DROPOFF_PLACE,
        library_checks.PICKUP_PLACE,
    }


def test_blocks_as_the_library_reads_them(tmp_path: Path) -> None:
    moves = [MOVES[0], MOVES[1], MOVES[4], MOVES[2], MOVES[3], MOVES[5], MOVES[1]]

    _, _, blocks = read_solution(_solution(tmp_path, moves=moves))

    # A later block replaces a courier's earlier one, but the file's last block is dropped when its
    # courier had one before.
    assert [move.destination for move in blocks["c1"]] == ["o1", "o2"]
    assert [move.destination for move in blocks["c2"]] == ["o3"]


def test_a_couriers_file_without_a_header_keeps_its_first_line(tmp_path: Path) -> None:
    _, _, blocks = read_solution(_solution(tmp_path, moves=MOVES[1:]))

    assert [move.destination for move in blocks["c1"]] == ["r1", "o1", "o2"]


@pytest.mark.parametrize(
    ("broken", "heading"),
    [
        # A move that does not leave from where the courier is.
        ({"moves": [*MOVES[:3], "c1 20 r1 o2", *MOVES[4:]]}, library_checks.DISCONTINUITY),
        # The first move leaves from somewhere other than the on-location.
        ({"moves": [MOVES[0], "c1 2 o3 r1", *MOVES[2:]]}, library_checks.DISCONTINUITY),
        # Leaving o1 before arriving there (arrival at 16).
        ({"moves": [*MOVES[:3], "c1 15 o1 o2", *MOVES[4:]]}, library_checks.DEPARTURE_BEFORE_ARRIVAL),
        # Leaving before the shift starts.
        (
            {"moves": [*MOVES[:4], "c2 -5 0 r1", *MOVES[5:]]},
            library_checks.DEPARTURE_BEFORE_ARRIVAL,
        ),
        # A drop-off recorded after the courier has left the customer (it leaves o1 at 20).
        ({"orders": [ORDERS[0], "o1 0 10 12 21 c1", *ORDERS[2:]]}, library_checks.DROPOFF_PLACE),
        # A drop-off recorded at the moment of arrival, before the half service (arrival at o2 is 22).
        ({"orders": [*ORDERS[:2], "o2 2 12 12 22 c1", ORDERS[3]]}, library_checks.DROPOFF_PLACE),
        # Drop-offs of a bundle less than a drop-off service apart.
        (
            {"orders": [ORDERS[0], "o1 0 10 12 21 c1", "o2 2 12 12 24 c1", ORDERS[3]]},
            library_checks.DROPOFF_SEQUENCE,
        ),
        # A pickup before the courier is at the restaurant (c2 arrives at 30).
        ({"assignments": [*ASSIGNMENTS[:2], "20 30 c2 o3"]}, library_checks.PICKUP_PLACE),
        # A pickup before the food is ready.
        ({"assignments": [ASSIGNMENTS[0], "2 11 c1 o1 o2", ASSIGNMENTS[2]]}, library_checks.BEFORE_READY),
        # An assignment made before an order in it was placed (o2 at 2).
        ({"assignments": [ASSIGNMENTS[0], "1 12 c1 o1 o2", ASSIGNMENTS[2]]}, library_checks.BEFORE_PLACEMENT),
        # An order in two assignments.
        ({"assignments": [*ASSIGNMENTS, "20 32 c2 o3"]}, library_checks.SEVERAL_ASSIGNMENTS),
        # A pickup after the courier's off time.
        ({"assignments": [*ASSIGNMENTS[:2], "20 132 c2 o3"]}, library_checks.AFTER_OFF_TIME),
        # A courier with an assignment but no moves at all.
        ({"moves": MOVES[:4]}, library_checks.PICKUP_PLACE),
    ],
)
def test_a_broken_solution_fails_the_check_the_library_fails_it_on(
    instance_dir: Path, tmp_path: Path, broken: dict[str, list[str]], heading: str
) -> None:
    assert heading in _headings(instance_dir, _solution(tmp_path, **broken))


def test_times_are_truncated_to_whole_minutes_as_the_library_reads_them(
    instance_dir: Path, tmp_path: Path
) -> None:
    # 29.9 reads as 29, before c2 arrives at the restaurant at 30.
    assert library_checks.PICKUP_PLACE in _headings(
        instance_dir, _solution(tmp_path, assignments=[*ASSIGNMENTS[:2], "20 29.9 c2 o3"])
    )
