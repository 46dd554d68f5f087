"""The system a city run drives, started as `make run` starts it: the Procfile's `release` line once, then
every other line (web, ws, worker, beat, relay) in its own process group on its own port, against the
run's database and a private redis-server. A fault may SIGKILL any of them and start it again, and may
stop the Redis (nothing else uses it, so stopping it harms nobody else on the machine).

Each process logs to `<log dir>/<name>.log` (JSON lines, production settings: DEBUG off). The processes
are tests/processes.py's: each in its own session (a kill reaches gunicorn's and Celery's children),
started and waited for until it answers or logs that it is ready.
"""

import contextlib
import json
import os
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.harness import ROOT, free_port
from devtools.__main__ import procfile_lines
from tests.processes import LiveProcess, RedisServer

#: How each Procfile process says it is up, besides web and ws (which answer /healthz): a log line.
READY_LOG_LINES = {"worker": " ready.", "relay": "relay_outbox: listening", "beat": "beat: Starting"}


class ProcfileProcess(LiveProcess):
    """One Procfile line run through sh, as `make run` runs it, on its own port."""

    def __init__(self, *, name: str, command: str, env: dict[str, str], log_path: Path) -> None:
        self.name, self.port = name, free_port()
        super().__init__(
            args=["/bin/sh", "-c", f"exec {command}"], env={**env, "PORT": str(self.port)}, log_path=log_path
        )

    def is_ready(self) -> bool:
        if self.name in ("web", "ws"):
            try:
                return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1.0).status_code == 200
            except httpx.HTTPError:
                return False
        marker = READY_LOG_LINES.get(self.name)
        return marker is None or marker in self.log_since_start()


def private_redis(log_dir: Path) -> RedisServer:
    """A redis-server of the run's own on a free port, without persistence (a restart starts it empty)."""
    server = RedisServer(log_path=log_dir / "redis.log")
    server.start()
    return server


@dataclass
class Stack:
    """The Procfile's processes with the run's settings; `web` and `ws` on ports of their own (the app
    sends /ws/ to ws and the rest to web, as nginx does in production)."""

    env: dict[str, str]
    log_dir: Path
    processes: dict[str, ProcfileProcess] = field(default_factory=dict)

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.processes['web'].port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.processes['ws'].port}"

    def start(self) -> None:
        """The release line (migrate) to the end, then every other line at once, each waited for."""
        env = {**self.env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{self.env.get('PATH', '')}"}
        for name, command in procfile_lines():
            if name == "release":
                with (self.log_dir / "release.log").open("ab") as log:
                    subprocess.run(["/bin/sh", "-c", command], cwd=ROOT, env=env, check=True, stdout=log)
                continue
            self.processes[name] = ProcfileProcess(
                name=name, command=command, env=env, log_path=self.log_dir / f"{name}.log"
            )
        with ThreadPoolExecutor(len(self.processes)) as pool:
            list(pool.map(ProcfileProcess.start, self.processes.values()))

    def stop(self) -> None:
        with ThreadPoolExecutor(len(self.processes) or 1) as pool:
            list(pool.map(ProcfileProcess.stop, self.processes.values()))

    def error_lines(self, since: dict[str, int]) -> dict[str, dict[str, Any]]:
        """ERROR (and worse) log lines each process wrote since the offsets in `since`: how many, and the
        commonest first lines."""
        found: dict[str, dict[str, Any]] = {}
        for name, process in self.processes.items():
            messages: Counter[str] = Counter()
            with process.log_path.open("rb") as log:
                log.seek(since.get(name, 0))
                for raw in log:
                    with contextlib.suppress(ValueError):
                        line = json.loads(raw)
                        if isinstance(line, dict) and str(line.get("level", "")).upper() in (
                            "ERROR",
                            "CRITICAL",
                        ):
                            first = str(line.get("message", "")).splitlines() or [""]
                            messages[f"{line.get('logger')}: {first[0][:90]}"] += 1
            if messages:
                found[name] = {"count": sum(messages.values()), "commonest": dict(messages.most_common(3))}
        return found

    def log_sizes(self) -> dict[str, int]:
        return {name: process.log_path.stat().st_size for name, process in self.processes.items()}
