"""Celery entry points of the drivers app (queue `dispatch`). Thin and idempotent: they call services.

Services import these tasks at module level (as `<name>_task`); the tasks import services only inside
their bodies, so the import graph points one way.
"""

from celery import shared_task


@shared_task(name="drivers.tasks.dispatch_round", ignore_result=True)
def dispatch_round() -> int:
    """One dispatch round (on events and every DISPATCH_ROUND_SECONDS from beat); returns offers made."""
    from drivers.dispatch.orchestration import run_round

    return len(run_round().offers)


@shared_task(name="drivers.tasks.expire_offers", ignore_result=True)
def expire_offers() -> int:
    """Sweep: overdue offers expire, offers whose orders were taken or closed are withdrawn."""
    from drivers import services

    expired = services.expire_offers()
    services.withdraw_stale_offers()
    return expired


@shared_task(name="drivers.tasks.save_positions", ignore_result=True)
def save_positions() -> int:
    """Copy live positions due for a save from Redis to PostgreSQL (throttled per driver)."""
    from drivers import services

    return services.save_due_positions()
