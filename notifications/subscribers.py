"""What the notifications app hears from the outbox. Other apps hold the rules (who hears about what:
orders/notifications.py, drivers/notifications.py); this app sends what they return.

- `order.*` -> the notifications queue. Queuing fails loudly (the relay retries this destination until
  the broker is back); the task itself is idempotent per event.
- `offer.created` -> the driver's notification, written in the relay (once per event).
"""

from loship.events.models import OutboxEvent
from loship.events.subscribers import subscribe
from notifications import services
from notifications.tasks import notify_order_event as notify_order_event_task
from orders.models import ORDER_TOPIC_PREFIX

ORDER_NOTIFICATIONS = "notifications.orders"
DRIVER_OFFERS = "notifications.driver_offers"


def queue_order_notifications(event: OutboxEvent) -> None:
    notify_order_event_task.apply_async(
        args=(str(event.event_id),), retry=True, retry_policy={"max_retries": 1}
    )


def notify_driver_of_offer(event: OutboxEvent) -> None:
    services.notify_offer(event=event)


def register() -> None:
    subscribe(ORDER_TOPIC_PREFIX, ORDER_NOTIFICATIONS, queue_order_notifications)
    subscribe("offer.created", DRIVER_OFFERS, notify_driver_of_offer)
