"""Order events -> the notifications queue. Queuing fails loudly (the relay retries this destination
until the broker is back); the task itself is idempotent per event."""

from loship.events.models import OutboxEvent
from loship.events.subscribers import subscribe

ORDER_NOTIFICATIONS = "notifications.orders"


def queue_order_notifications(event: OutboxEvent) -> None:
    from loship.notifications.tasks import notify_order_event

    notify_order_event.apply_async(args=(str(event.event_id),), retry=True, retry_policy={"max_retries": 1})


def register() -> None:
    subscribe("order.", ORDER_NOTIFICATIONS, queue_order_notifications)
