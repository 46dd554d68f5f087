from celery import shared_task

from loship.events.relay import publish_pending


@shared_task(name="loship.events.tasks.relay_outbox", ignore_result=True)
def relay_outbox() -> int:
    """Publish what is pending; triggered after each commit and swept by beat."""
    return publish_pending()
