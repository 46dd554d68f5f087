"""Ops' outbox reactions (registered in OpsConfig.ready()): its own events (`ops.*`) go to the ops city
feed, where the dashboard shows them; each driver assignment is timed from the merchant's acceptance
(the dispatch latency metric)."""

from loship.events.models import OutboxEvent
from loship.events.subscribers import subscribe
from loship.metrics import DISPATCH_LATENCY_SECONDS
from loship.push import OPS_GROUP, push
from orders.models import Order, OrderEventKind


def push_ops_event(event: OutboxEvent) -> None:
    push(OPS_GROUP, {"type": event.topic, "event_id": str(event.event_id), **event.payload})


def observe_dispatch_latency(event: OutboxEvent) -> None:
    """A redelivered event is observed twice: a metric, not a record (the dashboard reads the rows)."""
    accepted_at = Order.objects.filter(pk=event.aggregate_id).values_list("accepted_at", flat=True).first()
    if accepted_at is not None:
        DISPATCH_LATENCY_SECONDS.observe(max(0.0, (event.created_at - accepted_at).total_seconds()))


def register() -> None:
    subscribe("ops.", "ops-city-feed", push_ops_event)
    subscribe(OrderEventKind.DRIVER_ASSIGNED.topic, "ops-dispatch-latency", observe_dispatch_latency)
