"""Reading MDRP instance and solution files for the evaluator, independently of the replay's loader."""

import math
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Instance:
    restaurants: dict[str, tuple[float, float]]
    orders: dict[str, dict[str, float | str]]  # x, y, placement_time, restaurant, ready_time
    couriers: dict[str, dict[str, float]]  # x, y, on_time, off_time
    parameters: list[float]

    @property
    def metres_per_minute(self) -> float:
        return self.parameters[0]

    @property
    def pickup_service(self) -> float:
        return self.parameters[1]

    @property
    def dropoff_service(self) -> float:
        return self.parameters[2]

    def travel(self, origin: tuple[float, float], destination: tuple[float, float]) -> float:
        return float(math.ceil(math.dist(origin, destination) / self.metres_per_minute))


@dataclass(frozen=True, slots=True)
class AssignmentLine:
    assignment_time: float
    pickup_time: float
    courier: str
    orders: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OrderLine:
    order: str
    placement_time: float
    ready_time: float
    pickup_time: float
    dropoff_time: float
    courier: str


@dataclass(frozen=True, slots=True)
class MoveLine:
    courier: str
    departure_time: float
    origin: str
    destination: str


def read_instance(directory: Path) -> Instance:
    """The instance files parsed into dictionaries keyed by id."""
    restaurants = {row[0]: (float(row[1]), float(row[2])) for row in _table(directory / "restaurants.txt")}
    orders: dict[str, dict[str, float | str]] = {
        row[0]: {
            "x": float(row[1]),
            "y": float(row[2]),
            "placement_time": float(row[3]),
            "restaurant": row[4],
            "ready_time": float(row[5]),
        }
        for row in _table(directory / "orders.txt")
    }
    couriers = {
        row[0]: {"x": float(row[1]), "y": float(row[2]), "on_time": float(row[3]), "off_time": float(row[4])}
        for row in _table(directory / "couriers.txt")
    }
    parameters = [float(value) for value in _table(directory / "instance_parameters.txt")[0]]
    return Instance(restaurants, orders, couriers, parameters)


def read_solution(
    directory: Path,
) -> tuple[list[AssignmentLine], list[OrderLine], dict[str, list[MoveLine]]]:
    """The three solution files as lines, the moves as the library's evaluator reads them: by courier block.

    A block is a run of consecutive lines of one courier. A courier whose lines come back after another
    courier's starts a new block that replaces its earlier one, except on the file's last block, which
    is kept only if the courier had none before. The couriers file's first line is data, not a header,
    when its second field is a number.
    """
    assignments = [
        AssignmentLine(_number(row[0]), _number(row[1]), row[2], tuple(row[3:]))
        for row in _table(directory / "solution_info_assignments.txt")
    ]
    orders = [
        OrderLine(row[0], _number(row[1]), _number(row[2]), _number(row[3]), _number(row[4]), row[5])
        for row in _table(directory / "solution_info_orders.txt")
    ]
    return assignments, orders, _courier_blocks(directory / "solution_info_couriers.txt")


def _courier_blocks(path: Path) -> dict[str, list[MoveLine]]:
    lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
    if lines and math.isnan(_number(lines[0][1] if len(lines[0]) > 1 else "")):
        lines = lines[1:]
    blocks: dict[str, list[MoveLine]] = {}
    courier: str | None = None
    moves: list[MoveLine] = []
    for row in lines:
        if row[0] != courier:
            if courier is not None:
                blocks[courier] = moves
            courier, moves = row[0], []
        moves.append(MoveLine(row[0], _number(row[1]), row[2], row[3]))
    if courier is not None and courier not in blocks:
        blocks[courier] = moves
    return blocks


def _number(text: str) -> float:
    """The value of a numeric field, NaN when it is not a number (the library coerces the same way)."""
    try:
        return float(text)
    except ValueError:
        return math.nan


def _table(path: Path) -> list[list[str]]:
    """The data rows of a whitespace-separated file with a header line."""
    with path.open() as handle:
        return [line.split() for line in handle.read().splitlines()[1:] if line.strip()]
