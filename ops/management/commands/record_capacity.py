"""`manage.py record_capacity [--bench-dir bench] [--set figure=limit ...]`: store the measured limits."""

import math
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ops.capacity_sources import measured_limits
from ops.models import LoadFigure
from ops.services import record_capacity


class Command(BaseCommand):
    help = "Read the benchmarks' results in bench/ and store each load figure's measured limit."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--bench-dir", default=str(Path(settings.BASE_DIR) / "bench"))
        parser.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="FIGURE=LIMIT",
            help=f"Override or add a limit by hand; figures: {', '.join(LoadFigure.values)}.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        bench_dir = Path(options["bench_dir"])
        if not bench_dir.is_dir():
            raise CommandError(f"No such directory: {bench_dir}")
        for measured in measured_limits(bench_dir).values():
            record_capacity(
                figure=measured.figure,
                limit=measured.limit,
                source=measured.source,
                basis=measured.basis,
                measured_at=measured.measured_at,
            )
            self.stdout.write(f"{measured.figure}: {measured.limit:g} ({measured.source})")
        for item in options["set"]:
            figure, _, raw = item.partition("=")
            try:
                limit = float(raw)
            except ValueError as error:
                raise CommandError(f"--set {item}: the limit must be a number") from error
            if figure not in LoadFigure.values or not math.isfinite(limit) or limit <= 0:
                raise CommandError(f"--set {item}: unknown figure or a limit that is not a positive number")
            record_capacity(
                figure=figure, limit=limit, source="manual", basis="set by hand", measured_at=timezone.now()
            )
            self.stdout.write(f"{figure}: {limit:g} (manual)")
