"""The Celery application: queues `dispatch`, `notifications` and `default`; beat from the database.

`queue_best_effort` is how a request queues a task after its commit: the broker is Redis, and a Redis
outage must never turn a committed change into an error. Every task queued that way has a durable
trigger in PostgreSQL (a pending row or a deadline swept by beat), so a message that cannot be sent
only delays the work until beat's next sweep after Redis returns.
"""

import logging
import os
from typing import Any

import redis
from celery import Celery
from kombu import Exchange, Queue
from kombu.exceptions import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loship.settings")

logger = logging.getLogger(__name__)

app = Celery("loship")
app.config_from_object("django.conf:settings", namespace="CELERY")
QUEUES = ("default", "dispatch", "notifications")
app.conf.task_queues = tuple(Queue(name, Exchange(name), routing_key=name) for name in QUEUES)
app.autodiscover_tasks()

#: One reconnect (a pooled connection Redis dropped on a restart), then give up: with Redis down, a
#: send fails in milliseconds instead of Celery's default 0.6 s of retries.
ONE_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def queue_best_effort(task: Any, *args: Any) -> bool:
    """Queue `task(*args)`; False (logged) when the broker is unreachable, for the sweep to catch up."""
    try:
        task.apply_async(args=args, retry=True, retry_policy=ONE_RETRY)
    except (OperationalError, redis.RedisError):
        logger.warning("celery: could not queue %s%r (broker unreachable); its sweep will", task.name, args)
        return False
    return True
