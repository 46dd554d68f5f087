"""Which Celery tasks the life of an order causes: the city simulation, with the worker logging at INFO.

    DATABASE_URL=... REDIS_URL=... SECRET_KEY=... python bench/relay_tasks.py --port 8977 --seconds 60 \
        [--no-relay] -- --orders-per-minute 30 --drivers 40 --merchants 10 --customers 60

Starts uvicorn, one Celery worker (2 prefork children, every queue), beat and, unless `--no-relay`, the
outbox relay process (`manage.py relay_outbox`, when the checkout has it); runs `bench/city/simulate.py`
against them (the arguments after `--`); then counts the tasks the worker received while the simulation
ran, by task name, from the worker's log, and divides by the orders placed and delivered.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
RECEIVED = re.compile(r"Task ([\w.]+)\[[0-9a-f-]+\] received")


def start(name: str, command: list[str], env: dict[str, str], log_dir: Path) -> subprocess.Popen[bytes]:
    log = (log_dir / f"{name}.log").open("ab")
    if name == "worker":
        env = {**env, "LOG_LEVEL": "INFO"}  # its "Task ... received" lines
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", default="8977")
    parser.add_argument("--seconds", default="60")
    parser.add_argument("--no-relay", action="store_true", help="do not start `manage.py relay_outbox`")
    parser.add_argument("simulate_args", nargs="*")
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="loship-relay-tasks-"))
    env = {
        **os.environ,
        "METRICS_TOKEN": "city-bench-scrape",
        "METRICS_PUBLISH_SECONDS": "1",
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "plain",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "FAST_PASSWORD_HASHING": "1",
        "PYTHONUNBUFFERED": "1",
    }
    commands = {
        "web": [PYTHON, "-m", "uvicorn", "loship.asgi:application", "--port", args.port, "--no-access-log",
                "--log-level", "warning", "--lifespan", "off"],
        "worker": [PYTHON, "-m", "celery", "-A", "loship", "worker", "-Q", "default,dispatch,notifications",
                   "--concurrency", "2", "--loglevel", "INFO", "-n", f"relay-tasks-{os.getpid()}@%h"],
        "beat": [PYTHON, "-m", "celery", "-A", "loship", "beat", "--loglevel", "WARNING",
                 "--schedule", str(log_dir / "beat-schedule")],
    }  # fmt: skip
    relay_command = ROOT / "loship/events/management/commands/relay_outbox.py"
    if not args.no_relay and relay_command.exists():
        commands["relay"] = [PYTHON, "manage.py", "relay_outbox"]
    processes = [start(name, command, env, log_dir) for name, command in commands.items()]
    try:
        base = f"http://127.0.0.1:{args.port}"
        for _ in range(150):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        time.sleep(3)
        worker_log = log_dir / "worker.log"
        simulate = [PYTHON, "bench/city/simulate.py", "--base-url", base, "--seconds", args.seconds]
        output = subprocess.run(
            [*simulate, *args.simulate_args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        ).stdout
        result = json.loads(output[output.index("{") :])
        time.sleep(3)
        counts = Counter(RECEIVED.findall(worker_log.read_text(errors="replace")))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    run = result["run"]
    placed, delivered = run["orders_placed"], run["orders_delivered"]
    total = sum(counts.values())
    print(f"processes: {', '.join(commands)}; logs in {log_dir}")
    print(f"orders placed {placed}, dispatched {run['orders_dispatched']}, delivered {delivered}")
    print(
        f"tasks from /metrics during the run (simulate.py): {result['celery_tasks_in_run']:.0f}, "
        f"{result['celery_tasks_per_order']} per order placed"
    )
    print(f"tasks received by the worker (setup and run): {total}")
    for name, count in counts.most_common():
        print(f"  {name:45} {count:6}  {count / max(delivered, 1):6.2f} per delivered order")
    print(f"  {'total':45} {total:6}  {total / max(delivered, 1):6.2f} per delivered order")
    print(f"push latency ms p50/p99: {result['push_latency_ms']['p50']} / {result['push_latency_ms']['p99']}")


if __name__ == "__main__":
    main()
