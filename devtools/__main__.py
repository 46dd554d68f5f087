"""The two commands behind `make run` and `make test`, plus a few helpers.

    python -m devtools run      run the Procfile's release line (migrate), seed the demo city, then
                                every other Procfile line (web, ws, worker, beat...) with dev
                                additions (DEBUG=1, the demo drivers' location fixes, a router giving
                                web and ws one base URL) until Ctrl-C
    python -m devtools test     run the whole test suite (extra arguments go to pytest)
    python -m devtools manage   run a manage.py command against the same services
    python -m devtools stop     stop embedded PostgreSQL and Redis left running

Each uses DATABASE_URL / REDIS_URL when set and the embedded servers otherwise.
"""

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from devtools.services import DATA_DIR, ROOT, Services, ensure_services, stop_all, stop_services

PYTHON = sys.executable
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = os.environ.get("PORT", "8000")


def _dev_secret_key() -> str:
    """A per-checkout random key kept in the data folder, so sessions survive restarts."""
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _environment(services: Services, **overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(services.env)
    env.setdefault("DJANGO_SETTINGS_MODULE", "loship.settings")
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.update(overrides)
    return env


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def procfile_lines() -> list[tuple[str, str]]:
    """The Procfile's processes in order: `name: command` per line (blank lines and # comments skipped)."""
    lines = []
    for raw in (ROOT / "Procfile").read_text().splitlines():
        if raw.strip() and not raw.lstrip().startswith("#"):
            name, _, command = raw.partition(":")
            lines.append((name.strip(), command.strip()))
    return lines


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A process in its own process group, so that stopping it stops what its shell started."""
    return subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True)


def _run_system(services: Services) -> int:
    env = _environment(
        services,
        DEBUG=os.environ.get("DEBUG", "1"),
        SECRET_KEY=os.environ.get("SECRET_KEY") or _dev_secret_key(),
        LOG_FORMAT=os.environ.get("LOG_FORMAT", "plain"),
        # The Procfile names its programs bare (gunicorn, celery, python): this venv's come first.
        PATH=f"{Path(PYTHON).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    env.setdefault("WEB_CONCURRENCY", "2")
    env.setdefault("BEAT_SCHEDULE", str(DATA_DIR / "celerybeat-schedule"))
    lines = procfile_lines()
    for name, command in lines:
        if name == "release":
            print(f"[run] release: {command}", flush=True)
            subprocess.run(["/bin/sh", "-c", command], cwd=ROOT, env=env, check=True)
    _manage(env, "seed_demo")
    # The router takes the one base URL's port; each process gets the next ports, in Procfile order.
    base_port = int(PORT)
    names = [name for name, _ in lines if name != "release"]
    ports = {name: base_port + 1 + index for index, name in enumerate(names)}
    processes = {
        name: _start(["/bin/sh", "-c", f"exec {command}"], {**env, "PORT": str(ports[name])})
        for name, command in lines
        if name != "release"
    }
    router = [PYTHON, "-m", "devtools.router", "--host", HOST, "--port", PORT]
    router += ["--web", str(ports["web"]), "--ws", str(ports["ws"])]
    processes["router"] = _start(router, env)
    # The demo drivers' phones: a location fix every 30 s keeps them online and dispatchable.
    processes["demo-drivers"] = _start([PYTHON, "manage.py", "demo_drivers"], env)
    base = f"http://{HOST}:{PORT}"
    print(
        "\n"
        f"  Loship is running at {base} (started from the Procfile: {', '.join(ports)}).\n"
        f"  API docs     {base}/api/docs/\n"
        f"  Admin        {base}/admin/\n"
        f"  Health       {base}/healthz  {base}/readyz\n"
        f"  WebSockets   ws://{HOST}:{PORT}/ws/...\n"
        f"  A dev router on {PORT} sends /ws/ to ws (port {ports['ws']}) and the rest to web "
        f"(port {ports['web']}), as nginx does in production.\n"
        f"  Demo logins  (password for all: {os.environ.get('DEMO_PASSWORD', 'loship-demo-2026')})\n"
        f"    ops       0900000001\n"
        f"    customer  0900000002\n"
        f"    driver    0900000003\n"
        f"    merchant  0900000004\n"
        f"  Ctrl-C stops everything.\n",
        flush=True,
    )
    stopping = False

    def _stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    exit_code = 0
    while not stopping:
        for name, process in processes.items():
            if process.poll() is not None:
                print(f"[run] {name} exited with {process.returncode}; stopping the rest", file=sys.stderr)
                exit_code = process.returncode or 1
                stopping = True
        time.sleep(0.5)
    # SIGTERM to each program (the shell exec'd it), which stops its own children (a Celery worker its
    # pool, gunicorn its workers); whatever is left in its process group after that is killed.
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes.values():
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    return exit_code


def _run_tests(services: Services, pytest_args: list[str]) -> int:
    test_settings = {
        "DEBUG": "0",
        "SECRET_KEY": "test-only-" + "k" * 40,
        "FAST_PASSWORD_HASHING": "1",
        "SECURE_SSL_REDIRECT": "0",
        "STATIC_MANIFEST": "0",
        "PROMISE_SUPPLY_SECONDS": "0",  # a test that moves drivers sees the next quote change
    }
    env = _environment(services, **test_settings)
    return subprocess.run([PYTHON, "-m", "pytest", *pytest_args], cwd=ROOT, env=env).returncode


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("run", [])
    if command == "stop":
        stop_all()
        return 0
    if command not in {"run", "test", "manage"}:
        print(__doc__, file=sys.stderr)
        return 2
    services = ensure_services()
    try:
        if command == "run":
            return _run_system(services)
        if command == "test":
            return _run_tests(services, rest)
        env = _environment(services, DEBUG=os.environ.get("DEBUG", "1"), SECRET_KEY=_dev_secret_key())
        return subprocess.run([PYTHON, "manage.py", *rest], cwd=ROOT, env=env).returncode
    finally:
        stop_services(services)


if __name__ == "__main__":
    os.chdir(Path(ROOT))
    sys.exit(main(sys.argv[1:]))
