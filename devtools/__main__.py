"""The two commands behind `make run` and `make test`, plus a few helpers.

    python -m devtools run      migrate, seed the demo city, run web + worker + beat + relay (and the demo
                                drivers' location fixes) until Ctrl-C
    python -m devtools test     run the whole test suite (extra arguments go to pytest)
    python -m devtools manage   run a manage.py command against the same services
    python -m devtools stop     stop embedded PostgreSQL and Redis left running

Each uses DATABASE_URL / REDIS_URL when set and the embedded servers otherwise.
"""

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


def _run_system(services: Services) -> int:
    env = _environment(
        services,
        DEBUG=os.environ.get("DEBUG", "1"),
        SECRET_KEY=os.environ.get("SECRET_KEY") or _dev_secret_key(),
        LOG_FORMAT=os.environ.get("LOG_FORMAT", "plain"),
    )
    _manage(env, "migrate", "--no-input")
    _manage(env, "seed_demo")
    commands = {
        "web": [PYTHON, "-m", "uvicorn", "loship.asgi:application", "--host", HOST, "--port", PORT,
                "--no-access-log"],
        "worker": [PYTHON, "-m", "celery", "-A", "loship", "worker", "-Q", "default,dispatch,notifications",
                   "--concurrency", os.environ.get("WORKER_CONCURRENCY", "2"), "--loglevel", "INFO"],
        "beat": [PYTHON, "-m", "celery", "-A", "loship", "beat", "--loglevel", "INFO",
                 "--schedule", str(DATA_DIR / "celerybeat-schedule")],
        # The outbox relay: publishes each event as its transaction commits (LISTEN/NOTIFY).
        "relay": [PYTHON, "manage.py", "relay_outbox"],
        # The demo drivers' phones: a location fix every 30 s keeps them online and dispatchable.
        "demo-drivers": [PYTHON, "manage.py", "demo_drivers"],
    }  # fmt: skip
    processes = {name: subprocess.Popen(cmd, cwd=ROOT, env=env) for name, cmd in commands.items()}
    base = f"http://{HOST}:{PORT}"
    print(
        "\n"
        f"  Loship is running.\n"
        f"  API docs     {base}/api/docs/\n"
        f"  Admin        {base}/admin/\n"
        f"  Health       {base}/healthz  {base}/readyz\n"
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
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
    return exit_code


def _run_tests(services: Services, pytest_args: list[str]) -> int:
    test_settings = {
        "DEBUG": "0",
        "SECRET_KEY": "test-only-" + "k" * 40,
        "FAST_PASSWORD_HASHING": "1",
        "SECURE_SSL_REDIRECT": "0",
        "STATIC_MANIFEST": "0",
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
