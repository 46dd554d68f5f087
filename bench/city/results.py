"""A city run's figures: the ledger of what the apps saw against what PostgreSQL holds (`integrity`), and
the results file of the fault runs (`bench/city_faults_RESULTS.json` and `.md`), where each run (one per
fault, and one without) replaces its own entry and the table is drawn again from all of them.
"""

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.city import ledger
from bench.city.apps import City
from bench.city.ledger import Fault, PushReceipt
from bench.harness import percentile

if TYPE_CHECKING:  # world needs Django set up, which the simulation does after parsing its options
    from bench.city.world import Facts

#: Where the hand-written part of the results file starts (kept when a run rewrites the figures).
NOTES = "## Notes"


def activity(city: City, receipts: list[PushReceipt]) -> dict[str, list[float]]:
    """When each kind of work was seen done, for the heal: an answer, a step, an event, a push, an offer."""
    return {
        "http 2xx": city.api.successes(),
        "driver step": city.api.successes("POST /driver/jobs"),
        "socket event": list(city.sockets.event_times),
        "push": [receipt.at for receipt in receipts],
        "offer seen": list(city.driver_saw.values()),
    }


def integrity(
    city: City,
    facts: "Facts",
    faults: list[Fault],
    receipts: list[PushReceipt] | None,
    *,
    cash_before: dict[int, int],
    cash_after: dict[int, int],
) -> dict[str, Any]:
    """Everything lost, doubled or late in one run, and the server's 5xx answers."""
    connections = {
        stream: [c.event_ids for c in city.sockets.connections if c.stream == stream]
        for stream in ("customer", "merchant", "driver")
    }
    found: dict[str, Any] = {
        "orders": ledger.order_ledger(facts.orders, acknowledged=city.acknowledged),
        "outbox": ledger.outbox_ledger(facts.outbox),
        "cash": ledger.cash_ledger(cash_before, cash_after, facts.cash_collected),
        "notifications": ledger.notification_ledger(facts.notices, facts.inbox, faults),
        "customer_streams": ledger.order_stream_ledger(
            facts.truths, city.sightings, faults, connections=connections["customer"]
        ),
        "merchant_streams": {
            **ledger.first_sightings_ledger(facts.merchant_due, city.merchant_saw, faults),
            "doubled": ledger.doubled_events(connections["merchant"]),
        },
        "driver_streams": {
            **ledger.first_sightings_ledger(facts.driver_due, city.driver_saw, faults),
            "doubled": ledger.doubled_events(connections["driver"]),
        },
        "http": ledger.http_ledger(city.api.attempts, faults),
        "socket_refusals": dict(sorted(city.sockets.refusals.items())),
    }
    if receipts is not None:
        found["pushes"] = ledger.push_ledger(
            facts.inbox, receipts, faults, event_at=facts.event_at, tokens=facts.tokens
        )
    return found


def problems(found: dict[str, Any]) -> list[str]:
    """What the issue's bar forbids, in words: empty when the run is clean."""
    orders, said = found["orders"], []
    checks = [
        (len(orders["stuck"]), "orders stuck"),
        (len(orders["sequence_gaps"]), "orders with a history gap"),
        (len(orders["repeated_transitions"]), "orders with a transition recorded twice"),
        (len(orders["two_drivers"]), "orders with two drivers"),
        (len(orders["unacknowledged"]), "orders placed whose customer never got the answer"),
        (found["outbox"]["unpublished"], "outbox events unpublished"),
        (found["outbox"]["given_up"], "outbox events given up"),
        (found["outbox"]["doubled_sequence"], "outbox events doubled"),
        (len(found["cash"]["unbalanced_drivers"]), "drivers whose cash does not balance"),
        (found["notifications"]["lost"], "notifications lost"),
        (found["notifications"]["doubled"], "notifications doubled"),
        (found["notifications"]["late"], "notifications late"),
        (found.get("pushes", {}).get("lost", 0), "pushes never attempted"),
        (found.get("pushes", {}).get("doubled", 0), "pushes doubled"),
        (found.get("pushes", {}).get("late", 0), "pushes late"),
        (found["customer_streams"]["lost"], "customer sockets not ending on the final status"),
        (found["customer_streams"]["late_orders"], "customer sockets told late"),
        (found["customer_streams"]["doubled"], "events doubled on customer sockets"),
        (found["merchant_streams"]["never_seen"], "orders a merchant tablet never saw"),
        (found["merchant_streams"]["doubled"], "events doubled on merchant sockets"),
        (found["driver_streams"]["doubled"], "events doubled on driver sockets"),
        (found["http"]["5xx_total"], "5xx answers"),
        (
            sum(n for refusal, n in found["socket_refusals"].items() if "handshake HTTP 5" in refusal),
            "socket handshakes answered 5xx",
        ),
        (sum(found["http"]["retries_refused"].values()), "retries refused"),
    ]
    for count, what in checks:
        if count:
            said.append(f"{count} {what}")
    return said


def latencies(city: City) -> dict[str, Any]:
    """Push latency (merchant accept sent -> `order.accepted` on the customer's socket, ms), dispatch
    time (order placed -> the driver's accept answered, s) and click to door (placed -> delivered, s)."""

    def summary(values: list[float], scale: float = 1.0) -> dict[str, Any]:
        return {
            "count": len(values),
            "p50": round(percentile(values, 0.5) * scale, 2),
            "p99": round(percentile(values, 0.99) * scale, 2),
            "mean": round(sum(values) / len(values) * scale, 2) if values else None,
        }

    return {
        "push_latency_ms": summary(city.push_seconds, 1000),
        "dispatch_seconds": summary(city.dispatch_seconds),
        "door_seconds": summary(city.door_seconds),
        "click_to_door_vs_lower_bound": dispatch_quality(city),
    }


def dispatch_quality(city: City) -> dict[str, Any]:
    """Mean click to door against the mean per-order lower bound, over the delivered orders: the MDRP
    replay's measure of the dispatcher, here on the live system.

    An order's bound is the MDRP one in this world's terms: food ready (as its merchant marked it) plus
    the direct ride to the door (`ride_seconds`; pickup and drop-off take no service time here), minus
    placement. What the ratio adds over 1 is time spent waiting for a dispatch round, an offer's answer
    and the apps' round trips.
    """
    delivered = [order_id for order_id in city.door_by_order if order_id in city.food_ready]
    if not delivered:
        return {"orders": 0, "click_to_door_mean_s": None, "lower_bound_mean_s": None, "ratio": None}
    door = sum(city.door_by_order[order_id] for order_id in delivered) / len(delivered)
    bound = sum(
        city.food_ready[order_id] - city.acknowledged[order_id] + city.knobs.ride_seconds
        for order_id in delivered
    ) / len(delivered)
    return {
        "orders": len(delivered),
        "click_to_door_mean_s": round(door, 2),
        "lower_bound_mean_s": round(bound, 2),
        "ratio": round(door / bound, 3),
    }


# --- the results file of the fault runs ----------------------------------------------------------


def save_fault_run(path: Path, run: dict[str, Any]) -> None:
    """Put this run's entry (by its fault) into `<path>.json` and redraw `<path>.md`, keeping its notes."""
    json_path, md_path = path.with_suffix(".json"), path.with_suffix(".md")
    runs: dict[str, Any] = json.loads(json_path.read_text())["runs"] if json_path.exists() else {}
    runs[run["fault"]] = run
    order = ["none", "worker", "redis", "web", "ws", "db"]
    runs = {name: runs[name] for name in sorted(runs, key=lambda name: [*order, name].index(name))}
    json_path.write_text(json.dumps({"runs": runs}, indent=2, ensure_ascii=False) + "\n")
    notes = ""
    if md_path.exists() and NOTES in md_path.read_text():
        notes = md_path.read_text()[md_path.read_text().index(NOTES) :]
    md_path.write_text(render(runs) + ("\n" + notes if notes else ""))


def _against_bound(quality: dict[str, Any] | None) -> str:
    if not quality or quality["ratio"] is None:
        return "-"
    return f"{quality['click_to_door_mean_s']} / {quality['lower_bound_mean_s']} ({quality['ratio']})"


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return str(len(value))
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items()) or "0"
    return "-" if value is None else str(value)


def _joined(run: dict[str, Any], section: str, *keys: str) -> str:
    """Several figures of one section, `a / b / c`."""
    return " / ".join(_cell(run[section][key]) for key in keys)


def _pushes(run: dict[str, Any], *keys: str) -> str:
    return _joined(run, "pushes", *keys) if "pushes" in run else "-"


def _orders_cancelled(run: dict[str, Any]) -> str:
    orders = run["orders"]
    reasons = f" ({_cell(orders['cancel_reasons'])})" if orders["cancel_reasons"] else ""
    return f"{orders['cancelled']}{reasons} / {orders['rejected']}"


def _load(run: dict[str, Any]) -> str:
    load = run["load"]
    return f"{load['orders_per_minute']} / {load['location_fixes_per_second']} / {load['open_sockets']}"


def _late_by(run: dict[str, Any]) -> str:
    most = [run["notifications"]["late_by_seconds_max"], run.get("pushes", {}).get("late_by_seconds_max", 0)]
    return " / ".join(_cell(seconds) for seconds in most)


ROWS: list[tuple[str, Callable[[dict[str, Any]], Any]]] = [
    ("load: orders/min, fixes/s, peak sockets", _load),
    ("placed -> delivered p50 / p99, s", lambda r: _joined(r, "door_seconds", "p50", "p99")),
    (
        "click to door: mean / lower bound, s (ratio)",
        lambda r: _against_bound(r.get("click_to_door_vs_lower_bound")),
    ),
    ("orders placed / delivered", lambda r: _joined(r, "orders", "placed", "delivered")),
    ("cancelled (reasons) / rejected", _orders_cancelled),
    ("stuck (open at the end)", lambda r: _cell(r["orders"]["stuck"])),
    (
        "two drivers / history gaps / transitions twice",
        lambda r: _joined(r, "orders", "two_drivers", "sequence_gaps", "repeated_transitions"),
    ),
    ("placed but never answered", lambda r: _cell(r["orders"]["unacknowledged"])),
    (
        "outbox events: unpublished / given up / doubled",
        lambda r: _joined(r, "outbox", "unpublished", "given_up", "doubled_sequence"),
    ),
    ("drivers whose cash does not balance", lambda r: _cell(r["cash"]["unbalanced_drivers"])),
    ("notifications expected / in inbox", lambda r: _joined(r, "notifications", "expected", "in_inbox")),
    ("notifications lost / doubled / late", lambda r: _joined(r, "notifications", "lost", "doubled", "late")),
    ("pushes expected / attempted", lambda r: _pushes(r, "expected", "attempted")),
    ("pushes lost / doubled / late", lambda r: _pushes(r, "lost", "doubled", "late")),
    ("latest past its deadline, s: notification / push", _late_by),
    (
        "customer sockets: lost / late / doubled",
        lambda r: _joined(r, "customer_streams", "lost", "late_orders", "doubled"),
    ),
    (
        "merchant tablets: orders never seen / late / doubled",
        lambda r: _joined(r, "merchant_streams", "never_seen", "late", "doubled"),
    ),
    (
        "driver apps: offers never seen / late / doubled",
        lambda r: _joined(r, "driver_streams", "never_seen", "late", "doubled"),
    ),
    ("5xx answers", lambda r: _cell(r["http"]["5xx"])),
    ("retries refused", lambda r: _cell(r["http"]["retries_refused"])),
    ("calls without an answer", lambda r: sum(r["http"]["no_answer"].values())),
    ("socket refusals", lambda r: _cell(r["socket_refusals"])),
    (
        "server ERROR log lines",
        lambda r: _cell({name: found["count"] for name, found in r["server_error_lines"].items()}),
    ),
    (
        "restarted process up after, s (each fault)",
        lambda r: ", ".join(_cell(f.get("process_up_after_seconds")) for f in r["faults"]) or "-",
    ),
    (
        "time to heal, s (each fault)",
        lambda r: ", ".join(_cell(f["time_to_heal_seconds"]) for f in r["faults"]) or "-",
    ),
    (
        "slowest to come back (each fault)",
        lambda r: ", ".join(f["slowest"] or "-" for f in r["faults"]) or "-",
    ),
]


def render(runs: dict[str, Any]) -> str:
    names = list(runs)
    first = next(iter(runs.values()))
    lines = [
        "# The city under faults (bench/city/simulate.py --fault)",
        "",
        "Each column is one run of the command below with its `--fault` (`none`: the same run without a",
        "fault). Generated by the simulation; the notes at the end are kept when it rewrites the figures.",
        "",
        "    " + first["command"],
        "",
        f"Conditions of the latest runs: {first['conditions']}",
        "",
        "| | " + " | ".join(f"`{name}`" for name in names) + " |",
        "| --- | " + " | ".join("---:" for _ in names) + " |",
    ]
    for title, value in ROWS:
        lines.append(f"| {title} | " + " | ".join(_cell(value(runs[name])) for name in names) + " |")
    lines += ["", "What each run broke, and what the bar of issue 19 still finds:", ""]
    for name in names:
        run = runs[name]
        when = "".join(f"; at {f['at_seconds']} s for {f['broken_seconds']} s" for f in run["faults"])
        verdict = "; ".join(run["problems"]) or "clean"
        lines.append(
            f"- `{name}` ({run['measured_at']}, {run['run']['seconds']} s of load{when}): {verdict}."
        )
        lines.append(f"  `{run['command']}`")
    return "\n".join(lines) + "\n"


def stamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
