"""`manage.py mdrp_eval INSTANCE_DIR SOLUTION_DIR`: check an MDRP solution and report its metrics."""

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from research.mdrp import evaluator


class Command(BaseCommand):
    help = "Check an MDRP solution against the rules; metrics beside greedy and the lower bound."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("instance_dir", type=Path)
        parser.add_argument("solution_dir", type=Path)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        argv = [str(options["instance_dir"]), str(options["solution_dir"])]
        if options["json"]:
            argv.append("--json")
        if evaluator.main(argv) != 0:
            raise CommandError("the solution breaks the MDRP rules")
