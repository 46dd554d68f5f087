"""Replay every dev MDRP instance through the policy and the greedy baseline, evaluate both and the solution
`mdrp_run` keeps of the two, write results.

    .venv/bin/python bench/mdrp/run_all.py [--instances DIR] [--out DIR]

Writes bench/mdrp/results.json and bench/mdrp/RESULTS.md beside this script.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from research.mdrp.evaluation_files import read_instance
from research.mdrp.evaluation_metrics import lower_bound_click_to_door
from research.mdrp.evaluator import evaluate
from research.mdrp.instance import load_instance
from research.mdrp.solve import GUARDED, guarded, run, solve, write_solution

HERE = Path(__file__).resolve().parent
#: The workplace keeps the public MDRP instances beside the repository (`../shared/mdrp/dev`).
DEFAULT_INSTANCES = HERE.parents[1].parent / "shared" / "mdrp" / "dev"
#: Where the hand-written part of RESULTS.md starts (kept when a run rewrites the figures).
NOTES = "## Notes"


def measure_instance(instance_dir: Path, out_dir: Path) -> dict[str, object]:
    """The policy's, greedy's and the guarded choice's metrics, feasibility and replay time on one
    instance, with the lower bound. The guarded solution is the one `mdrp_run` writes: it is chosen
    from the same two replays, so its time is the sum of theirs."""
    instance = load_instance(instance_dir)
    result: dict[str, object] = {"instance": instance_dir.name}
    solutions, seconds = {}, {}
    for dispatcher in ("policy", "greedy"):
        started = time.perf_counter()
        solutions[dispatcher] = solve(instance, dispatcher)
        seconds[dispatcher] = time.perf_counter() - started
    solutions[GUARDED] = guarded(solutions["policy"], solutions["greedy"])
    seconds[GUARDED] = seconds["policy"] + seconds["greedy"]
    for dispatcher, solution in solutions.items():
        solution_dir = out_dir / instance_dir.name / dispatcher
        write_solution(solution, solution_dir)
        evaluation = evaluate(instance_dir, solution_dir)
        assert evaluation.metrics is not None
        result[dispatcher] = {
            **asdict(evaluation.metrics),
            "feasible": evaluation.feasible,
            "library_feasible": not evaluation.library_violations,
            "violations": evaluation.violations[:10],
            "replay_seconds": round(seconds[dispatcher], 3),
            "solution_of": solution.dispatcher,
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
    started, cpu_started = time.perf_counter(), time.process_time()
    solution = run(scaled, work_dir / "scaled_solution", GUARDED)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    evaluation = evaluate(scaled, work_dir / "scaled_solution")
    assert evaluation.metrics is not None
    return {
        "source": source_dir.name,
        "orders": orders,
        "couriers": couriers,
        "replay_seconds": round(elapsed, 2),
        "replay_cpu_seconds": round(cpu, 2),
        "load_average_1min": round(os.getloadavg()[0], 1),
        "solution_of": solution.dispatcher,
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


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def write_markdown(results: list[dict], scale: dict[str, object], path: Path, command: str) -> None:
    """A table per instance of the kept solution vs greedy vs lower bound, and the averages of the ratios."""
    lines = [
        "# MDRP dev instances: the dispatcher vs greedy vs lower bound",
        "",
        f"Produced by `{command}`.",
        "Every solution is checked by `research.mdrp.evaluator` (`mdrp_eval`), which applies the library",
        "evaluator's checks as it reads the files, and the README's timing rules on top. `kept` is what",
        "`manage.py mdrp_run` writes (dispatcher `guarded`): the rolling-horizon policy's replay unless the",
        "greedy baseline's delivers more orders or has a lower mean click-to-door; `policy` is the",
        "rolling-horizon policy alone. Click-to-door (CTD) in minutes. LB = per-order lower bound (ready +",
        "half pickup service + direct travel + half drop-off service - placement), averaged over the orders",
        "each solution delivered (identical when all are delivered).",
        "",
        "| instance | orders | CTD kept | CTD policy | CTD greedy | CTD LB | kept/greedy | kept/LB | kept is "
        "| undelivered kept / greedy | p90 kept / greedy | >40 min kept / greedy | ready-to-pickup kept / "
        "greedy | feasible (library checks) | replay s kept / policy / greedy |",
        "| --- " + "| ---: " * 7 + "| --- " + "| ---: " * 4 + "| --- | ---: |",
    ]
    for result in results:
        kept, policy, greedy = result[GUARDED], result["policy"], result["greedy"]
        lines.append(
            f"| {result['instance']} | {kept['orders']} | {kept['click_to_door_mean']:.2f} "
            f"| {policy['click_to_door_mean']:.2f} | {greedy['click_to_door_mean']:.2f} "
            f"| {kept['lower_bound_mean_of_delivered']:.2f} "
            f"| {kept['click_to_door_mean'] / greedy['click_to_door_mean']:.3f} "
            f"| {kept['click_to_door_mean'] / kept['lower_bound_mean_of_delivered']:.3f} "
            f"| {kept['solution_of']} "
            f"| {kept['undelivered']} / {greedy['undelivered']} "
            f"| {kept['click_to_door_p90']:.0f} / {greedy['click_to_door_p90']:.0f} "
            f"| {kept['over_target_orders']} / {greedy['over_target_orders']} "
            f"| {kept['ready_to_pickup_mean']:.2f} / {greedy['ready_to_pickup_mean']:.2f} "
            f"| {all(result[d]['feasible'] for d in (GUARDED, 'policy', 'greedy'))} "
            f"({all(result[d]['library_feasible'] for d in (GUARDED, 'policy', 'greedy'))}) "
            f"| {kept['replay_seconds']:.2f} / {policy['replay_seconds']:.2f} "
            f"/ {greedy['replay_seconds']:.2f} |"
        )
    lines += [
        "",
        f"Mean kept/LB: {_mean(_ratio(results, GUARDED, 'lower_bound')):.4f}; "
        f"mean policy/LB: {_mean(_ratio(results, 'policy', 'lower_bound')):.4f}; "
        f"mean greedy/LB: {_mean(_ratio(results, 'greedy', 'lower_bound')):.4f}; "
        f"mean kept/greedy: {_mean(_ratio(results, GUARDED, 'greedy')):.3f}; "
        f"undelivered kept / greedy: {sum(r[GUARDED]['undelivered'] for r in results)} / "
        f"{sum(r['greedy']['undelivered'] for r in results)}.",
        "",
        "| instance | couriers pay kept / greedy | utilization kept / greedy | orders per courier-hour "
        "kept / greedy |",
        "| --- | ---: | ---: | ---: |",
    ]
    for result in results:
        kept, greedy = result[GUARDED], result["greedy"]
        lines.append(
            f"| {result['instance']} | {kept['total_courier_pay']:.0f} / {greedy['total_courier_pay']:.0f} "
            f"| {kept['courier_utilization']:.3f} / {greedy['courier_utilization']:.3f} "
            f"| {kept['orders_per_courier_hour']:.3f} / {greedy['orders_per_courier_hour']:.3f} |"
        )
    lines += [
        "",
        f"Scale check: {scale['source']} repeated to {scale['orders']} orders and {scale['couriers']} "
        f"couriers (the full library's largest size, but denser), replayed as `mdrp_run` does (policy and "
        f"greedy, {scale['solution_of']}'s solution kept): {scale['replay_seconds']} s "
        f"({scale['replay_cpu_seconds']} s of CPU; 1-minute load average {scale['load_average_1min']} on "
        f"the 2 cores at the end); feasible: {scale['feasible']}; delivered {scale['delivered']}; mean "
        f"click-to-door {scale['click_to_door_mean']:.2f} min.",
    ]
    previous = path.read_text() if path.exists() else ""
    notes = previous[previous.index(NOTES) :] if NOTES in previous else ""
    path.write_text("\n".join(lines) + "\n" + ("\n" + notes if notes else ""))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=Path, default=DEFAULT_INSTANCES)
    parser.add_argument("--out", type=Path, help="keep the solution files here (default: a temp dir)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md as it is")
    args = parser.parse_args()
    command = "python bench/mdrp/run_all.py" + "".join(f" {a}" for a in sys.argv[1:])
    instance_dirs = sorted(path for path in args.instances.iterdir() if (path / "orders.txt").exists())
    with tempfile.TemporaryDirectory() as temporary:
        out_dir = args.out or Path(temporary)
        results = [measure_instance(instance_dir, out_dir) for instance_dir in instance_dirs]
        largest = max(instance_dirs, key=lambda path: len((path / "orders.txt").read_text().splitlines()))
        scale = scale_check(largest, out_dir)
    for result in results:
        kept, greedy = result[GUARDED], result["greedy"]
        print(
            f"{result['instance']:18} kept {kept['click_to_door_mean']:6.2f} ({kept['solution_of']}) "
            f"policy {result['policy']['click_to_door_mean']:6.2f} "
            f"greedy {greedy['click_to_door_mean']:6.2f} "
            f"LB {kept['lower_bound_mean_of_delivered']:6.2f} "
            f"ratio {kept['click_to_door_mean'] / kept['lower_bound_mean_of_delivered']:.4f} "
            f"undelivered {kept['undelivered']}/{greedy['undelivered']} "
            f"feasible {kept['feasible']}/{kept['library_feasible']} {kept['replay_seconds']:.1f}s"
        )
    print(f"mean kept/LB {_mean(_ratio(results, GUARDED, 'lower_bound')):.4f}; scale check {scale}")
    if not args.no_write:
        (HERE / "results.json").write_text(
            json.dumps({"command": command, "instances": results, "scale_check": scale}, indent=2) + "\n"
        )
        write_markdown(results, scale, HERE / "RESULTS.md", command)
    feasible = all(result[d]["feasible"] for result in results for d in (GUARDED, "policy", "greedy"))
    return 0 if scale["feasible"] and feasible else 1


if __name__ == "__main__":
    sys.exit(main())
