"""Replay every dev MDRP instance through the policy and the greedy baseline, evaluate both, write results.

    .venv/bin/python bench/mdrp/run_all.py [--instances DIR] [--out DIR]

Writes bench/mdrp/results.json and bench/mdrp/RESULTS.md beside this script.
"""

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from research.mdrp.evaluation_files import read_instance
from research.mdrp.evaluation_metrics import lower_bound_click_to_door
from research.mdrp.evaluator import evaluate
from research.mdrp.solve import run

HERE = Path(__file__).resolve().parent
DEFAULT_INSTANCES = Path("/work/shared/mdrp/dev")


def measure_instance(instance_dir: Path, out_dir: Path) -> dict[str, object]:
    """Both dispatchers' metrics, feasibility and replay time on one instance, with the lower bound."""
    result: dict[str, object] = {"instance": instance_dir.name}
    for dispatcher in ("policy", "greedy"):
        solution_dir = out_dir / instance_dir.name / dispatcher
        started = time.perf_counter()
        run(instance_dir, solution_dir, dispatcher)
        elapsed = time.perf_counter() - started
        evaluation = evaluate(instance_dir, solution_dir)
        assert evaluation.metrics is not None
        result[dispatcher] = {
            **asdict(evaluation.metrics),
            "feasible": evaluation.feasible,
            "violations": evaluation.violations[:10],
            "replay_seconds": round(elapsed, 3),
        }
    result["lower_bound_click_to_door_mean"] = lower_bound_click_to_door(read_instance(instance_dir))
    return result


def scale_check(
    source_dir: Path, work_dir: Path, orders: int = 3213, couriers: int = 404
) -> dict[str, object]:
    """Replay time and feasibility on the largest dev instance copied up to the library's largest size.

    Orders and couriers are repeated under new ids (same places and times), which makes the city denser
    than any real instance: a harder timing test than the 3,213-order library instance.
    """
    scaled = work_dir / "scaled"
    scaled.mkdir(parents=True, exist_ok=True)
    for name in ("restaurants.txt", "instance_parameters.txt"):
        (scaled / name).write_text((source_dir / name).read_text())
    for name, count in (("orders.txt", orders), ("couriers.txt", couriers)):
        header, *rows = (source_dir / name).read_text().splitlines()
        # A copy keeps the row and suffixes its id, so the copies stay distinct orders and couriers.
        copies = [
            "\t".join([f"{row.split()[0]}_{copy}", *row.split()[1:]]) for copy in range(4) for row in rows
        ]
        (scaled / name).write_text("\n".join([header, *copies[:count]]) + "\n")
    started = time.perf_counter()
    run(scaled, work_dir / "scaled_solution", "policy")
    elapsed = time.perf_counter() - started
    evaluation = evaluate(scaled, work_dir / "scaled_solution")
    assert evaluation.metrics is not None
    return {
        "source": source_dir.name,
        "orders": orders,
        "couriers": couriers,
        "replay_seconds": round(elapsed, 2),
        "feasible": evaluation.feasible,
        "delivered": evaluation.metrics.delivered,
        "click_to_door_mean": evaluation.metrics.click_to_door_mean,
    }


def _ratio(results: list[dict], dispatcher: str, reference: str) -> list[float]:
    ratios = []
    for result in results:
        mean = result[dispatcher]["click_to_door_mean"]
        if reference == "lower_bound":
            ratios.append(mean / result[dispatcher]["lower_bound_mean_of_delivered"])
        else:
            ratios.append(mean / result[reference]["click_to_door_mean"])
    return ratios


def write_markdown(results: list[dict], scale: dict[str, object], path: Path) -> None:
    """A table per instance of policy vs greedy vs lower bound, and the averages of the ratios."""
    lines = [
        "# MDRP dev instances: rolling-horizon policy vs greedy vs lower bound",
        "",
        "Produced by `bench/mdrp/run_all.py`; every solution checked by `research.mdrp.evaluator`.",
        "Click-to-door (CTD) in minutes. LB = per-order lower bound (ready + half pickup service + direct",
        "travel + half drop-off service - placement), averaged over the orders each dispatcher delivered",
        "(identical when all are delivered).",
        "",
        "| instance | orders | CTD policy | CTD greedy | CTD LB | policy/greedy | policy/LB | delivered "
        "policy / greedy | p90 policy / greedy | >40 min policy / greedy | ready-to-pickup policy / greedy "
        "| feasible | replay s policy / greedy |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for result in results:
        policy, greedy = result["policy"], result["greedy"]
        lines.append(
            f"| {result['instance']} | {policy['orders']} | {policy['click_to_door_mean']:.2f} "
            f"| {greedy['click_to_door_mean']:.2f} | {policy['lower_bound_mean_of_delivered']:.2f} "
            f"| {policy['click_to_door_mean'] / greedy['click_to_door_mean']:.3f} "
            f"| {policy['click_to_door_mean'] / policy['lower_bound_mean_of_delivered']:.3f} "
            f"| {policy['delivered']} / {greedy['delivered']} "
            f"| {policy['click_to_door_p90']:.0f} / {greedy['click_to_door_p90']:.0f} "
            f"| {policy['over_target_orders']} / {greedy['over_target_orders']} "
            f"| {policy['ready_to_pickup_mean']:.2f} / {greedy['ready_to_pickup_mean']:.2f} "
            f"| {policy['feasible'] and greedy['feasible']} "
            f"| {policy['replay_seconds']:.2f} / {greedy['replay_seconds']:.2f} |"
        )
    vs_greedy = _ratio(results, "policy", "greedy")
    vs_bound = _ratio(results, "policy", "lower_bound")
    greedy_vs_bound = _ratio(results, "greedy", "lower_bound")
    lines += [
        "",
        f"Mean policy/greedy: {sum(vs_greedy) / len(vs_greedy):.3f}; "
        f"mean policy/LB: {sum(vs_bound) / len(vs_bound):.4f}; "
        f"mean greedy/LB: {sum(greedy_vs_bound) / len(greedy_vs_bound):.3f}.",
        "",
        "| instance | couriers pay policy / greedy | utilization policy / greedy | orders per courier-hour "
        "policy / greedy |",
        "| --- | ---: | ---: | ---: |",
    ]
    for result in results:
        policy, greedy = result["policy"], result["greedy"]
        lines.append(
            f"| {result['instance']} | {policy['total_courier_pay']:.0f} / {greedy['total_courier_pay']:.0f} "
            f"| {policy['courier_utilization']:.3f} / {greedy['courier_utilization']:.3f} "
            f"| {policy['orders_per_courier_hour']:.3f} / {greedy['orders_per_courier_hour']:.3f} |"
        )
    lines += [
        "",
        f"Scale check: {scale['source']} repeated to {scale['orders']} orders and {scale['couriers']} "
        f"couriers (the full library's largest size, but denser) replays in {scale['replay_seconds']} s; "
        f"feasible: "
        f"{scale['feasible']}; delivered {scale['delivered']}; mean click-to-door "
        f"{scale['click_to_door_mean']:.2f} min.",
    ]
    path.write_text("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=Path, default=DEFAULT_INSTANCES)
    parser.add_argument("--out", type=Path, help="keep the solution files here (default: a temp dir)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md as it is")
    args = parser.parse_args()
    instance_dirs = sorted(path for path in args.instances.iterdir() if (path / "orders.txt").exists())
    with tempfile.TemporaryDirectory() as temporary:
        out_dir = args.out or Path(temporary)
        results = [measure_instance(instance_dir, out_dir) for instance_dir in instance_dirs]
        largest = max(instance_dirs, key=lambda path: len((path / "orders.txt").read_text().splitlines()))
        scale = scale_check(largest, out_dir)
    for result in results:
        policy, greedy = result["policy"], result["greedy"]
        print(
            f"{result['instance']:18} policy {policy['click_to_door_mean']:6.2f} "
            f"greedy {greedy['click_to_door_mean']:6.2f} LB {policy['lower_bound_mean_of_delivered']:6.2f} "
            f"ratio {policy['click_to_door_mean'] / policy['lower_bound_mean_of_delivered']:.3f} "
            f"delivered {policy['delivered']}/{greedy['delivered']}/{policy['orders']} "
            f"feasible {policy['feasible']}/{greedy['feasible']} {policy['replay_seconds']:.1f}s"
        )
    vs_bound = _ratio(results, "policy", "lower_bound")
    print(f"mean policy/LB {sum(vs_bound) / len(vs_bound):.4f}; scale check {scale}")
    if not args.no_write:
        (HERE / "results.json").write_text(
            json.dumps({"instances": results, "scale_check": scale}, indent=2) + "\n"
        )
        write_markdown(results, scale, HERE / "RESULTS.md")
    return 0 if scale["feasible"] and all(result["policy"]["feasible"] for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
