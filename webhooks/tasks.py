"""Celery entry points of the partner webhooks (queue `notifications`, beside the other sends to third
parties); thin. The services queue these tasks, so each imports the services inside its body."""

from celery import shared_task


@shared_task(name="webhooks.tasks.deliver", ignore_result=True)
def deliver(delivery_id: int, attempts_seen: int) -> str:
    """One try of one delivery, if the row still has had `attempts_seen` tries; a failure is retried by
    the sweep from the row's `next_attempt_at`, never by Celery."""
    from webhooks import services

    return services.deliver(delivery_id=delivery_id, attempts_seen=attempts_seen)


@shared_task(name="webhooks.tasks.queue_due", ignore_result=True)
def queue_due() -> int:
    """Queue the deliveries past their deadline (beat, every WEBHOOKS_SWEEP_SECONDS)."""
    from webhooks import services

    return services.queue_due()
