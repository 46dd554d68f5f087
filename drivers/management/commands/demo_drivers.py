"""`manage.py demo_drivers`: keep the demo drivers online, as their phones would (run by `make run`)."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from drivers import demo


class Command(BaseCommand):
    help = "Send a fresh location fix for every online demo driver every --every seconds (or --once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, default=30.0, help="seconds between rounds")
        parser.add_argument("--once", action="store_true", help="one round, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            refreshed = demo.keep_online()
            if options["once"] or options["verbosity"] > 1:
                self.stdout.write(f"{refreshed} demo drivers sent a location fix")
            if options["once"]:
                return
            time.sleep(options["every"])
