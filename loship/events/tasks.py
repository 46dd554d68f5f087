"""Celery entry point of the outbox. The task imports the relay inside its body: the write side
(services) queues this task, so it imports this module at the top."""

from celery import shared_task


@shared_task(name="loship.events.tasks.relay_outbox", ignore_result=True)
def relay_outbox() -> int:
    """Publish what is pending; triggered after each commit and swept by beat."""
    from loship.events.relay import publish_pending

    return publish_pending()
