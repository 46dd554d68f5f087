"""Adds up the application metrics of every process (web, ASGI, Celery worker children) through Redis,
so that a counter never goes down when a process exits or is killed.

Why not Prometheus multiprocess mode: it needs one shared directory on one machine, while our workers
and web processes run in separate containers and hosts, and it would take one scrape target per
container. Instead every process publishes a snapshot of `APP_REGISTRY` to Redis (a hash per process,
every `METRICS_PUBLISH_SECONDS`, and whenever it reads the fleet's metrics), and whoever serves
`/metrics` adds up:

- the latest snapshot of every live process, and
- the retired totals: the counters and histogram buckets of every process that is gone.

A process is gone when it has not published for `METRICS_STALE_SECONDS` (killed, crashed, or a Celery
child that exited) or when it retires itself on a clean exit (`atexit`). Whoever reads the fleet first
after that folds its counters into the retired totals, inside a Lua script: the fold, the removal of the
snapshot and the read are one atomic step, so two scrapers never fold a process twice and never see it
both live and retired. Gauges (open WebSockets) are not folded: they disappear with their process.

A process that was taken for dead but is alive (Redis unreachable for longer than the stale time) finds
its folded values in a tombstone on its next publish, counts them as already reported (its baseline)
and goes on under a new id, so nothing is counted twice while the tombstone lives (`FOLDED_TTL_SECONDS`).

Snapshot fields are `m<json>` (counter, histogram, summary: folded) or `g<json>` (gauge), the JSON
being `[family, type, sample name, sorted label pairs]`; values are decimal strings.
"""

import atexit
import json
import logging
import os
import secrets
import socket
import threading
import time
from typing import Any

import redis
from django.conf import settings
from prometheus_client import Metric

from loship.metrics import APP_REGISTRY

logger = logging.getLogger(__name__)

PROCESSES_KEY = "loship:metrics:processes"  # sorted set: process id -> last publish (Redis clock)
SNAPSHOT_PREFIX = "loship:metrics:proc:"  # + process id: hash of the process's latest snapshot
RETIRED_KEY = "loship:metrics:retired"  # hash: the folded counters of every process gone
FOLDED_PREFIX = "loship:metrics:folded:"  # + process id: what was folded (the tombstone)
FOLDED_TTL_SECONDS = 86_400
MONOTONIC_TYPES = frozenset({"counter", "histogram", "summary"})

_FOLD_LUA = """
local function fold(id)
  local key = ARGV[1] .. id
  local fields = redis.call('HGETALL', key)
  for i = 1, #fields, 2 do
    if string.sub(fields[i], 1, 1) == 'm' then
      redis.call('HINCRBYFLOAT', KEYS[2], fields[i], fields[i + 1])
    end
  end
  local tombstone = ARGV[2] .. id
  if #fields > 0 then
    redis.call('RENAME', key, tombstone)
  else
    redis.call('HSET', tombstone, 'at', '0')
  end
  redis.call('EXPIRE', tombstone, ARGV[3])
  redis.call('ZREM', KEYS[1], id)
end
"""

# KEYS: processes, retired. ARGV: snapshot prefix, folded prefix, folded ttl, stale seconds.
# Folds every stale process, then returns the retired totals and every live snapshot.
_COLLECT_LUA = (
    _FOLD_LUA
    + """
local now = redis.call('TIME')
local cutoff = tonumber(now[1]) + tonumber(now[2]) / 1000000 - tonumber(ARGV[4])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. cutoff)) do
  fold(id)
end
local out = {redis.call('HGETALL', KEYS[2])}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  table.insert(out, redis.call('HGETALL', ARGV[1] .. id))
end
return out
"""
)

# KEYS: processes, retired. ARGV: snapshot prefix, folded prefix, folded ttl, process id.
_RETIRE_LUA = (
    _FOLD_LUA
    + """
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then
  fold(ARGV[4])
end
return 1
"""
)

# KEYS: processes, the process's snapshot, its tombstone. ARGV: process id, then field, value, ...
# Returns 1, or the tombstone's fields when the process was folded (nothing is written then).
_PUBLISH_LUA = """
if redis.call('EXISTS', KEYS[3]) == 1 then
  return redis.call('HGETALL', KEYS[3])
end
local now = redis.call('TIME')
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'at', now[1])
for i = 2, #ARGV, 2 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
end
redis.call('ZADD', KEYS[1], tonumber(now[1]) + tonumber(now[2]) / 1000000, ARGV[1])
return 1
"""

_client: redis.Redis | None = None
_publisher_pid: int | None = None
_publisher_lock = threading.Lock()


def redis_client() -> redis.Redis:
    """One Redis client per process for metrics (the cache's client is private to Django)."""
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    return _client


class _Process:
    """This process in Redis: its id, what of its counters was already folded, whether it retired."""

    def __init__(self, baseline: dict[str, float]) -> None:
        self.pid = os.getpid()
        self.id = f"{socket.gethostname()}:{self.pid}:{secrets.token_hex(4)}"
        self.baseline = baseline
        self.retired = False

    def rebase(self, folded: dict[str, float]) -> None:
        """Count `folded` as reported and go on under a new id (the old one has a tombstone)."""
        for field, value in folded.items():
            self.baseline[field] = self.baseline.get(field, 0.0) + value
        self.id = f"{socket.gethostname()}:{self.pid}:{secrets.token_hex(4)}"


_process: _Process | None = None
# Serialises publishing, rebasing and retiring (the publisher thread, request threads, atexit).
_process_lock = threading.Lock()


def _reset_lock_in_child() -> None:
    global _process_lock
    _process_lock = threading.Lock()


os.register_at_fork(after_in_child=_reset_lock_in_child)


def _this_process() -> _Process:
    """The state of the current process; a forked child gets its own id (and keeps the baseline of
    the values it inherited)."""
    global _process
    if _process is None or _process.pid != os.getpid():
        _process = _Process(baseline=dict(_process.baseline) if _process else {})
    return _process


def snapshot_field(family: Metric, sample_name: str, labels: dict[str, str]) -> str:
    kind = "m" if family.type in MONOTONIC_TYPES else "g"
    return kind + json.dumps([family.name, family.type, sample_name, sorted(labels.items())])


def local_snapshot() -> dict[str, float]:
    """This process's application metrics as snapshot fields, counters less what was folded already."""
    baseline = _this_process().baseline
    fields = {}
    for family in APP_REGISTRY.collect():
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue
            field = snapshot_field(family, sample.name, sample.labels)
            fields[field] = sample.value - baseline.get(field, 0.0)
    return fields


def store_snapshot(process_id: str, fields: dict[str, float]) -> dict[str, float] | None:
    """Store one process's snapshot; returns the folded values instead if that process was folded."""
    args: list[str | float] = [process_id]
    for field, value in fields.items():
        args += [field, repr(float(value))]
    client = redis_client()
    result = client.register_script(_PUBLISH_LUA)(
        keys=[PROCESSES_KEY, SNAPSHOT_PREFIX + process_id, FOLDED_PREFIX + process_id],
        args=args,
        client=client,
    )
    if not isinstance(result, list):
        return None
    return {field: value for field, value in _pairs(result) if field.startswith("m")}


def _publish_locked() -> None:
    process = _this_process()
    if process.retired:
        return
    # The second round only runs when this process was folded: it publishes under its new id.
    for _ in range(2):
        folded = store_snapshot(process.id, local_snapshot())
        if folded is None:
            return
        logger.warning("metrics: this process was taken for dead and folded; counting on from there")
        process.rebase(folded)


def publish_snapshot() -> None:
    """Store this process's snapshot in Redis (best effort: metrics never break a request or task)."""
    try:
        with _process_lock:
            _publish_locked()
    except redis.RedisError:
        logger.warning("metrics: publishing the snapshot failed", exc_info=True)


def retire_this_process() -> None:
    """On a clean exit: publish the last values and fold them into the retired totals right away."""
    if _process is None or _process.pid != os.getpid():
        return  # this process never published
    try:
        with _process_lock:
            _publish_locked()
            _process.retired = True
            _run_fold_script(_RETIRE_LUA, _process.id)
    except redis.RedisError:
        logger.warning("metrics: retiring this process failed", exc_info=True)


def _run_fold_script(script: str, last_arg: str | float) -> Any:
    client = redis_client()
    return client.register_script(script)(
        keys=[PROCESSES_KEY, RETIRED_KEY],
        args=[SNAPSHOT_PREFIX, FOLDED_PREFIX, FOLDED_TTL_SECONDS, last_arg],
        client=client,
    )


def _pairs(flat: list[bytes]) -> list[tuple[str, float]]:
    return [(field.decode(), float(value)) for field, value in zip(flat[::2], flat[1::2], strict=True)]


def fleet_families() -> list[Metric]:
    """The application metrics of the fleet: the retired totals plus every live process's snapshot
    (this one's published first). Empty when Redis cannot be read: a gap, not a counter that drops."""
    try:
        with _process_lock:
            _publish_locked()
        hashes = _run_fold_script(_COLLECT_LUA, float(settings.METRICS_STALE_SECONDS))
    except redis.RedisError:
        logger.warning("metrics: reading the fleet's snapshots failed", exc_info=True)
        return []
    return _families(hashes)


def _families(hashes: list[list[bytes]]) -> list[Metric]:
    docs = {family.name: family.documentation for family in APP_REGISTRY.collect()}
    merged: dict[tuple[str, str], dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
    for flat in hashes:
        for field, value in _pairs(flat):
            if field[:1] not in ("m", "g"):
                continue
            name, kind, sample_name, labels = json.loads(field[1:])
            samples = merged.setdefault((name, kind), {})
            key = (sample_name, tuple((label, label_value) for label, label_value in labels))
            samples[key] = samples.get(key, 0.0) + value
    metrics = []
    for (name, kind), samples in merged.items():
        metric = Metric(name, docs.get(name, name), kind)
        for (sample_name, labels), value in sorted(samples.items(), key=_exposition_order):
            metric.add_sample(sample_name, dict(labels), value)
        metrics.append(metric)
    return metrics


def _exposition_order(item: tuple[tuple[str, tuple[tuple[str, str], ...]], float]) -> tuple[Any, ...]:
    """Per label set, the buckets by `le`, then `_count` and `_sum` (the order Prometheus writes)."""
    (sample_name, labels), _ = item
    le = dict(labels).get("le")
    series = tuple(pair for pair in labels if pair[0] != "le")
    return (series, le is None, float(le) if le is not None else 0.0, sample_name)


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
    """Publish this process's snapshot every `METRICS_PUBLISH_SECONDS` from a daemon thread, and retire
    it on a clean exit.

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
    atexit.register(retire_this_process)

    def loop() -> None:
        while True:
            publish_snapshot()
            time.sleep(interval)

    threading.Thread(target=loop, name="metrics-publisher", daemon=True).start()
