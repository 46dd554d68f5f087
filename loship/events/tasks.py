"""Celery entry point of the outbox: the catch-up sweep beat runs every OUTBOX_SWEEP_SECONDS, the
safety net behind the relay process (`manage.py relay_outbox`). Nothing queues it per commit."""

from celery import shared_task


@shared_task(name="loship.events.tasks.relay_outbox", ignore_result=True)
def relay_outbox() -> int:
    """Publish what is pending (the beat sweep)."""
    from loship.events.relay import publish_pending

    return publish_pending()
