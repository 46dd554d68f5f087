"""`manage.py mdrp_run INSTANCE_DIR --out DIR`: replay an MDRP instance and write its solution files."""

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from research.mdrp.solve import DISPATCHERS, run


class Command(BaseCommand):
    help = "Replay a Grubhub MDRP instance through the dispatch policy (or the greedy baseline)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("instance_dir", type=Path)
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--dispatcher", choices=sorted(DISPATCHERS), default="policy")

    def handle(self, *args: Any, **options: Any) -> None:
        solution = run(options["instance_dir"], options["out"], options["dispatcher"])
        self.stdout.write(f"{len(solution.deliveries)} orders delivered; solution in {options['out']}")
