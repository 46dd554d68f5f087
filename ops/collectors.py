"""Figures read at scrape time: queue depth (Redis), orders by state and outbox lag (PostgreSQL),
the application metrics of every process (Redis snapshots), the headroom factors and when beat and
the workers were last seen."""

import logging
from collections.abc import Iterator

import redis
from django.db import DatabaseError
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client import Metric
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from loship.events.models import OutboxEvent
from loship.health import redis_checks
from loship.metrics_fleet import fleet_families
from ops.headroom import current_readings
from ops.heartbeat import last_seen
from ops.queues import queue_depths
from orders.models import Order, OrderStatus

logger = logging.getLogger(__name__)


def orders_by_state() -> dict[str, int]:
    """Orders in each state (the status index makes this an index-only count)."""
    counts = dict.fromkeys(OrderStatus.values, 0)
    for row in Order.objects.order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


def outbox_lag_seconds() -> tuple[float, int]:
    """Age of the oldest unpublished outbox event (0 when none) and how many are unpublished."""
    pending = OutboxEvent.objects.filter(published_at__isnull=True).aggregate(
        oldest=Min("created_at"), n=Count("id")
    )
    if pending["oldest"] is None:
        return 0.0, 0
    return max(0.0, (timezone.now() - pending["oldest"]).total_seconds()), pending["n"]


class OpsCollector(Collector):
    """Registered on the registry that `/metrics` serves; each part fails alone (logged, skipped)."""

    def collect(self) -> Iterator[Metric]:
        # The fleet's snapshots and the queue depths are read once per scrape and shared with headroom.
        families = fleet_families()
        yield from families
        depths: dict[str, int] | None = None
        try:
            depths = queue_depths()
            depth = GaugeMetricFamily(
                "loship_celery_queue_depth", "Tasks waiting in a Celery queue.", labels=["queue"]
            )
            for queue, n in depths.items():
                depth.add_metric([queue], n)
            yield depth
        except redis.RedisError:
            logger.warning("metrics: reading queue depths failed", exc_info=True)
        try:
            states = GaugeMetricFamily("loship_orders", "Orders by state.", labels=["state"])
            for state, n in orders_by_state().items():
                states.add_metric([state], n)
            yield states
            lag, pending = outbox_lag_seconds()
            yield GaugeMetricFamily(
                "loship_outbox_lag_seconds", "Age of the oldest unpublished outbox event.", value=lag
            )
            yield GaugeMetricFamily("loship_outbox_pending", "Unpublished outbox events.", value=pending)
        except DatabaseError:
            logger.warning("metrics: reading orders/outbox failed", exc_info=True)
        yield from _headroom_families(families, depths)
        yield from _heartbeat_families()
        yield _redis_up_family()


def _redis_up_family() -> Metric:
    """1 for each Redis this process uses that answers a PING, 0 otherwise, by role (`redis`,
    `redis_broker`, `redis_channels_<i>`: loship/redis_urls.py)."""
    family = GaugeMetricFamily("loship_redis_up", "Whether a Redis answers, by role.", labels=["role"])
    for role, ok in redis_checks().items():
        family.add_metric([role], 1.0 if ok else 0.0)
    return family


def _headroom_families(families: list[Metric], depths: dict[str, int] | None) -> Iterator[Metric]:
    try:
        readings = current_readings(families=families, depths=depths)
    except (DatabaseError, redis.RedisError):
        logger.warning("metrics: reading headroom failed", exc_info=True)
        return
    load = GaugeMetricFamily(
        "loship_load", "Live load by figure (see ops.models.LoadFigure).", labels=["figure"]
    )
    limit = GaugeMetricFamily("loship_capacity_limit", "Measured limit by figure.", labels=["figure"])
    headroom = GaugeMetricFamily(
        "loship_headroom_factor",
        "Measured limit / live load (alert under 2.5, warn under 10).",
        labels=["figure"],
    )
    for reading in readings:
        load.add_metric([reading.figure], reading.load)
        if reading.limit is not None:
            limit.add_metric([reading.figure], reading.limit)
            headroom.add_metric([reading.figure], reading.headroom)
    yield load
    yield limit
    yield headroom


def _heartbeat_families() -> Iterator[Metric]:
    try:
        seen = last_seen()
    except redis.RedisError:
        logger.warning("metrics: reading heartbeats failed", exc_info=True)
        return
    family = GaugeMetricFamily(
        "loship_heartbeat_timestamp_seconds",
        "Unix time Celery beat / any worker was last seen (missing: never seen).",
        labels=["process"],
    )
    for process, at in seen.items():
        family.add_metric([process], at)
    yield family
