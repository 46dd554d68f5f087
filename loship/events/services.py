"""Write side of the outbox: record an event inside the caller's transaction."""

import logging
from typing import Any

from django.db import transaction

from loship.events.models import OutboxEvent
from loship.events.tasks import relay_outbox as relay_outbox_task

logger = logging.getLogger(__name__)


def record_event(
    *, topic: str, aggregate_type: str, aggregate_id: object, payload: dict[str, Any], sequence: int = 0
) -> OutboxEvent:
    """Store the event in the current transaction and ask the relay to publish it after commit.

    Must be called inside `transaction.atomic()`; if the transaction rolls back, the event never was.
    """
    event = pending_event(
        topic=topic,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        payload=payload,
        sequence=sequence,
    )
    event.save(force_insert=True)
    return event


def pending_event(
    *, topic: str, aggregate_type: str, aggregate_id: object, payload: dict[str, Any], sequence: int = 0
) -> OutboxEvent:
    """`record_event` for a caller that inserts the row itself, batched with its own writes (order
    placement): the event, unsaved, with the relay already asked to run after commit. The caller must
    insert it in the same transaction."""
    assert transaction.get_connection().in_atomic_block, "an outbox event needs the caller's transaction"
    event = OutboxEvent(
        topic=topic,
        aggregate_type=aggregate_type,
        aggregate_id=str(aggregate_id),
        sequence=sequence,
        payload=payload,
    )
    transaction.on_commit(_schedule_relay, robust=True)
    return event


#: One quick retry: when the broker is down the commit has happened, the caller must not wait or fail,
#: and the beat sweep publishes the event once the broker is back.
_SCHEDULE_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def _schedule_relay() -> None:
    try:
        relay_outbox_task.apply_async(retry=True, retry_policy=_SCHEDULE_RETRY_POLICY)
    except Exception:
        logger.warning("outbox: could not schedule the relay; the catch-up sweep will publish", exc_info=True)
