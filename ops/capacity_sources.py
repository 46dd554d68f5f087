"""Where measured limits come from: the benchmarks' results in `bench/`.

A benchmark states what it measured in a JSON file beside its results (`bench/<name>_RESULTS.json` or
any `bench/**/*.json`) with a top-level `capacity` list:

    {"measured_at": "2026-11-25T05:00:00Z",
     "capacity": [{"figure": "orders_per_minute", "limit": 3588, "basis": "placement, 1 uvicorn worker"}]}

`figure` is one of `ops.models.LoadFigure`; `limit` is in that figure's unit (per minute, per second,
connections, tasks). Results that predate this format are read from their Markdown tables below.
"""

import contextlib
import json
import math
import re
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.utils.dateparse import parse_datetime

from ops.models import LoadFigure


@dataclass(frozen=True)
class Measured:
    figure: str
    limit: float
    source: str
    basis: str
    measured_at: datetime


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


def from_json(path: Path, root: Path) -> list[Measured]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    if not isinstance(data, dict) or not isinstance(data.get("capacity"), list):
        return []
    stamp = parse_datetime(str(data.get("measured_at", ""))) or _mtime(path)
    found = []
    for entry in data["capacity"]:
        if not isinstance(entry, dict):
            continue
        figure, limit = entry.get("figure"), entry.get("limit")
        # json reads NaN and Infinity, and a bool is an int: none of them is a measured limit.
        if (
            figure in LoadFigure.values
            and isinstance(limit, int | float)
            and not isinstance(limit, bool)
            and math.isfinite(limit)
            and limit > 0
        ):
            found.append(
                Measured(
                    figure, float(limit), str(path.relative_to(root)), str(entry.get("basis", "")), stamp
                )
            )
    return found


_ORDERS_ROW = re.compile(r"^\|\s*place order\s*\|\s*([\d.]+)\s*\|", re.MULTILINE)


def _placement_rps_column(text: str) -> list[float]:
    """The run rows' values under a `placement rps` header (the first per-run results table)."""
    values: list[float] = []
    column: int | None = None
    for line in text.splitlines():
        if not line.startswith("|"):
            if values:
                break
            continue
        cells = [cell.strip().strip("*") for cell in line.strip().strip("|").split("|")]
        if "placement rps" in cells:
            column = cells.index("placement rps")
        elif column is not None and cells[0].isdigit() and len(cells) > column:
            with contextlib.suppress(ValueError):
                values.append(float(cells[column]))
    return values


def from_orders_results(path: Path, root: Path) -> list[Measured]:
    """bench/orders_RESULTS.md: placements/s times 60 - the median of the per-run table, or the
    `place order` row of the older single-run table."""
    text = path.read_text()
    runs = _placement_rps_column(text)
    match = _ORDERS_ROW.search(text)
    if runs:
        per_second, how = statistics.median(runs), f"median of {len(runs)} runs"
    elif match:
        per_second, how = float(match.group(1)), "one run"
    else:
        return []
    return [
        Measured(
            LoadFigure.ORDERS_PER_MINUTE,
            per_second * 60,
            str(path.relative_to(root)),
            f"order placement {per_second:g} requests/s ({how}) x 60, one uvicorn worker"
            " (bench/orders_bench.py)",
            _mtime(path),
        )
    ]


def measured_limits(bench_dir: Path) -> dict[str, Measured]:
    """The limit of each figure: from JSON where a benchmark wrote one, else from the Markdown readers.
    Where several sources measure one figure, the lowest limit wins (the system is as strong as its
    weakest measured path)."""
    root = bench_dir.parent
    found: list[Measured] = []
    for path in sorted(bench_dir.rglob("*.json")):
        found.extend(from_json(path, root))
    orders_md = bench_dir / "orders_RESULTS.md"
    if orders_md.exists() and not any(m.figure == LoadFigure.ORDERS_PER_MINUTE for m in found):
        found.extend(from_orders_results(orders_md, root))
    best: dict[str, Measured] = {}
    for measured in found:
        if measured.figure not in best or measured.limit < best[measured.figure].limit:
            best[measured.figure] = measured
    return best
