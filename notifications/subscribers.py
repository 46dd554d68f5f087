"""What the notifications app hears from the outbox. Other apps hold the rules (who hears about what:
orders/notifications.py, drivers/notifications.py); this app sends what they return.

Both destinations write the inbox rows in the relay itself (a few queries, not a task), once per event
however often it is delivered; only the push and email sends go to the `notifications` queue, after
the rows commit. A failure (the database) fails the destination, which the relay retries.

- `order.*` -> the notifications the orders app's rules call for;
- `offer.created` -> the driver's notification.
"""

from loship.events.models import OutboxEvent
from loship.events.subscribers import subscribe
from notifications import services
from orders.models import ORDER_TOPIC_PREFIX

ORDER_NOTIFICATIONS = "notifications.orders"
DRIVER_OFFERS = "notifications.driver_offers"


def notify_of_order_event(event: OutboxEvent) -> None:
    services.notify_order_event(event=event)


def notify_driver_of_offer(event: OutboxEvent) -> None:
    services.notify_offer(event=event)


def register() -> None:
    subscribe(ORDER_TOPIC_PREFIX, ORDER_NOTIFICATIONS, notify_of_order_event)
    subscribe("offer.created", DRIVER_OFFERS, notify_driver_of_offer)
