"""Sparse min-cost assignment (successive shortest paths with potentials), stdlib only."""

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field


def min_cost_assignment(
    options: Sequence[Sequence[tuple[int, float]]], unmatched_costs: Sequence[float]
) -> list[int | None]:
    """Give each row at most one distinct column from its options, minimising total cost exactly.

    A row left without a column costs unmatched_costs[row]. Column ids must be non-negative.
    """
    # Row r may always fall back on its own private column -(r + 1), priced at its unmatched cost.
    state = _State(
        edges=[[*row_options, (-(row + 1), unmatched_costs[row])] for row, row_options in enumerate(options)]
    )
    for source in range(len(options)):
        state.augment(source)
    return [
        column if column is not None and column >= 0 else None
        for column in (state.column_of_row.get(row) for row in range(len(options)))
    ]


@dataclass
class _State:
    edges: list[list[tuple[int, float]]]
    row_potential: dict[int, float] = field(default_factory=dict)
    column_potential: dict[int, float] = field(default_factory=dict)
    row_of_column: dict[int, int] = field(default_factory=dict)
    column_of_row: dict[int, int] = field(default_factory=dict)

    def augment(self, source: int) -> None:
        """Match `source` along a shortest augmenting path; reduced costs stay non-negative."""
        column_potential = self.column_potential
        self.row_potential[source] = min(
            cost - column_potential.get(column, 0.0) for column, cost in self.edges[source]
        )
        distance: dict[int, float] = {}
        came_from: dict[int, int] = {}  # column -> the row it was reached from
        heap: list[tuple[float, int]] = []
        row_distance = {source: 0.0}
        settled: set[int] = set()

        def relax(row: int, base: float) -> None:
            potential = self.row_potential[row]
            for column, cost in self.edges[row]:
                if column in settled:
                    continue
                reduced = base + cost - potential - column_potential.get(column, 0.0)
                if reduced < distance.get(column, float("inf")):
                    distance[column] = reduced
                    came_from[column] = row
                    heapq.heappush(heap, (reduced, column))

        relax(source, 0.0)
        while True:
            shortest, sink = heapq.heappop(heap)
            if sink in settled or shortest > distance[sink]:
                continue
            settled.add(sink)
            matched_row = self.row_of_column.get(sink)
            if matched_row is None:
                break
            row_distance[matched_row] = shortest
            relax(matched_row, shortest)
        for column in settled:
            column_potential[column] = column_potential.get(column, 0.0) - (shortest - distance[column])
        for row, reached in row_distance.items():
            self.row_potential[row] += shortest - reached
        column = sink
        while True:
            row = came_from[column]
            previous_column = self.column_of_row.get(row)
            self.row_of_column[column] = row
            self.column_of_row[row] = column
            if previous_column is None:
                return
            column = previous_column
