"""`manage.py simulate [options]`: the city simulation (bench/city/simulate.py; `--help` lists options).

It drives a running server through the real API and sockets and stops by itself; it needs the dev
requirements (httpx, websockets).
"""

import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Simulate a city of customers, merchants and drivers against a running server (stops by itself)."

    def run_from_argv(self, argv: list[str]) -> None:
        script = Path(settings.BASE_DIR) / "bench" / "city" / "simulate.py"
        if not script.exists():
            raise CommandError(f"{script} is missing")
        sys.exit(subprocess.run([sys.executable, str(script), *argv[2:]], check=False).returncode)

    def handle(self, *args: Any, **options: Any) -> None:  # run_from_argv does the work
        raise CommandError("run it as `manage.py simulate [options]`")
