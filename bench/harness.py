"""Shared pieces of the HTTP benchmarks: the server environment, a uvicorn process on a free port,
a closed-loop load generator, and median summaries. Every figure a benchmark reports is a ratio
against a baseline endpoint measured in the same run, on the same server.
"""

import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

#: Production-like settings for a local server: DEBUG off, no HTTPS redirect, quiet logs.
SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "loship.settings",
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-" + "b" * 40,
    "FAST_PASSWORD_HASHING": "1",
    "SECURE_SSL_REDIRECT": "0",
    "STATIC_MANIFEST": "0",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "LOG_LEVEL": "WARNING",
}

#: Builds the n-th request of client `index`: (body or None, headers).
RequestMaker = Callable[[int, int], tuple[bytes | None, dict[str, str]]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def migrate() -> None:
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, check=True)


@contextmanager
def serving(command: list[str], *, port: int, cwd: Path, env: dict[str, str]) -> Iterator[int]:
    """Run a server `command` listening on `port` until the block ends; yields the port once it accepts."""
    server = subprocess.Popen(command, cwd=cwd, env=env)
    try:
        for _ in range(150):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=15)


def procfile_line(name: str) -> str:
    """The command of the Procfile's `name:` process line."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.removeprefix(f"{name}:").strip()
    raise SystemExit(f"Procfile has no {name}: line")


class ProcfileProcess:
    """One Procfile line run through the shell as production runs it (PORT, WS_CONCURRENCY=1 and the
    venv's PATH added to the environment), which can be stopped and started again as a deploy does.
    A `port` makes `start` wait until the port accepts connections."""

    def __init__(self, command: str, *, port: int | None = None, log_path: Path | None = None) -> None:
        self.command, self.port, self.log_path = command, port, log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "ProcfileProcess":
        env = dict(os.environ, WS_CONCURRENCY="1")
        if self.port is not None:
            env["PORT"] = str(self.port)
        env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
        output = self.log_path.open("ab") if self.log_path else None
        self.process = subprocess.Popen(
            ["sh", "-c", f"exec {self.command}"], cwd=ROOT, env=env, stdout=output, stderr=output
        )
        if self.port is not None:
            wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def __enter__(self) -> "ProcfileProcess":
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def wait_for_port(port: int, *, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on port {port} after {timeout:.0f} s")


@contextmanager
def uvicorn_server(*, workers: int = 1) -> Iterator[int]:
    """Run `loship.asgi` under uvicorn with the current environment; yields its port."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "loship.asgi:application", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--no-access-log", "--log-level", "warning", "--workers", str(workers)]
    with serving(command, port=port, cwd=ROOT, env=dict(os.environ)) as served:
        yield served


def load(
    port: int,
    path: str,
    make_request: RequestMaker,
    seconds: float,
    concurrency: int,
    *,
    method: str = "POST",
) -> dict[str, float]:
    """`concurrency` keep-alive clients send requests back to back for `seconds`; 2xx count as done."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(index: int) -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = 0
        while time.monotonic() < deadline:
            body, headers = make_request(index, n)
            n += 1
            start = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            elapsed = time.perf_counter() - start
            with lock:
                if 200 <= response.status < 300:
                    latencies.append(elapsed)
                else:
                    errors += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / wall,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (`fraction` 0.99 is p99); NaN when there are no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def median_of(rows: list[dict[str, float]]) -> dict[str, float]:
    """Medians of the rounds' rates and latencies; totals of requests and errors."""
    return {
        "rps": statistics.median(r["rps"] for r in rows),
        "p50_ms": statistics.median(r["p50_ms"] for r in rows),
        "p99_ms": statistics.median(r["p99_ms"] for r in rows),
        "errors": sum(r["errors"] for r in rows),
        "requests": sum(r["requests"] for r in rows),
    }


def bench_merchant(*, name: str, slug: str) -> Any:
    """An open merchant in District 1 for a benchmark's orders (Django must be set up)."""
    from merchants.models import Merchant

    return Merchant.objects.create(
        name=name,
        slug=slug,
        lat=Decimal("10.776900"),
        lng=Decimal("106.700900"),
        address="1 Lê Lợi",
        phone="+842838000000",
        min_order_vnd=0,
        delivery_radius_m=8000,
        prep_minutes=15,
        is_active=True,
    )


def accepted_order(*, code: str, customer: Any, merchant: Any, now: datetime) -> Any:
    """An unsaved accepted cash order of `customer` at `merchant` (for bulk_create: setup, not measured)."""
    from orders.models import Order, OrderStatus, PaymentMethod, PaymentStatus

    return Order(
        code=code,
        customer=customer,
        merchant=merchant,
        status=OrderStatus.ACCEPTED,
        version=1,
        delivery_address="20 Hai Bà Trưng",
        delivery_lat=Decimal("10.785000"),
        delivery_lng=Decimal("106.707000"),
        customer_phone=customer.phone,
        distance_m=1500,
        subtotal_vnd=85000,
        delivery_fee_vnd=15000,
        service_fee_vnd=3000,
        total_vnd=103000,
        payment_method=PaymentMethod.CASH,
        payment_status=PaymentStatus.COD_PENDING,
        prep_minutes=10,
        eta=now + timedelta(minutes=30),
        accepted_at=now,
    )
