"""Write side of the outbox: record an event inside the caller's transaction.

Writing the row is all a caller does. A trigger on the table (migration 0003) sends
`NOTIFY loship_outbox` in the same statement, which PostgreSQL delivers at commit (never for a
rolled-back transaction, and once per transaction however many events it wrote); the relay process
(`manage.py relay_outbox`) listens and publishes at once. The beat sweep (`relay_outbox` task) is the
safety net when no relay process runs. No Celery task is queued per commit.
"""

from typing import Any

from django.db import transaction

from loship.events.models import OutboxEvent


def record_event(
    *, topic: str, aggregate_type: str, aggregate_id: object, payload: dict[str, Any], sequence: int = 0
) -> OutboxEvent:
    """Store the event in the current transaction; the relay publishes it after commit.

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
    placement): the event, unsaved. The caller must insert it in the same transaction (the insert
    wakes the relay, see the module docstring)."""
    assert transaction.get_connection().in_atomic_block, "an outbox event needs the caller's transaction"
    return OutboxEvent(
        topic=topic,
        aggregate_type=aggregate_type,
        aggregate_id=str(aggregate_id),
        sequence=sequence,
        payload=payload,
    )
