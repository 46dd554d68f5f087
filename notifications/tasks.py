"""Celery entry points of notifications (queue `notifications`); thin and idempotent. A send is retried
by the sweep, from the deadline on its attempt row, never by a Celery countdown that Redis could lose.

Each task imports the services inside its body: the services queue these tasks, so they import this
module at the top."""

from typing import Any

from celery import shared_task


@shared_task(
    name="notifications.tasks.notify_order_event",
    bind=True,
    ignore_result=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=8,
)
def notify_order_event(self: Any, event_id: str) -> int:
    """Inbox rows (and deliveries) for one order event; safe to run twice. The relay now writes them
    itself (notifications/subscribers.py); this stays for messages queued before that change."""
    from loship.events.models import OutboxEvent
    from notifications import services

    return services.notify_order_event(event=OutboxEvent.objects.get(event_id=event_id))


@shared_task(name="notifications.tasks.deliver", ignore_result=True)
def deliver(attempt_id: int) -> str:
    """Send one delivery attempt as its notification is written. A failure is not retried here: the
    attempt row keeps the time of its next try, and the sweep sends it then (and gives up after
    NOTIFICATIONS_MAX_ATTEMPTS)."""
    from notifications import services

    return services.deliver(attempt_id=attempt_id).status


@shared_task(name="notifications.tasks.sweep_deliveries", ignore_result=True)
def sweep_deliveries() -> int:
    """Send the attempts past their deadline: retries that are due, and first tries whose message or
    worker was lost (services.send_due)."""
    from notifications import services

    return services.send_due()
