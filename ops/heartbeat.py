"""Is Celery beat alive, is any worker alive: each writes the time it was last seen to Redis, and the
reader judges the age when it reads (the ops dashboard at render time, Prometheus at scrape time), so
a dead beat or worker shows up without either of them running anything.

Beat is seen each time it publishes a scheduled task (the outbox sweep goes every few seconds), so a
beat whose loop hangs stops being seen too. A worker is seen from its consumer's event loop every
`WORKER_BEAT_SECONDS`: a worker whose consumer hangs stops being seen even if its process lives on.
"""

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, cast

import redis
from celery.signals import after_task_publish, beat_init, worker_ready

from loship.redis_client import redis_client

logger = logging.getLogger(__name__)

KEY_PREFIX = "loship:heartbeat:"
PROCESSES = ("beat", "worker")
WORKER_BEAT_SECONDS = 10.0
# Seen longer ago than this: dead (the in-app banner; monitoring/loship.rules.yml uses the same figure).
STALE_AFTER_SECONDS = 60.0
# Beat publishes several tasks per tick: write at most once a second.
_MIN_WRITE_INTERVAL = 1.0

_in_beat = False
_last_beat_write = 0.0


def mark_seen(process: str, *, now: float | None = None) -> None:
    """Record that `process` (beat or worker) is alive now (best effort: never breaks the caller)."""
    try:
        redis_client().set(f"{KEY_PREFIX}{process}", repr(time.time() if now is None else now))
    except redis.RedisError:
        logger.warning("heartbeat: recording %s failed", process, exc_info=True)


def last_seen() -> dict[str, float]:
    """Unix time each process was last seen; a process never seen is missing."""
    raw = cast(list[bytes | None], redis_client().mget([f"{KEY_PREFIX}{process}" for process in PROCESSES]))
    return {process: float(value) for process, value in zip(PROCESSES, raw, strict=True) if value}


@dataclass(frozen=True)
class Heartbeat:
    process: str
    seen_at: float | None  # unix time; None: never seen
    age: float | None  # seconds since, at the time of reading

    @property
    def stale(self) -> bool:
        return self.age is None or self.age > STALE_AFTER_SECONDS


def heartbeats(*, now: float | None = None) -> list[Heartbeat]:
    """Beat and worker with their age now; unknown (treated as stale) when Redis does not answer."""
    now = time.time() if now is None else now
    try:
        seen = last_seen()
    except redis.RedisError:
        logger.warning("heartbeat: reading failed", exc_info=True)
        seen = {}
    return [
        Heartbeat(process, seen.get(process), max(0.0, now - seen[process]) if process in seen else None)
        for process in PROCESSES
    ]


def _on_beat_init(**_: Any) -> None:
    global _in_beat
    _in_beat = True
    mark_seen("beat")


def _on_task_published(**_: Any) -> None:
    """Runs wherever a task is sent; counts only in the beat process."""
    global _last_beat_write
    if not _in_beat:
        return
    now = time.time()
    if now - _last_beat_write >= _MIN_WRITE_INTERVAL:
        _last_beat_write = now
        mark_seen("beat", now=now)


def _on_worker_ready(sender: Any = None, **_: Any) -> None:
    """The worker's consumer is up: be seen now and then from its event loop's timer."""
    mark_seen("worker")
    timer = getattr(sender, "timer", None)
    if timer is not None:
        timer.call_repeatedly(WORKER_BEAT_SECONDS, mark_seen, ("worker",))
        return

    def loop() -> None:  # a consumer without a timer: fall back to a thread of the worker process
        while True:
            time.sleep(WORKER_BEAT_SECONDS)
            mark_seen("worker")

    threading.Thread(target=loop, name="worker-heartbeat", daemon=True).start()


def connect_heartbeats() -> None:
    """Hook beat and the worker into Celery's signals (idempotent; called from OpsConfig.ready)."""
    beat_init.connect(_on_beat_init, dispatch_uid="loship-heartbeat-beat-init")
    after_task_publish.connect(_on_task_published, dispatch_uid="loship-heartbeat-beat-publish")
    worker_ready.connect(_on_worker_ready, dispatch_uid="loship-heartbeat-worker")
