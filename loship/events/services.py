"""Write side of the outbox: record an event inside the caller's transaction."""

from typing import Any

from django.db import transaction

from loship.events.models import OutboxEvent


def record_event(
    *, topic: str, aggregate_type: str, aggregate_id: object, payload: dict[str, Any], sequence: int = 0
) -> OutboxEvent:
    """Store the event in the current transaction and ask the relay to publish it after commit.

    Must be called inside `transaction.atomic()`; if the transaction rolls back, the event never was.
    """
    assert transaction.get_connection().in_atomic_block, "record_event needs the caller's transaction"
    event = OutboxEvent.objects.create(
        topic=topic,
        aggregate_type=aggregate_type,
        aggregate_id=str(aggregate_id),
        sequence=sequence,
        payload=payload,
    )
    transaction.on_commit(_schedule_relay)
    return event


def _schedule_relay() -> None:
    from loship.events.tasks import relay_outbox

    relay_outbox.delay()
