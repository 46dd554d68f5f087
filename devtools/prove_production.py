"""Prove the production install works: a fresh venv from the hashed lock file alone (no dev tools),
then, with production settings against the given PostgreSQL and Redis:

1. every module of the app packages imports (entry points, views, tasks, admin, commands...);
2. `manage.py check --deploy --fail-level WARNING` is clean;
3. `manage.py makemigrations --check --dry-run` finds no missing migration, then `migrate` and
   `collectstatic` run (the database is created if missing);
4. when a `Procfile` exists, each of its processes starts with the production venv and answers:
   HTTP processes `/healthz` on their $PORT, a Celery worker `celery inspect ping`, Celery beat stays
   up 5 s and logs its start, a `release` line runs to success; then each is stopped.

It first checks that requirements.lock pins what requirements.txt pins (else: `make lock`).

Run by CI (`.ci/run`) with the interpreter the venv is built from:

    DATABASE_URL=postgres://... REDIS_URL=redis://.../2 python3.11 devtools/prove_production.py [--venv DIR]

Standard library only: it runs before any venv exists. The database named in DATABASE_URL is created
if missing. Give REDIS_URL a database no other worker uses (the ping must reach ours).
"""

import argparse
import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_APPS = {"tests", "bench", "devtools"}
START_TIMEOUT = 90.0
BEAT_SECONDS = 5.0

IMPORT_ALL = """
import importlib, pkgutil, sys
import django
django.setup()
count = 0
for package in sys.argv[1:]:
    module = importlib.import_module(package)
    count += 1
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        if any(part == "tests" or part.startswith("test_") for part in info.name.split(".")):
            continue
        importlib.import_module(info.name)
        count += 1
print(f"imported {count} modules of {', '.join(sys.argv[1:])}")
"""

CREATE_DATABASE = """
import os, psycopg2
from urllib.parse import urlsplit, urlunsplit
url = urlsplit(os.environ["DATABASE_URL"])
name = url.path.lstrip("/")
admin = psycopg2.connect(urlunsplit(url._replace(path="/postgres")))
admin.autocommit = True
with admin.cursor() as cursor:
    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
    if cursor.fetchone() is None:
        cursor.execute(f'CREATE DATABASE "{name}"')
        print(f"created database {name}")
"""


def step(title: str) -> None:
    print(f"\n--- {title}", flush=True)


def run(args: list[str], env: dict[str, str]) -> None:
    shown = [arg if "\n" not in arg else "<script>" for arg in args]  # inline scripts are not echoed
    print("$", " ".join(shown), flush=True)
    subprocess.run(args, cwd=ROOT, env=env, check=True)


def app_packages() -> list[str]:
    """Top-level packages of the repository that ship in the image (not tests, benchmarks, dev tools)."""
    return sorted(
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in NOT_APPS and not path.parent.name.startswith(".")
    )


def pins(path: Path) -> dict[str, str]:
    """name -> version of every `name==version` line (names normalised, extras dropped)."""
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^\s;\\]+)", line)
        if match:
            found[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return found


def check_lock_matches() -> None:
    """Every pin of requirements.txt is in requirements.lock at the same version."""
    wanted, locked = pins(ROOT / "requirements.txt"), pins(ROOT / "requirements.lock")
    stale = {
        name: (version, locked.get(name)) for name, version in wanted.items() if locked.get(name) != version
    }
    if stale:
        details = ", ".join(f"{name} {want} (lock: {have})" for name, (want, have) in sorted(stale.items()))
        raise SystemExit(f"requirements.lock does not match requirements.txt: {details}; run `make lock`")
    print(f"requirements.lock pins the {len(wanted)} requirements of requirements.txt ({len(locked)} in all)")


def build_venv(venv: Path) -> Path:
    """A fresh venv with exactly the lock file's packages, every download checked against its hash."""
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--require-hashes",
            "-r",
            str(ROOT / "requirements.lock"),
        ],
        check=True,
    )
    return python


def production_env(venv: Path) -> dict[str, str]:
    """Production settings (DEBUG off, HTTPS, a real secret) on this machine's databases."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
    for dev_only in (
        "DEBUG",
        "FAST_PASSWORD_HASHING",
        "STATIC_MANIFEST",
        "SECURE_HSTS_SECONDS",
        "SENTRY_DSN",
    ):
        env.pop(dev_only, None)
    env.update(
        DJANGO_SETTINGS_MODULE="loship.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="api.loship.vn,127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="1",
        METRICS_TOKEN=secrets.token_urlsafe(20),
        VIRTUAL_ENV=str(venv),
        PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        PYTHONUNBUFFERED="1",
    )
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def procfile_lines(path: Path) -> list[tuple[str, str]]:
    lines = []
    for raw in path.read_text().splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        name, _, command = raw.partition(":")
        lines.append((name.strip(), command.strip()))
    return lines


def kind_of(name: str, command: str) -> str:
    words = command.split()
    if name == "release":
        return "release"
    if "celery" in command and "worker" in words:
        return "worker"
    if "celery" in command and "beat" in words:
        return "beat"
    if any(server in command for server in ("uvicorn", "gunicorn", "daphne", "runserver", "hypercorn")):
        return "http"
    return "other"


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own loopback URL)
            return bool(response.status == 200)
    except OSError:
        return False


def worker_answers(env: dict[str, str]) -> bool:
    ping = ["celery", "-A", "loship", "inspect", "ping", "--timeout", "2"]
    return subprocess.run(ping, cwd=ROOT, env=env, capture_output=True, timeout=30).returncode == 0


def prove_process(name: str, command: str, env: dict[str, str], logs: Path) -> None:
    """Start one Procfile line, wait until it answers as its kind should, stop it; raise if it did not."""
    kind = kind_of(name, command)
    port = free_port()
    process_env = {**env, "PORT": str(port)}
    log_path = logs / f"{name}.log"
    print(f"{name} ({kind}): {command}   [PORT={port}, log {log_path}]", flush=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["/bin/sh", "-c", command],
            cwd=ROOT,
            env=process_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        if kind == "release":
            if process.wait(timeout=600) != 0:
                raise RuntimeError(f"{name} exited with {process.returncode}")
            print(f"{name}: done", flush=True)
            return
        started = time.monotonic()
        while time.monotonic() - started < START_TIMEOUT:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode} during start-up")
            if kind == "http" and http_ok(f"http://127.0.0.1:{port}/healthz"):
                break
            if kind == "worker" and worker_answers(process_env):
                break
            if kind in ("beat", "other") and time.monotonic() - started >= BEAT_SECONDS:
                if kind == "beat" and "beat: Starting" not in log_path.read_text(errors="replace"):
                    raise RuntimeError(f"{name} is up but never logged its start")
                break
            time.sleep(0.5)
        else:
            raise RuntimeError(f"{name} did not answer within {START_TIMEOUT:.0f} s")
        print(f"{name}: answers after {time.monotonic() - started:.1f} s", flush=True)
    except Exception:
        print(f"{name} failed; its log:\n{log_path.read_text(errors='replace')[-6000:]}", flush=True)
        raise
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # and whatever it left behind
    process.wait(timeout=20)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--venv", type=Path, help="where to build the production venv (default: a temp dir)")
    parser.add_argument("--reuse", action="store_true", help="use --venv as it is (already built)")
    options = parser.parse_args()
    for required in ("DATABASE_URL", "REDIS_URL"):
        if not os.environ.get(required):
            parser.error(f"{required} must point at the PostgreSQL / Redis to prove against")
    venv = (options.venv or Path(tempfile.mkdtemp(prefix="loship-production-")) / "venv").resolve()

    step("the lock file against requirements.txt")
    check_lock_matches()

    step(f"production venv from requirements.lock only: {venv}")
    python = venv / "bin" / "python" if options.reuse else build_venv(venv)
    env = production_env(venv)
    manage = [str(python), "manage.py"]

    step("import every module of the app packages")
    run([str(python), "-c", IMPORT_ALL, *app_packages()], env)

    step("Django's deployment checklist with production values")
    run([*manage, "check", "--deploy", "--fail-level", "WARNING"], env)

    step("no model change without its migration; migrations and static files apply as in the image")
    run([str(python), "-c", CREATE_DATABASE], env)
    run([*manage, "makemigrations", "--check", "--dry-run"], env)
    run([*manage, "migrate", "--no-input", "--verbosity", "1"], env)
    run([*manage, "collectstatic", "--no-input", "--verbosity", "0"], env)

    procfile = ROOT / "Procfile"
    if not procfile.exists():
        print("\nno Procfile: process start-up not proved")
        return 0
    logs = Path(tempfile.mkdtemp(prefix="loship-procfile-"))
    for name, command in procfile_lines(procfile):
        step(f"Procfile: {name}")
        prove_process(name, command, env, logs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
