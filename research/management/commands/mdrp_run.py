"""`manage.py mdrp_run INSTANCE_DIR --out DIR`: replay an MDRP instance and write its solution files."""

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from research.mdrp.solve import CHOICES, GUARDED, run


class Command(BaseCommand):
    help = (
        "Replay a Grubhub MDRP instance through the dispatch policy, kept only if it does not trail the "
        "greedy baseline (guarded, the default), or through either alone."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("instance_dir", type=Path)
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--dispatcher", choices=CHOICES, default=GUARDED)

    def handle(self, *args: Any, **options: Any) -> None:
        solution = run(options["instance_dir"], options["out"], options["dispatcher"])
        self.stdout.write(
            f"{len(solution.deliveries)} orders delivered, mean click-to-door "
            f"{solution.click_to_door_mean():.2f} min ({solution.dispatcher}'s solution); "
            f"solution in {options['out']}"
        )
