"""Adds up the application metrics of every process (web, ASGI, Celery worker children) through Redis.

Why not Prometheus multiprocess mode: it needs one shared directory on one machine, while our workers
and web processes run in separate containers and hosts. Instead every process publishes a snapshot of
`APP_REGISTRY` (a few kB of JSON) to Redis every `METRICS_PUBLISH_SECONDS` under a key that expires
after `SNAPSHOT_TTL_SECONDS`, and whoever serves `/metrics` sums the live snapshots with its own
current values. A process that dies takes its counters with it, which Prometheus' `rate()` treats as
a counter reset.
"""

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterable
from typing import Any, cast

import redis
from django.conf import settings
from prometheus_client import Metric

from loship.metrics import APP_REGISTRY

logger = logging.getLogger(__name__)

SNAPSHOT_PREFIX = "loship:metrics:proc:"
SNAPSHOT_TTL_SECONDS = 60

_client: redis.Redis | None = None
_publisher_pid: int | None = None
_publisher_lock = threading.Lock()


def redis_client() -> redis.Redis:
    """One Redis client per process for metrics (the cache's client is private to Django)."""
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    return _client


def process_key() -> str:
    return f"{SNAPSHOT_PREFIX}{socket.gethostname()}:{os.getpid()}"


def local_snapshot() -> dict[str, Any]:
    """This process's application metrics as plain JSON-able data."""
    families: dict[str, Any] = {}
    for family in APP_REGISTRY.collect():
        samples = [
            [sample.name, sample.labels, sample.value]
            for sample in family.samples
            if not sample.name.endswith("_created")
        ]
        families[family.name] = {"type": family.type, "doc": family.documentation, "samples": samples}
    return {"at": time.time(), "families": families}


def publish_snapshot() -> None:
    """Store this process's snapshot in Redis (best effort: metrics never break a request or task)."""
    try:
        redis_client().set(process_key(), json.dumps(local_snapshot()), ex=SNAPSHOT_TTL_SECONDS)
    except redis.RedisError:
        logger.warning("metrics: publishing the snapshot failed", exc_info=True)


def other_snapshots() -> list[dict[str, Any]]:
    """The live snapshots of every other process."""
    client = redis_client()
    own = process_key()
    keys = [key for key in client.scan_iter(match=f"{SNAPSHOT_PREFIX}*", count=500) if key.decode() != own]
    if not keys:
        return []
    raw_snapshots = cast(list[bytes | None], client.mget(keys))
    return [json.loads(raw) for raw in raw_snapshots if raw]


def fleet_families(snapshots: Iterable[dict[str, Any]] | None = None) -> list[Metric]:
    """The application metrics summed over this process and every live snapshot in Redis."""
    if snapshots is None:
        try:
            snapshots = other_snapshots()
        except redis.RedisError:
            logger.warning("metrics: reading the fleet's snapshots failed", exc_info=True)
            snapshots = []
    merged: dict[str, dict[str, Any]] = {}
    for snapshot in [local_snapshot(), *snapshots]:
        for name, family in snapshot["families"].items():
            target = merged.setdefault(name, {"type": family["type"], "doc": family["doc"], "values": {}})
            for sample_name, labels, value in family["samples"]:
                key = (sample_name, tuple(sorted(labels.items())))
                target["values"][key] = target["values"].get(key, 0.0) + value
    metrics = []
    for name, family in merged.items():
        metric = Metric(name, family["doc"], family["type"])
        for (sample_name, labels), value in family["values"].items():
            metric.add_sample(sample_name, dict(labels), value)
        metrics.append(metric)
    return metrics


def fleet_value(sample_name: str, *, families: list[Metric] | None = None, **labels: str) -> float:
    """One sample summed over the fleet (labels given must match; others are summed over); pass
    `families` already read by `fleet_families()` to read the fleet's snapshots only once."""
    total = 0.0
    for family in fleet_families() if families is None else families:
        for sample in family.samples:
            if sample.name == sample_name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def start_publisher() -> None:
    """Publish this process's snapshot every `METRICS_PUBLISH_SECONDS` from a daemon thread.

    Safe to call many times and after a fork (a forked child starts its own thread).
    """
    global _publisher_pid
    interval = float(getattr(settings, "METRICS_PUBLISH_SECONDS", 5.0))
    if interval <= 0:
        return
    with _publisher_lock:
        if _publisher_pid == os.getpid():
            return
        _publisher_pid = os.getpid()

    def loop() -> None:
        while True:
            publish_snapshot()
            time.sleep(interval)

    threading.Thread(target=loop, name="metrics-publisher", daemon=True).start()
