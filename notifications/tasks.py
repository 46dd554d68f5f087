"""Celery entry points of notifications (queue `notifications`); thin, idempotent, retried with backoff.

Each task imports the services inside its body: the services queue these tasks, so they import this
module at the top."""

from typing import Any

from celery import shared_task

from notifications.models import DeliveryStatus


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


@shared_task(name="notifications.tasks.deliver", bind=True, ignore_result=True, max_retries=None)
def deliver(self: Any, attempt_id: int) -> str:
    """Send one delivery attempt; a retryable failure comes back after its backoff (the attempt row
    keeps the count and gives up after NOTIFICATIONS_MAX_ATTEMPTS)."""
    from notifications import services

    outcome = services.deliver(attempt_id=attempt_id)
    if outcome.status == DeliveryStatus.PENDING:
        raise self.retry(countdown=outcome.retry_in or 1)
    return outcome.status


@shared_task(name="notifications.tasks.sweep_deliveries", ignore_result=True)
def sweep_deliveries() -> int:
    """Queue attempts whose retry is due or that were never queued (broker down at the time)."""
    from notifications import services

    attempt_ids = services.due_attempt_ids()
    services.schedule_deliveries(attempt_ids)
    return len(attempt_ids)
