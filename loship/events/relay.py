"""Publishing side of the outbox: deliver each event once to each destination, in order per aggregate.

Ordering. Events of one aggregate (an order) are delivered strictly in order, even with several relays
running (the after-commit task and the beat sweep, on several workers). Claiming single rows with
SKIP LOCKED is not enough: relay A could hold event #1 of an order while relay B skips it and publishes
#2. So the relay works aggregate by aggregate under a PostgreSQL advisory lock on the aggregate: whoever
holds it delivers that aggregate's pending events oldest first; the others skip it. After releasing
the lock the holder looks again for events that arrived meanwhile (a relay that skipped them while it
held the lock counted on it), so nothing waits for the next sweep.

Once per destination. Each subscriber is a destination by name. A delivered destination is recorded on
the event (`delivered_to`) and never called again for it; a failing destination is retried with
backoff, and while it fails the later events of the same aggregate wait for that destination only, so
one broken destination neither blocks nor duplicates the others. A relay killed between a handler
call and the save of `delivered_to` calls that handler again: receivers deduplicate by `event_id` (and
`sequence`), as the live streams and notifications do.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Min, Q
from django.utils import timezone

from loship.events.models import OutboxEvent
from loship.events.subscribers import handlers_for
from loship.metrics import OUTBOX_PUBLISHED

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
#: First key of the relay's advisory locks (the second is a hash of the aggregate).
ADVISORY_LOCK_SPACE = 0x0B0C


def publish_pending(*, limit: int = BATCH_SIZE) -> int:
    """Deliver the pending events of up to `limit` aggregates, oldest first; returns how many events
    became published (every destination done). Events waiting out a retry backoff do not count, so
    aggregates stuck behind a failing destination never crowd out new events."""
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now())
    aggregates = (
        OutboxEvent.objects.filter(due, published_at__isnull=True)
        .values_list("aggregate_type", "aggregate_id")
        .annotate(first_id=Min("id"))
        .order_by("first_id")[:limit]
    )
    return sum(publish_aggregate(aggregate_type=kind, aggregate_id=key) for kind, key, _ in aggregates)


def publish_aggregate(*, aggregate_type: str, aggregate_id: str) -> int:
    """Deliver one aggregate's pending events in order, unless another relay is doing it right now."""
    lock_key = f"{aggregate_type}:{aggregate_id}"
    published = 0
    while True:
        if not _try_lock(lock_key):
            return published  # the holder re-checks after releasing, see the module docstring
        try:
            count, last_seen_id = _deliver_in_order(aggregate_type, aggregate_id)
            published += count
        finally:
            _unlock(lock_key)
        arrived_meanwhile = OutboxEvent.objects.filter(
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            published_at__isnull=True,
            id__gt=last_seen_id,
        ).exists()
        if not arrived_meanwhile:
            return published


def _try_lock(key: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", [ADVISORY_LOCK_SPACE, key])
        row = cursor.fetchone()
    return bool(row and row[0])


def _unlock(key: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", [ADVISORY_LOCK_SPACE, key])


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the `attempts`-th failed pass: base, 2x base, 4x base... capped."""
    base = float(settings.OUTBOX_RETRY_BASE_SECONDS)
    return timedelta(seconds=min(float(settings.OUTBOX_RETRY_MAX_SECONDS), base * 2 ** max(attempts - 1, 0)))


def _deliver_in_order(aggregate_type: str, aggregate_id: str) -> tuple[int, int]:
    """Deliver the aggregate's pending events (the caller holds its lock); returns (published, last id)."""
    events = list(
        OutboxEvent.objects.filter(
            aggregate_type=aggregate_type, aggregate_id=aggregate_id, published_at__isnull=True
        ).order_by("id")
    )
    # Destinations an earlier event of this aggregate still owes: later events wait for them.
    waiting: set[str] = set()
    published = 0
    for event in events:
        if _deliver(event, waiting=waiting, now=timezone.now()):
            published += 1
    return published, events[-1].pk if events else 0


def _deliver(event: OutboxEvent, *, waiting: set[str], now: datetime) -> bool:
    """Call the destinations this event still owes (not those waiting on an earlier event); record the
    outcome; True when the event is now published."""
    handlers = handlers_for(event.topic)
    done = {*event.delivered_to, *event.failed_to}
    owed = [(name, handler) for name, handler in handlers if name not in done]
    if event.next_attempt_at is not None and event.next_attempt_at > now:
        waiting.update(name for name, _ in owed)
        return False
    failed: list[str] = []
    errors: list[str] = []
    for name, handler in owed:
        if name in waiting:
            continue
        try:
            handler(event)
        except Exception as exc:
            logger.warning("outbox: %s -> %s failed", event, name, exc_info=True)
            failed.append(name)
            errors.append(f"{name}: {exc!r}"[:500])
            continue
        event.delivered_to.append(name)
    update_fields = ["delivered_to"]
    if failed:
        event.attempts += 1
        event.last_error = "\n".join(errors)
        update_fields += ["attempts", "last_error", "next_attempt_at", "failed_to"]
        if event.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            logger.error("outbox: giving up on %s for %s after %d attempts", event, failed, event.attempts)
            event.failed_to.extend(failed)
            event.next_attempt_at = None
        else:
            event.next_attempt_at = now + retry_delay(event.attempts)
            waiting.update(failed)
    finished = {*event.delivered_to, *event.failed_to}
    if all(name in finished for name, _ in handlers):
        event.published_at = now
        update_fields.append("published_at")
    event.save(update_fields=update_fields)
    if event.published_at is not None:
        OUTBOX_PUBLISHED.inc()
        return True
    return False
