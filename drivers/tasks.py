"""Celery entry points of the drivers app (queue `dispatch`). Thin and idempotent: they call services.

Services import these tasks at module level (as `<name>_task`); the tasks import services only inside
their bodies, so the import graph points one way.
"""

import contextlib
import logging

import redis
from celery import shared_task
from django.conf import settings
from django.db import transaction

from drivers import location
from loship.celery import queue_best_effort

logger = logging.getLogger(__name__)

#: Set while a requested round waits in the queue; the round deletes it as it starts.
ROUND_REQUESTED_KEY = "loship:dispatch:round-requested"


def request_round() -> None:
    """Ask for a dispatch round after the caller's commit, one per burst of requests.

    Requests made while a requested round still waits in the queue are that round's: it starts after
    their commits, so it sees their orders. The round clears the flag before it reads the pool, so a
    request after that queues the next round. The flag expires after DISPATCH_ROUND_SECONDS in case
    its round is lost; beat runs a round that often anyway, which is also what catches up when Redis
    (the flag and the broker) is down: the request is then only logged."""
    transaction.on_commit(_queue_round, robust=True)


def _queue_round() -> None:
    try:
        ttl_ms = int(settings.DISPATCH_ROUND_SECONDS * 1000)
        if not location.client().set(ROUND_REQUESTED_KEY, 1, nx=True, px=ttl_ms):
            return
    except redis.RedisError:
        logger.warning("dispatch: could not coalesce the round request; queuing it")
    queue_best_effort(dispatch_round)


@shared_task(name="drivers.tasks.dispatch_round", ignore_result=True)
def dispatch_round() -> int:
    """One dispatch round (on requests, coalesced, and every DISPATCH_ROUND_SECONDS from beat); returns
    offers made."""
    from drivers.dispatch.orchestration import run_round

    with contextlib.suppress(redis.RedisError):
        location.client().delete(ROUND_REQUESTED_KEY)
    return len(run_round().offers)


@shared_task(name="drivers.tasks.expire_offers", ignore_result=True)
def expire_offers() -> int:
    """Sweep: overdue offers expire, offers whose orders were taken or closed are withdrawn."""
    from drivers import services

    expired = services.expire_offers()
    services.withdraw_stale_offers()
    return expired


@shared_task(name="drivers.tasks.sync_carrying", ignore_result=True)
def sync_carrying() -> int:
    """Rebuild the carrying sets in Redis from the jobs in PostgreSQL (after an outage or a restart)."""
    from drivers import services

    return services.sync_carrying()


@shared_task(name="drivers.tasks.save_positions", ignore_result=True)
def save_positions() -> int:
    """Copy live positions due for a save from Redis to PostgreSQL (throttled per driver)."""
    from drivers import services

    return services.save_due_positions()
