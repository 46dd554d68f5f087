"""The HTTP figures: the project as its Procfile serves it, beside plain Django + DRF, in one run.

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/http_bench.py [--workers 4] [--seconds 8]
        [--rounds 3] [--connections 8] [--baseline PATH] [--only NAME,...] [--web-command CMD]

Seeds the demo city (`manage.py seed_demo`) into its own database (DATABASE_URL's name + `_http`) plus
32 bench customers, sets up the baseline (`rawdrf.py`: one model, `GET /ping`, `GET /items` with 20
rows, `POST /items`; decision 7) in another, and serves both with the same number of processes: the
baseline with `gunicorn -w N`, the project with the `web` line of its Procfile (WEB_CONCURRENCY=N,
production settings: DEBUG off, requests arrive as HTTPS from the proxy), then analyzes both databases
(this machine's PostgreSQL runs without autovacuum). One load generator drives
both with the same connections: wrk when installed, else a Python client in 2 processes. Each round
measures every pair, baseline first then project; the figures are the medians of the rounds:

    health          GET /healthz                                 vs GET /ping
    merchant_page   GET /api/v1/merchants/<id> (warm cache)      vs GET /items (list of 20)
    nearby          GET /api/v1/merchants?... 20 open, by distance vs GET /items
    search          the same with q=bun bo hue                   vs GET /items
    order_list      the demo customer's orders (JWT)             vs GET /items
    order_detail    one of them                                  vs GET /items
    placement       POST /api/v1/orders: 3 lines with options, cash, JWT, a fresh Idempotency-Key
                    (wrk: a Lua script)                           vs POST /items (one-row insert)

Writes bench/http_RESULTS.md and .json (with the command and the machine's load). `--web-command`
serves the project with another command (to compare servers); the results then say so.
"""

import argparse
import json
import multiprocessing
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import free_port, load  # noqa: E402
from bench.rawdrf_baseline import add_baseline_arguments, rawdrf_server  # noqa: E402

RESULTS = ROOT / "bench" / "http_RESULTS"
#: Where the hand-written part of the results file starts (kept when the bench rewrites the figures).
NOTES = "## Notes"
#: Central Ho Chi Minh City (District 1), where the demo city's merchants are.
POINT = (10.776900, 106.700900)
SEARCH = "bun bo hue"
CUSTOMERS = 32
#: Production settings (settings.py defaults) with what a loopback run needs.
PROJECT_ENV = {
    "DJANGO_SETTINGS_MODULE": "loship.settings",
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-" + "h" * 40,
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "STATIC_MANIFEST": "0",  # no collectstatic in a scratch checkout; the API renders no template
    "MERCHANT_ACCEPT_MINUTES": "600",
}
#: Every request says it came through the TLS proxy, as nginx does (SECURE_PROXY_SSL_HEADER).
COMMON_HEADERS = {"Accept": "application/json", "X-Forwarded-Proto": "https"}
TARGETS = {  # name: (minimum req/s ratio, maximum p99 ratio or None)
    "health": (0.8, None),
    "merchant_page": (1.0, None),
    "nearby": (0.5, None),
    "search": (0.4, None),
    "order_list": (0.5, None),
    "order_detail": (0.5, None),
    "placement": (0.35, 3.0),
}

#: wrk script for the POSTs (both sides run it): a fresh Idempotency-Key and the next customer's token
#: on every request. Placeholders are filled in by `post_script`.
WRK_POST = """
local tokens = {%(tokens)s}
local body = %(body)s
local counter = 0
thread_id = 0  -- a global: setup() sets it in each thread
local next_id = 0
function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
end
function request()
  counter = counter + 1
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Accept"] = "application/json"
  headers["X-Forwarded-Proto"] = "https"
  headers["Idempotency-Key"] = string.format("%(nonce)s-%%d-%%d", thread_id, counter)
  if #tokens > 0 then
    headers["Authorization"] = "Bearer " .. tokens[(counter + thread_id) %% #tokens + 1]
  end
  return wrk.format("POST", nil, headers, body)
end
"""


@dataclass
class Target:
    """One side of a pair: a path on a server, GET with headers or POST with bodies."""

    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    tokens: list[str] = field(default_factory=list)


def database_url(name: str) -> str:
    return urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path="/" + name))


def create_database(name: str) -> None:
    import psycopg2

    admin = psycopg2.connect(database_url("postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def analyze(database: str) -> None:
    """Refresh the planner's statistics, as autovacuum does on a production server after a bulk load
    (this machine's shared PostgreSQL runs with autovacuum off: a freshly seeded database would be
    planned as if empty, with sequential scans where production uses indexes)."""
    import psycopg2

    connection = psycopg2.connect(database_url(database))
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    connection.close()


def prepare(database: str) -> dict[str, Any]:
    """Migrate and seed the demo city into `database`, add the bench customers; return the requests'
    ingredients (ids, tokens, the cart)."""
    create_database(database)
    env = {**os.environ, **PROJECT_ENV, "DATABASE_URL": database_url(database)}
    for command in (["migrate", "--no-input", "-v", "0"], ["seed_demo"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    import django

    django.setup()
    from rest_framework_simplejwt.tokens import AccessToken

    from merchants.models import MenuItem, Merchant
    from merchants.selectors import is_open_now
    from orders.models import Order
    from users.models import Role, User
    from users.phone import normalize_phone

    customer = User.objects.get(phone=normalize_phone("0900000002"))
    orders = list(Order.objects.filter(customer=customer).order_by("-id").values_list("id", flat=True))
    page_merchant = max(Merchant.objects.filter(is_active=True), key=lambda m: m.items.count())
    cart = None
    for merchant in Merchant.objects.filter(is_active=True, is_busy=False).order_by("id"):
        if not is_open_now(merchant):
            continue
        items = list(
            MenuItem.objects.filter(merchant=merchant, is_available=True)
            .prefetch_related("option_groups__options")
            .order_by("id")
        )
        if len(items) >= 3 and any(item.option_groups.all() for item in items):
            cart = _cart(merchant, items)
            break
    if cart is None:
        raise SystemExit("no open merchant with 3 dishes in the demo city right now")
    users = [
        User.objects.get_or_create(
            phone=f"+8498800{n:04d}", defaults={"roles": [Role.CUSTOMER], "full_name": f"Bench {n}"}
        )[0]
        for n in range(CUSTOMERS)
    ]
    return {
        "customer_token": str(AccessToken.for_user(customer)),
        "tokens": [str(AccessToken.for_user(user)) for user in users],
        "order_ids": orders,
        "page_merchant_id": page_merchant.pk,
        "cart": cart,
    }


def _cart(merchant: Any, items: list[Any]) -> dict[str, Any]:
    """Three lines with options (what each required group needs, plus one optional extra), above the
    merchant's minimum, delivered 1 km away, paid in cash."""
    with_options = sorted(items, key=lambda item: -len(item.option_groups.all()))[:3]
    lines = []
    for item in with_options:
        option_ids: list[int] = []
        extra_taken = False
        for group in item.option_groups.all():
            count = group.min_select or (0 if extra_taken else 1)  # what is required, or one extra
            extra_taken = extra_taken or not group.min_select
            option_ids += [option.pk for option in list(group.options.all())[:count]]
        lines.append({"item_id": item.pk, "quantity": 2, "option_ids": option_ids})
    return {
        "merchant_id": merchant.pk,
        "lines": lines,
        "delivery_lat": f"{float(merchant.lat) + 0.006:.6f}",
        "delivery_lng": f"{float(merchant.lng) + 0.006:.6f}",
        "delivery_address": "20 Hai Bà Trưng, Quận 1",
        "payment_method": "cash",
    }


def procfile_line(name: str) -> str:
    for raw in (ROOT / "Procfile").read_text().splitlines():
        key, _, command = raw.partition(":")
        if key.strip() == name:
            return command.strip()
    raise SystemExit(f"the Procfile has no {name} line")


def wait_for(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within 90 s:\n{log.read_text()[-3000:]}")


@contextmanager
def project_server(command: str, *, workers: int, database: str, logs: Path) -> Iterator[int]:
    """Run `command` (the Procfile's web line) through sh with PORT and WEB_CONCURRENCY; yields the port."""
    port = free_port()
    env = {**os.environ, **PROJECT_ENV, "DATABASE_URL": database_url(database)}
    env.update(PORT=str(port), WEB_CONCURRENCY=str(workers))
    # The Procfile names its servers bare (gunicorn), as a deployed image has them on PATH.
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    log = logs / "project.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            ["/bin/sh", "-c", command], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", server, log)
        yield port
    finally:
        with suppress(ProcessLookupError):  # it may have exited already
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


# --- load generators ---------------------------------------------------------------------------


def _seconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def run_wrk(
    port: int, target: Target, *, seconds: float, connections: int, scripts: Path
) -> dict[str, float]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency", "--timeout", "10s"]
    for name, value in {**COMMON_HEADERS, **target.headers}.items():
        command += ["-H", f"{name}: {value}"]
    if target.body is not None:
        script = scripts / f"post-{uuid.uuid4().hex[:8]}.lua"
        script.write_text(
            WRK_POST
            % {
                "tokens": ", ".join(json.dumps(token) for token in target.tokens),
                "body": json.dumps(target.body.decode()),
                "nonce": uuid.uuid4().hex,
            }
        )
        command += ["-s", str(script)]
    command.append(f"http://127.0.0.1:{port}{target.path}")
    finished = subprocess.run(command, capture_output=True, text=True, check=True)
    out = finished.stdout
    p50, p99 = (re.search(rf"^\s*{n}%\s+(\S+)[ \t]*$", out, re.M) for n in (50, 99))
    if p50 is None or p99 is None:
        raise SystemExit(f"no latencies from wrk (did every request fail?):\n{out}{finished.stderr}")
    requests, duration = re.search(r"(\d+) requests in ([\d.]+\w+),", out).groups()  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read \d+, write \d+, timeout (\d+)", out)
    errors = int(non_2xx[1]) if non_2xx else 0
    errors += sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    ok = int(requests) - errors
    return {
        "requests": ok,
        "errors": errors,
        "rps": ok / _seconds(duration),
        "p50_ms": _seconds(p50[1]) * 1000,
        "p99_ms": _seconds(p99[1]) * 1000,
    }


def _python_client(args: tuple[int, Target, float, int]) -> dict[str, float]:
    port, target, seconds, connections = args
    headers = {**COMMON_HEADERS, **target.headers}

    def make(index: int, n: int) -> tuple[bytes | None, dict[str, str]]:
        if target.body is None:
            return None, headers
        token = target.tokens[(index * 7 + n) % len(target.tokens)] if target.tokens else ""
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        extra = {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex, **auth}
        return target.body, {**headers, **extra}

    method = "GET" if target.body is None else "POST"
    return load(port, target.path, make, seconds, connections, method=method)


def run_python(
    port: int, target: Target, *, seconds: float, connections: int, scripts: Path
) -> dict[str, float]:
    """Two processes of keep-alive clients; p50/p99 are the worse of the two processes'."""
    per_process = max(1, connections // 2)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        halves = pool.map(_python_client, [(port, target, seconds, per_process)] * 2)
    return {
        "requests": sum(h["requests"] for h in halves),
        "errors": sum(h["errors"] for h in halves),
        "rps": sum(h["rps"] for h in halves),
        "p50_ms": max(h["p50_ms"] for h in halves),
        "p99_ms": max(h["p99_ms"] for h in halves),
    }


# --- the run -----------------------------------------------------------------------------------


def pairs(data: dict[str, Any], nearby_query: dict[str, Any]) -> dict[str, tuple[Target, Target]]:
    raw_list = Target("/items")
    customer = {"Authorization": f"Bearer {data['customer_token']}"}
    order_body = json.dumps(data["cart"]).encode()
    return {
        "health": (Target("/ping"), Target("/healthz")),
        "merchant_page": (raw_list, Target(f"/api/v1/merchants/{data['page_merchant_id']}")),
        "nearby": (raw_list, Target("/api/v1/merchants?" + urlencode(nearby_query))),
        "search": (raw_list, Target("/api/v1/merchants?" + urlencode({**nearby_query, "q": SEARCH}))),
        "order_list": (raw_list, Target("/api/v1/orders", customer)),
        "order_detail": (raw_list, Target(f"/api/v1/orders/{data['order_ids'][0]}", customer)),
        "placement": (
            Target("/items", body=json.dumps({"name": "bench", "price": 1}).encode()),
            Target("/api/v1/orders", body=order_body, tokens=data["tokens"]),
        ),
    }


def get_json(port: int, path: str, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={**COMMON_HEADERS, **(headers or {})}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
        return json.loads(response.read())


def nearby_query(port: int) -> tuple[dict[str, Any], int]:
    """The smallest radius around POINT with a full first page (20) of merchants open now."""
    for radius in (3000, 5000, 8000, 12000, 20000, 30000):
        query = {"lat": POINT[0], "lng": POINT[1], "radius_m": radius, "open_now": "true", "sort": "distance"}
        found = len(get_json(port, "/api/v1/merchants?" + urlencode(query))["results"])
        if found >= 20:
            break
    return query, found


def check_placement(port: int, target: Target) -> None:
    """One order placed before the timed rounds: the cart is valid, so errors later are real."""
    headers = {
        **COMMON_HEADERS, "Content-Type": "application/json", "Authorization": f"Bearer {target.tokens[0]}",
        "Idempotency-Key": uuid.uuid4().hex,
    }  # fmt: skip
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{target.path}", data=target.body, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
            status = response.status
    except urllib.error.HTTPError as error:
        raise SystemExit(f"placement refused ({error.code}): {error.read()[:500]!r}") from error
    if status != 201:
        raise SystemExit(f"placement answered {status}")


def uptime() -> str:
    return subprocess.run(
        ["uptime"], capture_output=True, text=True, env={**os.environ, "TZ": "UTC"}
    ).stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=4, help="processes of each server (default 4)")
    parser.add_argument("--seconds", type=float, default=8.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8, help="concurrent clients")
    parser.add_argument("--only", help="comma-separated pairs to run (default: all)")
    parser.add_argument("--web-command", help="serve the project with this instead of the Procfile web line")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/http_RESULTS.*")
    add_baseline_arguments(parser)
    args = parser.parse_args()
    for name in ("DATABASE_URL", "REDIS_URL"):
        if name not in os.environ:
            parser.error(f"{name} must be set (the bench creates its own databases beside DATABASE_URL's)")
    # Paths as seen from the repository, so that the results file names no machine's folders.
    shown = [os.path.relpath(a, ROOT) if os.path.isabs(a) and os.path.exists(a) else a for a in sys.argv[1:]]
    command_line = "python bench/http_bench.py " + shlex.join(shown)
    base_name = urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")
    client = "wrk" if args.client == "wrk" or (args.client == "auto" and shutil.which("wrk")) else "python"
    drive = run_wrk if client == "wrk" else run_python
    web_command = args.web_command or procfile_line("web")
    load_before = uptime()
    data = prepare(base_name + "_http")
    scratch = Path(tempfile.mkdtemp(prefix="http-bench-"))
    baseline = rawdrf_server(args.baseline, workers=args.workers, database=base_name + "_http_rawdrf")
    project = project_server(web_command, workers=args.workers, database=base_name + "_http", logs=scratch)
    with baseline as raw_port, project as port:
        for database in (base_name + "_http", base_name + "_http_rawdrf"):
            analyze(database)
        query, nearby_found = nearby_query(port)
        search_found = len(
            get_json(port, "/api/v1/merchants?" + urlencode({**query, "q": SEARCH}))["results"]
        )
        chosen = pairs(data, query)
        if args.only:
            chosen = {name: chosen[name] for name in args.only.split(",")}
        if "placement" in chosen:
            check_placement(port, chosen["placement"][1])
        options = {"connections": args.connections, "scripts": scratch}
        for raw, mine in chosen.values():  # warm-up: connections, caches, code paths
            drive(raw_port, raw, seconds=2, **options)
            drive(port, mine, seconds=2, **options)
        rounds: dict[str, dict[str, list[dict[str, float]]]] = {n: {"raw": [], "project": []} for n in chosen}
        for round_ in range(args.rounds):
            for name, (raw, mine) in chosen.items():
                rounds[name]["raw"].append(drive(raw_port, raw, seconds=args.seconds, **options))
                rounds[name]["project"].append(drive(port, mine, seconds=args.seconds, **options))
                got = rounds[name]
                print(
                    f"round {round_ + 1} {name:14} project {got['project'][-1]['rps']:8.0f} req/s  "
                    f"raw {got['raw'][-1]['rps']:8.0f} req/s",
                    flush=True,
                )
    report = {
        "command": command_line,
        "web_command": web_command,
        "procfile_web_line": args.web_command is None,
        "client": client,
        "workers": args.workers,
        "connections": args.connections,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        "load_before": load_before,
        "load_after": uptime(),
        "nearby": {"query": query, "results": nearby_found},
        "search": {"q": SEARCH, "results": search_found},
        "pairs": {name: summarize(name, chosen[name], got) for name, got in rounds.items()},
    }
    print(json.dumps(report, indent=2))
    if not args.no_write:
        RESULTS.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
        RESULTS.with_suffix(".md").write_text(markdown(report) + kept_notes())
        print(f"wrote {RESULTS.with_suffix('.md').relative_to(ROOT)} and .json")
    return 0


def kept_notes() -> str:
    """The results file's hand-written part (from NOTES on), kept across runs."""
    path = RESULTS.with_suffix(".md")
    text = path.read_text() if path.exists() else ""
    return "\n" + text[text.index(NOTES) :] if NOTES in text else ""


def median_row(rows: list[dict[str, float]]) -> dict[str, float]:
    keys = ("rps", "p50_ms", "p99_ms")
    summary = {key: round(statistics.median(row[key] for row in rows), 2) for key in keys}
    return {
        **summary,
        "errors": sum(int(row["errors"]) for row in rows),
        "rounds": [round(r["rps"]) for r in rows],
    }


def summarize(
    name: str, targets: tuple[Target, Target], got: dict[str, list[dict[str, float]]]
) -> dict[str, Any]:
    raw, project = median_row(got["raw"]), median_row(got["project"])
    rps_ratio, p99_ratio = project["rps"] / raw["rps"], project["p99_ms"] / raw["p99_ms"]
    least_rps, most_p99 = TARGETS[name]
    met = rps_ratio >= least_rps and (most_p99 is None or p99_ratio <= most_p99) and project["errors"] == 0
    return {
        "project_path": targets[1].path,
        "raw_path": targets[0].path,
        "project": project,
        "raw": raw,
        "rps_ratio": round(rps_ratio, 3),
        "p99_ratio": round(p99_ratio, 3),
        "target": {"rps_ratio_at_least": least_rps, "p99_ratio_at_most": most_p99},
        "met": met,
    }


def markdown(report: dict[str, Any]) -> str:
    served = "its Procfile `web` line" if report["procfile_web_line"] else "`--web-command`"
    workers, nearby, search = report["workers"], report["nearby"], report["search"]
    lines = [
        "# HTTP figures: the project beside plain Django + DRF, one run",
        "",
        f"    {report['command']}",
        "",
        f"The project served by {served}, with WEB_CONCURRENCY={workers}:",
        "",
        f"    {report['web_command']}",
        "",
        f"The baseline (`rawdrf.py`) by `gunicorn -w {workers}`. Load generator: {report['client']}, "
        f"{report['connections']} connections,",
        f"{report['rounds']} alternating rounds of {report['seconds']:g} s per side (medians). "
        f"Machine: {report['cpus']} CPUs, shared.",
        "",
        f"- load before: `{report['load_before']}`",
        f"- load after: `{report['load_after']}`",
        f"- nearby: {nearby['results']} merchants open now within {nearby['query']['radius_m']} m, "
        f"by distance; search `{search['q']}`: {search['results']} results",
        "",
        "| pair | project req/s | p99 ms | raw req/s | p99 ms | req/s ratio | p99 ratio | target | met |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for name, row in report["pairs"].items():
        project, raw = row["project"], row["raw"]
        target = f">= {row['target']['rps_ratio_at_least']}x"
        if row["target"]["p99_ratio_at_most"]:
            target += f", p99 <= {row['target']['p99_ratio_at_most']}x"
        errors = f" ({project['errors']} errors)" if project["errors"] else ""
        lines.append(
            f"| {name}: `{row['project_path'].split('?')[0]}` vs `{row['raw_path']}` "
            f"| {project['rps']:.0f}{errors} | {project['p99_ms']:.1f} "
            f"| {raw['rps']:.0f} | {raw['p99_ms']:.1f} | {row['rps_ratio']:.2f} | {row['p99_ratio']:.2f} "
            f"| {target} | {'yes' if row['met'] else 'no'} |"
        )
    lines += ["", "Per-round req/s (project / raw):", ""]
    for name, row in report["pairs"].items():
        lines.append(f"- {name}: {row['project']['rounds']} / {row['raw']['rounds']}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
