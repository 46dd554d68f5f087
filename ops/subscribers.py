"""Ops' own outbox events (`ops.*`) go to the ops city feed, where the dashboard shows them."""

from loship.events.models import OutboxEvent
from loship.realtime.groups import OPS_GROUP, push


def push_ops_event(event: OutboxEvent) -> None:
    push(OPS_GROUP, {"type": event.topic, "event_id": str(event.event_id), **event.payload})
