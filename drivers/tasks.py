"""Celery entry points of the drivers app (queue `dispatch`). Thin and idempotent: they call services."""

from celery import shared_task

from drivers import services
from drivers.dispatch.orchestration import run_round


@shared_task(name="drivers.tasks.dispatch_round", ignore_result=True)
def dispatch_round() -> int:
    """One dispatch round (on events and every DISPATCH_ROUND_SECONDS from beat); returns offers made."""
    return len(run_round().offers)


@shared_task(name="drivers.tasks.expire_offers", ignore_result=True)
def expire_offers() -> int:
    """Sweep: overdue offers expire, offers whose orders were taken or closed are withdrawn."""
    expired = services.expire_offers()
    services.withdraw_stale_offers()
    return expired


@shared_task(name="drivers.tasks.save_positions", ignore_result=True)
def save_positions() -> int:
    """Copy live positions due for a save from Redis to PostgreSQL (throttled per driver)."""
    return services.save_due_positions()
