"""How the project scales out on this machine: 1, 2 and 4 `web` replicas and 1, 2 and 4 `ws` processes
behind nginx, measured in one run: requests/s, order streams held, location fixes/s, and the CPU each
process type spends per unit (from /proc), which says where the growth stops and why.

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/scaling_bench.py \
        [--processes 1,2,4] [--seconds 5] [--rounds 1] [--sockets-per-process 1000] [--drivers 200] \
        [--only web,sockets,fixes] [--write]

Needs `nginx` on PATH (Debian: `apt-get install nginx`; it runs here as a plain child process with a
config written to a temporary folder, listening on a free loopback port) and `wrk` for the HTTP load
(else the Python client of `bench/http_bench.py`). The proxy routes as `deploy/nginx.conf` does: `/ws/`
to the ws processes, the rest to web, round robin, no sticky sessions.

- web: N replicas, each the Procfile's `web` line (its own gunicorn master, its own port) with
  WEB_CONCURRENCY=1, as `docker compose --scale web=N` or a Deployment's replicas run it; one extra point
  has one replica with WEB_CONCURRENCY=4 (the kernel balancing inside one master), and one has one
  replica without the proxy (what nginx costs). Load: wrk, 16 keep-alive connections, on a merchant page
  (`GET /api/v1/merchants/<id>`, a cached catalog read).
- sockets: N ws processes, each the Procfile's `ws` line on its own port; customers open
  `--sockets-per-process` x N order streams (`/ws/orders/<id>/`, JWT) through nginx and hold them with
  the server's heartbeats flowing (WEBSOCKET_HEARTBEAT_SECONDS=2 here, 25 in production); memory per
  socket is the ws processes' RSS growth over the sockets opened.
- fixes: the same ws processes; `--drivers` driver sockets (the client of `bench/driver_stream_bench.py`)
  send one fix per message back to back through nginx and wait for the ack; nothing-lost is checked.

Every point reports the CPU seconds, per unit of work, of the servers, nginx, PostgreSQL, Redis and the
load generator, and the machine's busy share (/proc/stat). `--write` writes bench/scaling_RESULTS.md
(the part from "## Notes" on is kept).
"""

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The servers started below inherit this: heartbeats often enough to flow during a short hold.
os.environ.setdefault("WEBSOCKET_HEARTBEAT_SECONDS", "2")

from bench import driver_stream_bench as stream  # noqa: E402  (sets up Django with SERVER_ENV)
from bench import ws_opens_bench as opens  # noqa: E402
from bench.harness import (  # noqa: E402
    ProcfileProcess,
    bench_merchant,
    free_port,
    migrate,
    process_cpu_seconds,
    procfile_line,
    wait_for_port,
)
from bench.http_bench import COMMON_HEADERS, Target, create_database, run_python, run_wrk  # noqa: E402

RESULTS = ROOT / "bench" / "scaling_RESULTS.md"
NOTES = "## Notes"
MERCHANT_SLUG = "scaling-bench"
HTTP_CONNECTIONS = 16
CLIENT_PROCESSES = 2
#: Handshakes in flight at once per client process (uvicorn drops a handshake slower than 10 s).
OPEN_PARALLELISM = 25
#: The servers' own output (their logs), kept out of the bench's.
SERVER_LOG = Path(tempfile.gettempdir()) / "scaling-bench-servers.log"

NGINX_CONF = """
worker_processes auto;
worker_rlimit_nofile 65536;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 30000; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream loship_web {{ {web} }}
    upstream loship_ws {{ {ws} }}
    map $http_upgrade $connection_upgrade {{ default upgrade; "" close; }}
    map $http_x_forwarded_proto $forwarded_proto {{ default $http_x_forwarded_proto; "" $scheme; }}
    server {{
        listen 127.0.0.1:{port};
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $forwarded_proto;
        location /ws/ {{
            proxy_pass http://loship_ws;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-Proto $forwarded_proto;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
            proxy_buffering off;
        }}
        location / {{
            proxy_pass http://loship_web;
            proxy_connect_timeout 5s;
            proxy_read_timeout 35s;
        }}
    }}
}}
"""


# --- CPU and memory from /proc ------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in task.read_text().split()]
    return found


def tree(pid: int) -> list[int]:
    """`pid` and its descendants."""
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        queue += _children(current)
    return pids


def _summed(pids: list[int], read: Callable[[int], float]) -> float:
    """`read` of every process, added up (a process that has exited counts nothing)."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += read(pid)
    return total


def cpu_of(pids: list[int]) -> float:
    return _summed(pids, process_cpu_seconds)


def _rss(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def rss_bytes(pids: list[int]) -> float:
    return _summed(pids, _rss)


def named(name: str) -> list[int]:
    """Every process whose command name is `name` (PostgreSQL's backends, redis-server)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == name:
                    pids.append(int(entry.name))
    return pids


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs so far (/proc/stat)."""
    fields = [float(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


class Meter:
    """CPU seconds per part over a window: servers, nginx, PostgreSQL, Redis, the load generator
    (this process's children that ended, wrk, plus the forked client processes), and the machine."""

    def __init__(self, servers: list[int], nginx: list[int], clients: list[int] | None = None) -> None:
        self.groups = {"server": servers, "nginx": nginx, "postgres": named("postgres")}
        self.clients = clients or []

    def read(self) -> dict[str, float]:
        """The counters now; a group's processes as `name:pid`, so that one that exits between two
        reads (a PostgreSQL backend closing) is left out of the difference instead of subtracted."""
        values = {
            f"{name}:{process}": cpu_of([process])
            for name, pids in self.groups.items()
            for pid in pids
            for process in tree(pid)
        }
        values["redis"] = stream.redis_cpu_seconds()
        ended = resource.getrusage(resource.RUSAGE_CHILDREN)
        values["client"] = ended.ru_utime + ended.ru_stime + cpu_of(self.clients)
        values["busy"], values["total"] = machine_busy()
        return values

    @staticmethod
    def delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        spent = {name: 0.0 for name in ("server", "nginx", "postgres")}
        for key in before.keys() & after.keys() - {"busy", "total"}:
            name = key.partition(":")[0]
            # never negative: a pid reused by a new process between the reads counts nothing
            spent[name] = spent.get(name, 0.0) + max(0.0, after[key] - before[key])
        spent["machine_busy_share"] = (after["busy"] - before["busy"]) / max(
            after["total"] - before["total"], 1
        )
        return spent


# --- processes ----------------------------------------------------------------------------------


@contextlib.contextmanager
def nginx(web_ports: list[int], ws_ports: list[int]) -> Iterator[tuple[int, int]]:
    """nginx in front of the given ports; yields (its port, its master's pid)."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    tmp = Path(tempfile.mkdtemp(prefix="scaling-nginx-"))
    tmp.chmod(0o777)  # nginx's workers run as an unprivileged user when started as root
    port = free_port()

    def upstream(ports: list[int]) -> str:
        return " ".join(f"server 127.0.0.1:{p};" for p in ports) or "server 127.0.0.1:9;"

    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=tmp, port=port, web=upstream(web_ports), ws=upstream(ws_ports)))
    process = subprocess.Popen([binary, "-p", str(tmp), "-c", str(conf), "-g", "daemon off;"], cwd=ROOT)
    try:
        wait_for_port(port, timeout=20)
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(timeout=15)
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def replicas(line: str, count: int, *, concurrency: int = 1) -> Iterator[list[ProcfileProcess]]:
    """`count` copies of a Procfile line, each on its own port (WEB_CONCURRENCY=`concurrency`)."""
    os.environ["WEB_CONCURRENCY"] = str(concurrency)
    with contextlib.ExitStack() as stack:
        yield [
            stack.enter_context(ProcfileProcess(line, port=free_port(), log_path=SERVER_LOG))
            for _ in range(count)
        ]


def wait_healthy(port: int) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        url = f"http://127.0.0.1:{port}/healthz"
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310
            if answer.status == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"/healthz on port {port} did not answer")


# --- web: requests/s ----------------------------------------------------------------------------


def web_point(
    label: str, count: int, concurrency: int, target: Target, args: argparse.Namespace
) -> dict[str, Any]:
    drive = run_wrk if shutil.which("wrk") and args.client != "python" else run_python
    with (
        tempfile.TemporaryDirectory(prefix="scaling-wrk-") as folder,
        replicas(procfile_line("web"), count, concurrency=concurrency) as servers,
    ):
        scripts = Path(folder)
        ports = [server.port for server in servers if server.port]
        with contextlib.ExitStack() as stack:
            if label == "direct":
                port, nginx_pids = ports[0], []
            else:
                port, nginx_pid = stack.enter_context(nginx(ports, []))
                nginx_pids = [nginx_pid]
            for replica in ports:
                wait_healthy(replica)
            drive(port, target, seconds=2, connections=HTTP_CONNECTIONS, scripts=scripts)  # warm-up
            meter = Meter([server.pid for server in servers], nginx_pids)
            rows: list[tuple[dict[str, float], dict[str, float]]] = []  # (load, CPU spent)
            for _ in range(args.rounds):
                before = meter.read()
                row = drive(port, target, seconds=args.seconds, connections=HTTP_CONNECTIONS, scripts=scripts)
                rows.append((row, Meter.delta(before, meter.read())))
    best, spent = sorted(rows, key=lambda pair: pair[0]["rps"])[len(rows) // 2]
    requests = max(best["requests"], 1)
    result = {
        "label": label,
        "replicas": count,
        "web_concurrency": concurrency,
        "rps": statistics.median(row["rps"] for row, _ in rows),
        "rounds": [round(row["rps"]) for row, _ in rows],
        "p50_ms": best["p50_ms"],
        "p99_ms": best["p99_ms"],
        "errors": sum(int(row["errors"]) for row, _ in rows),
        "cpu_us_per_request": {k: v / requests * 1e6 for k, v in spent.items() if k != "machine_busy_share"},
        "machine_busy_share": spent["machine_busy_share"],
    }
    print(f"web {label}: {result['rps']:,.0f} req/s, p99 {result['p99_ms']:.1f} ms, "
          f"busy {result['machine_busy_share']:.0%}, CPU us/request {_short(result['cpu_us_per_request'])}",
          flush=True)  # fmt: skip
    return result


def _short(values: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:.0f}" for name, value in values.items())


# --- sockets: order streams held ----------------------------------------------------------------


def _hold_process(
    port: int, watchers: list[tuple[int, str]], hold: float, ready: Any, go: Any, results: Any
) -> None:
    import websockets

    async def main() -> dict[str, Any]:
        gate = asyncio.Semaphore(OPEN_PARALLELISM)
        refused = 0
        heartbeats = 0

        async def one(watcher: tuple[int, str]) -> Any:
            nonlocal refused
            order_id, token = watcher
            async with gate:
                try:
                    socket = await websockets.connect(
                        f"ws://127.0.0.1:{port}/ws/orders/{order_id}/",
                        subprotocols=[websockets.Subprotocol(f"bearer.{token}")],
                        open_timeout=60,
                        ping_interval=None,
                    )
                    first = json.loads(await asyncio.wait_for(socket.recv(), 60))
                except Exception:  # a refusal is counted, not raised
                    refused += 1
                    return None
            if first.get("type") != "order.snapshot":
                refused += 1
                return None
            return socket

        async def listen(socket: Any, until: float) -> None:
            nonlocal heartbeats
            with contextlib.suppress(TimeoutError, websockets.ConnectionClosed):
                while (left := until - time.time()) > 0:
                    message = json.loads(await asyncio.wait_for(socket.recv(), left))
                    heartbeats += message.get("type") == "heartbeat"

        started = time.monotonic()
        sockets = [s for s in await asyncio.gather(*(one(w) for w in watchers)) if s is not None]
        opened_in = time.monotonic() - started
        await asyncio.to_thread(ready.wait)
        await asyncio.to_thread(go.wait)  # the parent has read the meters
        until = time.time() + hold
        await asyncio.gather(*(listen(socket, until) for socket in sockets))
        await asyncio.to_thread(ready.wait)  # the parent reads the meters again
        await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)
        return {"held": len(sockets), "refused": refused, "heartbeats": heartbeats, "opened_in": opened_in}

    results.put(asyncio.run(main()))


def sockets_point(count: int, watchers: list[tuple[int, str]], args: argparse.Namespace) -> dict[str, Any]:
    wanted = watchers[: args.sockets_per_process * count]
    with (
        replicas(procfile_line("ws"), count) as servers,
        nginx([], [s.port for s in servers if s.port]) as proxy,
    ):
        port, nginx_pid = proxy
        pids = [server.pid for server in servers]
        rss_before = rss_bytes(pids)
        nginx_rss_before = rss_bytes(tree(nginx_pid))
        context = multiprocessing.get_context("fork")
        ready, go, results = (
            context.Barrier(CLIENT_PROCESSES + 1),
            context.Barrier(CLIENT_PROCESSES + 1),
            context.Queue(),
        )
        clients = [
            context.Process(
                target=_hold_process, args=(port, wanted[n::CLIENT_PROCESSES], args.hold, ready, go, results)
            )
            for n in range(CLIENT_PROCESSES)
        ]
        for client in clients:
            client.start()
        ready.wait(timeout=600)
        rss_after = rss_bytes(pids)
        nginx_rss_after = rss_bytes(tree(nginx_pid))
        meter = Meter(pids, [nginx_pid], [client.pid for client in clients if client.pid])
        before = meter.read()
        go.wait(timeout=60)
        ready.wait(timeout=args.hold + 120)
        spent = Meter.delta(before, meter.read())
        got = [results.get(timeout=120) for _ in clients]
        for client in clients:
            client.join()
    held = sum(g["held"] for g in got)
    socket_seconds = max(held * args.hold, 1)
    result = {
        "processes": count,
        "wanted": len(wanted),
        "held": held,
        "refused": sum(g["refused"] for g in got),
        "heartbeats": sum(g["heartbeats"] for g in got),
        "expected_heartbeats": held * args.hold / float(os.environ["WEBSOCKET_HEARTBEAT_SECONDS"]),
        "opens_per_s": held / max(max(g["opened_in"] for g in got), 1e-9),
        "ws_rss_kib_per_socket": (rss_after - rss_before) / max(held, 1) / 1024,
        "nginx_rss_kib_per_socket": (nginx_rss_after - nginx_rss_before) / max(held, 1) / 1024,
        "ws_rss_mib": rss_after / 2**20,
        "cpu_us_per_socket_second": {
            k: v / socket_seconds * 1e6 for k, v in spent.items() if k != "machine_busy_share"
        },
        "machine_busy_share": spent["machine_busy_share"],
    }
    print(f"sockets x{count}: held {held:,} of {len(wanted):,} ({result['refused']} refused), "
          f"{result['opens_per_s']:,.0f} opens/s, heartbeats {result['heartbeats']:,} "
          f"(expected ~{result['expected_heartbeats']:,.0f}), "
          f"ws RSS {result['ws_rss_kib_per_socket']:.1f} KiB/socket, "
          f"nginx {result['nginx_rss_kib_per_socket']:.1f} KiB/socket, held CPU us per socket-second "
          f"{_short(result['cpu_us_per_socket_second'])}", flush=True)  # fmt: skip
    return result


# --- fixes: the driver stream ---------------------------------------------------------------------


def fixes_point(count: int, drivers: list[tuple[int, str]], args: argparse.Namespace) -> dict[str, Any]:
    driver_ids = [driver_id for driver_id, _ in drivers]
    with (
        replicas(procfile_line("ws"), count) as servers,
        nginx([], [s.port for s in servers if s.port]) as proxy,
    ):
        port, nginx_pid = proxy
        pids = [server.pid for server in servers]
        meter = Meter(pids, [nginx_pid])
        # run_round counts "the server's" CPU by one pid: count every ws process instead.
        stream.process_cpu_seconds = lambda pid: cpu_of(pids)
        rows, lost = [], []
        for _ in range(args.rounds):
            stream.reset_positions(driver_ids)
            before = meter.read()
            row = stream.run_round(
                port, drivers, server_pid=pids[0], fixes=1, seconds=args.seconds, processes=CLIENT_PROCESSES
            )
            spent = Meter.delta(before, meter.read())
            lost += stream.check_nothing_lost(row["sockets"])
            row["spent"] = spent
            rows.append(row)
    best = sorted(rows, key=lambda r: r["fixes_per_s"])[len(rows) // 2]
    result = {
        "processes": count,
        "fixes_per_s": statistics.median(r["fixes_per_s"] for r in rows),
        "rounds": [round(r["fixes_per_s"]) for r in rows],
        "p50_ms": best["p50_ms"],
        "p99_ms": best["p99_ms"],
        "server_cpu_us_per_fix": best["server_cpu_us"],
        "redis_cpu_us_per_fix": best["redis_cpu_us"],
        "machine_busy_share": best["spent"]["machine_busy_share"],
        # nginx and postgres over the whole round (connect, warm-up, window), per fix of the window
        "nginx_cpu_us_per_fix": best["spent"]["nginx"] / max(best["fixes_per_s"] * args.seconds, 1) * 1e6,
        "client_cpu_us_per_fix": best["spent"]["client"] / max(best["fixes_per_s"] * args.seconds, 1) * 1e6,
        "lost": len(lost),
    }
    print(f"fixes x{count}: {result['fixes_per_s']:,.0f} fixes/s, p99 {result['p99_ms']:.1f} ms, CPU us/fix "
          f"ws {result['server_cpu_us_per_fix']:.0f}, Redis {result['redis_cpu_us_per_fix']:.0f}, nginx "
          f"{result['nginx_cpu_us_per_fix']:.0f}, client {result['client_cpu_us_per_fix']:.0f}, "
          f"busy {result['machine_busy_share']:.0%}, lost {len(lost)}",
          flush=True)  # fmt: skip
    return result


# --- the run --------------------------------------------------------------------------------------


def merchant_target() -> Target:
    from merchants.models import Merchant

    Merchant.objects.filter(slug=MERCHANT_SLUG).delete()
    merchant = bench_merchant(name="Scaling bench", slug=MERCHANT_SLUG)
    return Target(f"/api/v1/merchants/{merchant.pk}", headers=dict(COMMON_HEADERS))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--processes", default="1,2,4", help="process counts to measure")
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="measured seconds per HTTP and fixes round"
    )
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--sockets-per-process", type=int, default=1000)
    parser.add_argument("--hold", type=float, default=8.0, help="seconds the sockets are held and metered")
    parser.add_argument("--drivers", type=int, default=200, help="driver sockets for the fixes")
    parser.add_argument("--only", default="web,sockets,fixes")
    parser.add_argument("--client", choices=("auto", "python"), default="auto")
    parser.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(ROOT)}")
    args = parser.parse_args()
    for name in ("DATABASE_URL", "REDIS_URL"):
        if name not in os.environ:
            parser.error(f"{name} must be set (a scratch database and Redis db)")
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        parser.error("nginx is needed (apt-get install nginx)")
    counts = [int(n) for n in args.processes.split(",")]
    parts = args.only.split(",")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))
    create_database(
        urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")
    )  # a clean checkout's scratch database
    migrate()
    report: dict[str, Any] = {"load_before": os.getloadavg(), "cpus": os.cpu_count(), "args": vars(args)}
    started = time.monotonic()
    if "web" in parts:
        target = merchant_target()
        points = (
            [("direct", 1, 1)]
            + [(f"{n} replica(s)", n, 1) for n in counts]
            + [("1 replica, 4 workers", 1, 4)]
        )
        report["web"] = [web_point(label, n, c, target, args) for label, n, c in points]
    if "sockets" in parts:
        watchers = opens.seed(args.sockets_per_process * max(counts))
        try:
            report["sockets"] = [sockets_point(n, watchers, args) for n in counts]
        finally:
            opens.cleanup()
    if "fixes" in parts:
        drivers = stream.create_drivers(args.drivers)
        try:
            report["fixes"] = [fixes_point(n, drivers, args) for n in counts]
        finally:
            from users.models import User

            User.objects.filter(phone__startswith=stream.PHONE_PREFIX).delete()
    report["seconds_taken"] = time.monotonic() - started
    report["load_after"] = os.getloadavg()
    print(json.dumps(report, indent=1, default=str))
    if args.write:
        previous = RESULTS.read_text() if RESULTS.exists() else ""
        notes = "\n" + previous[previous.index(NOTES) :] if NOTES in previous else ""
        RESULTS.write_text(markdown(report) + notes)
        print(f"wrote {RESULTS.relative_to(ROOT)}")


def markdown(report: dict[str, Any]) -> str:
    args = report["args"]
    command = (
        f"python bench/scaling_bench.py --processes {args['processes']} --seconds {args['seconds']:g} "
        f"--rounds {args['rounds']} --sockets-per-process {args['sockets_per_process']} "
        f"--hold {args['hold']:g} "
        f"--drivers {args['drivers']} --only {args['only']} --write"
    )
    load = (
        ", ".join(f"{v:.2f}" for v in report["load_before"]),
        ", ".join(f"{v:.2f}" for v in report["load_after"]),
    )
    lines = [
        "# Scaling out on this machine: web replicas and ws processes behind nginx",
        "",
        f"    DATABASE_URL=... REDIS_URL=... {command}",
        "",
        f"One run, {report['cpus']} cores, Python {platform.python_version()}; PostgreSQL, Redis, nginx and",
        "the load generators on the same cores; the other engineers' processes stopped during the run",
        "(SIGSTOP).",
        f"Load average before: {load[0]}; after: {load[1]}; {report['seconds_taken']:.0f} s in all.",
        "",
    ]
    if "web" in report:
        direct = report["web"][0]["rps"]
        one = next(r["rps"] for r in report["web"] if r["replicas"] == 1 and r["label"] != "direct")
        lines += [
            "## web: requests/s on a merchant page (`GET /api/v1/merchants/<id>`)",
            "",
            f"wrk, {HTTP_CONNECTIONS} keep-alive connections, {args['seconds']:g} s after a 2 s warm-up.",
            "Each replica is the Procfile's `web` line on its own port (WEB_CONCURRENCY=1 unless said);",
            "nginx round robin.",
            "CPU per request in microseconds, over the measured window (server = the replicas' gunicorn",
            "processes; client = wrk).",
            "",
            "| point | req/s | vs 1 replica | p50 ms | p99 ms | errors | server | nginx | PostgreSQL | Redis "
            "| client | machine busy |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in report["web"]:
            cpu = row["cpu_us_per_request"]
            lines.append(
                f"| {row['label']} | {row['rps']:,.0f} | {row['rps'] / one:.2f}x | {row['p50_ms']:.1f} "
                f"| {row['p99_ms']:.1f} | {row['errors']} | {cpu['server']:.0f} | {cpu['nginx']:.0f} "
                f"| {cpu['postgres']:.0f} | {cpu['redis']:.0f} | {cpu['client']:.0f} "
                f"| {row['machine_busy_share']:.0%} |"
            )
        lines += [
            "",
            f"Direct (no proxy) {direct:,.0f} req/s against {one:,.0f} through nginx, one replica.",
            "",
        ]
    if "sockets" in report:
        lines += [
            "## ws: customer order streams held",
            "",
            f"{args['sockets_per_process']:,} sockets per ws process opened through nginx by",
            f"{CLIENT_PROCESSES} client processes, then held {args['hold']:g} s with the server's heartbeat",
            "every 2 s (WEBSOCKET_HEARTBEAT_SECONDS=2; production: 25 s). CPU per held socket per second,",
            "in microseconds, over the hold (server = the ws processes; client = the client processes).",
            "",
            "| ws processes | held / opened | refused | opens/s | heartbeats got / expected "
            "| ws RSS KiB/socket "
            "| nginx RSS KiB/socket | ws RSS MiB | server | nginx | Redis | client | machine busy |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]  # fmt: skip
        for row in report["sockets"]:
            cpu = row["cpu_us_per_socket_second"]
            lines.append(
                f"| {row['processes']} | {row['held']:,} / {row['wanted']:,} | {row['refused']} "
                f"| {row['opens_per_s']:,.0f} | {row['heartbeats']:,} / {row['expected_heartbeats']:,.0f} "
                f"| {row['ws_rss_kib_per_socket']:.1f} | {row['nginx_rss_kib_per_socket']:.1f} "
                f"| {row['ws_rss_mib']:.0f} "
                f"| {cpu['server']:.1f} | {cpu['nginx']:.1f} | {cpu['redis']:.1f} | {cpu['client']:.1f} "
                f"| {row['machine_busy_share']:.0%} |"
            )
        lines.append("")
    if "fixes" in report:
        one = report["fixes"][0]["fixes_per_s"]
        lines += [
            "## ws: location fixes/s (the driver stream)",
            "",
            f"{args['drivers']} driver sockets through nginx, one fix per message, back to back, each",
            f"waiting for its ack ({CLIENT_PROCESSES} client processes, `bench/driver_stream_bench.py`'s",
            f"client); 1 s warm-up then {args['seconds']:g} s measured.",
            "Nothing lost is checked after every round (acks, Redis, the throttled PostgreSQL save).",
            "",
            "| ws processes | fixes/s | vs 1 process | p50 ms | p99 ms | ws CPU us/fix | Redis CPU us/fix "
            "| nginx CPU us/fix | client CPU us/fix | machine busy | lost |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]  # fmt: skip
        for row in report["fixes"]:
            lines.append(
                f"| {row['processes']} | {row['fixes_per_s']:,.0f} | {row['fixes_per_s'] / one:.2f}x "
                f"| {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['server_cpu_us_per_fix']:.0f} "
                f"| {row['redis_cpu_us_per_fix']:.0f} | {row['nginx_cpu_us_per_fix']:.0f} "
                f"| {row['client_cpu_us_per_fix']:.0f} "
                f"| {row['machine_busy_share']:.0%} | {row['lost']} |"
            )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
