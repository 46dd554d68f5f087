"""Publishing side of the outbox: deliver unpublished events, oldest first, once each."""

import logging

from django.db import transaction
from django.utils import timezone

from loship.events.models import OutboxEvent
from loship.events.subscribers import handlers_for

logger = logging.getLogger(__name__)

BATCH_SIZE = 200


def publish_pending(*, limit: int = BATCH_SIZE) -> int:
    """Publish up to `limit` unpublished events; returns how many were marked published.

    Rows are claimed with SKIP LOCKED so two relays never hand the same event out at once; an event
    whose handler fails stays unpublished for the next sweep.
    """
    published = 0
    with transaction.atomic():
        events = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(published_at__isnull=True)
            .order_by("id")[:limit]
        )
        for event in events:
            event.attempts += 1
            try:
                for _name, handler in handlers_for(event.topic):
                    handler(event)
            except Exception:
                logger.exception("outbox: delivering %s failed", event)
                event.save(update_fields=["attempts"])
                continue
            event.published_at = timezone.now()
            event.save(update_fields=["attempts", "published_at"])
            published += 1
    return published
