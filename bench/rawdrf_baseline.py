"""The HTTP benchmarks' baseline: `rawdrf.py` (plain Django + DRF, one model, `GET /ping`,
`GET /items`, `POST /items`) served by gunicorn sync workers, the way Django users serve a REST API.

The project is measured beside it in the same run, with the same number of worker processes, the same
load generator and the same concurrency.
"""

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from bench.harness import ROOT, free_port, serving

DEFAULT_BASELINE = ROOT / ".." / "shared" / "bench" / "rawdrf.py"


def add_baseline_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--baseline",
        type=Path,
        default=DEFAULT_BASELINE,
        help="the plain Django + DRF baseline script, served by gunicorn (default: %(default)s)",
    )
    parser.add_argument(
        "--baseline-db",
        help="database the baseline (re)creates; default: the bench database's name + _rawdrf",
    )


def baseline_database(args: argparse.Namespace) -> str:
    """The baseline's own scratch database, beside the bench's so that parallel runs do not share one."""
    return args.baseline_db or urlparse(os.environ["DATABASE_URL"]).path.lstrip("/") + "_rawdrf"


@contextmanager
def rawdrf_server(script: Path, *, workers: int, database: str) -> Iterator[int]:
    """Set up the baseline's database (dropped and refilled with 20 rows), run it under
    `gunicorn -w workers` on a free loopback port from the script's folder; yields the port."""
    script = script.resolve()
    if not script.is_file():
        raise SystemExit(f"baseline not found: {script} (pass --baseline)")
    env = {name: value for name, value in os.environ.items() if name != "DJANGO_SETTINGS_MODULE"}
    env["RAW_DB"] = database
    subprocess.run(
        [sys.executable, script.name, "setup"],
        cwd=script.parent,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}"]
    command += ["--log-level", "warning", f"{script.stem}:application"]
    with serving(command, port=port, cwd=script.parent, env=env) as served:
        yield served
