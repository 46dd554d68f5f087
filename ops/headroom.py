"""Live load beside the measured limits: the 10x headroom rule and the 40% alert threshold.

Loads: orders placed per minute (PostgreSQL, over `HEADROOM_ORDERS_WINDOW_MINUTES`), driver location
fixes per second (the fleet's `loship_location_fixes` counter, as a rate between samples kept in Redis),
open WebSocket connections (the fleet's gauge) and tasks waiting in the Celery queues (Redis).
"""

import json
import math
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from django.conf import settings
from django.utils import timezone
from prometheus_client import Metric

from loship.metrics_fleet import fleet_families, fleet_value
from loship.redis_client import redis_client
from ops.models import Capacity, LoadFigure
from ops.queues import queue_depths
from orders.models import Order

RATE_SAMPLES_KEY = "loship:ops:location_fix_samples"
# A rate is taken over at least this many seconds of samples (when that much history exists).
RATE_MIN_SPAN_SECONDS = 30.0
RATE_HISTORY_SECONDS = 600.0


class Level:
    OK = "ok"
    WARNING = "warning"  # headroom under 10x
    ALERT = "alert"  # load at or above 40% of the limit
    UNKNOWN = "unknown"  # no measured limit yet


@dataclass(frozen=True)
class Reading:
    figure: str
    load: float
    limit: float | None

    @property
    def label(self) -> str:
        return str(LoadFigure(self.figure).label)

    @property
    def headroom(self) -> float:
        """How many times the current load the system carried in the benchmark (inf when idle)."""
        if self.limit is None:
            return math.nan
        return self.limit / self.load if self.load > 0 else math.inf

    @property
    def share_of_limit(self) -> float:
        return self.load / self.limit if self.limit else math.nan

    @property
    def level(self) -> str:
        if self.limit is None:
            return Level.UNKNOWN
        if self.load >= settings.HEADROOM_ALERT_FRACTION * self.limit:
            return Level.ALERT
        if self.load * settings.HEADROOM_TARGET > self.limit:
            return Level.WARNING
        return Level.OK


def orders_per_minute() -> float:
    window = settings.HEADROOM_ORDERS_WINDOW_MINUTES
    since = timezone.now() - timedelta(minutes=window)
    return Order.objects.filter(created_at__gte=since).count() / window


def record_fix_sample(*, now: float | None = None, total: float | None = None) -> None:
    """Append (time, fleet total of location fixes) to the samples the rate is computed from."""
    now = time.time() if now is None else now
    total = fleet_value("loship_location_fixes_total") if total is None else total
    client = redis_client()
    pipe = client.pipeline()
    pipe.rpush(RATE_SAMPLES_KEY, json.dumps([now, total]))
    pipe.ltrim(RATE_SAMPLES_KEY, -200, -1)
    pipe.expire(RATE_SAMPLES_KEY, int(RATE_HISTORY_SECONDS))
    pipe.execute()


def location_fixes_per_second(*, now: float | None = None, total: float | None = None) -> float:
    """Fixes/s between the oldest sample at least 30 s old (else the oldest there is) and now, given
    the fleet's current `total` of fixes (read when not given)."""
    now = time.time() if now is None else now
    total = fleet_value("loship_location_fixes_total") if total is None else total
    raw_samples = cast(list[bytes], redis_client().lrange(RATE_SAMPLES_KEY, 0, -1))
    samples = [json.loads(raw) for raw in raw_samples]
    usable = [(t, v) for t, v in samples if now - RATE_HISTORY_SECONDS <= t < now]
    if not usable:
        return 0.0
    old_enough = [(t, v) for t, v in usable if now - t >= RATE_MIN_SPAN_SECONDS]
    then, before = old_enough[-1] if old_enough else usable[0]
    # The fleet's counter never drops when a process exits; it does when Redis loses its data (a reset).
    return max(0.0, total - before) / max(now - then, 1.0)


def live_loads(
    *, families: list[Metric] | None = None, depths: dict[str, int] | None = None
) -> dict[str, float]:
    """The live loads; `families` (the fleet's metrics) and `depths` (the queues') are read when not
    given - a scrape that has them already passes them, so the fleet's snapshots are read once."""
    families = fleet_families() if families is None else families
    depths = queue_depths() if depths is None else depths
    return {
        LoadFigure.ORDERS_PER_MINUTE: orders_per_minute(),
        LoadFigure.LOCATION_FIXES_PER_SECOND: location_fixes_per_second(
            total=fleet_value("loship_location_fixes_total", families=families)
        ),
        LoadFigure.OPEN_SOCKETS: fleet_value("loship_websocket_connections", families=families),
        LoadFigure.QUEUE_DEPTH: float(sum(depths.values())),
    }


def current_readings(
    *, families: list[Metric] | None = None, depths: dict[str, int] | None = None
) -> list[Reading]:
    """Every load figure with its live load and measured limit (None when never measured)."""
    limits = dict(Capacity.objects.values_list("figure", "limit"))
    loads = live_loads(families=families, depths=depths)
    return [Reading(figure=figure, load=load, limit=limits.get(figure)) for figure, load in loads.items()]


def lowest_headroom(readings: list[Reading]) -> Reading | None:
    """The figure closest to its limit (the one the dashboard headlines)."""
    measured = [reading for reading in readings if reading.limit is not None]
    return min(measured, key=lambda reading: reading.headroom) if measured else None
