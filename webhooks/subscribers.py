"""What the partner webhooks hear from the outbox: every `order.*` event, turned into one delivery
row per subscribed endpoint of the order's merchant (in the relay: a few queries, no HTTP)."""

from loship.events.models import OutboxEvent
from loship.events.subscribers import subscribe
from orders.models import ORDER_TOPIC_PREFIX
from webhooks import services

PARTNER_WEBHOOKS = "webhooks.partners"


def enqueue_partner_deliveries(event: OutboxEvent) -> None:
    services.enqueue_event(event=event)


def register() -> None:
    subscribe(ORDER_TOPIC_PREFIX, PARTNER_WEBHOOKS, enqueue_partner_deliveries)
