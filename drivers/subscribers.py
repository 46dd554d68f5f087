"""How the drivers app reacts to outbox events (registered in DriversConfig.ready()).

- `order.*` from the orders app feed the dispatch pool and trigger a round;
- the drivers app's own `offer.*`, `job.*` and `driver.*` events are pushed to the driver's group,
  the order's group (jobs) and the ops feed.
Handlers run in the relay and are idempotent: an event may be delivered twice. Who is notified of an
offer is in drivers/notifications.py (the notifications app sends it).
"""

from typing import Any


from drivers import services
from drivers.tasks import request_round
from loship.events.models import OutboxEvent
from loship.events.subscribers import subscribe
from loship.push import OPS_GROUP, driver_group, order_group, push
from orders.models import ORDER_TOPIC_PREFIX, OrderEventKind

#: Order events after which the order needs no driver any more.
CLOSING_KINDS = frozenset(
    {
        OrderEventKind.REJECTED,
        OrderEventKind.CANCELLED,
        OrderEventKind.DELIVERED,
        OrderEventKind.DELIVERY_FAILED,
    }
)


def on_order_event(event: OutboxEvent) -> None:
    kind = OrderEventKind.of_topic(event.topic)
    order_id = int(event.payload["order_id"])
    if kind in (OrderEventKind.ACCEPTED, OrderEventKind.PREPARING):
        if services.enter_pool(order_id=order_id) is not None:
            request_round()
    elif kind == OrderEventKind.READY_FOR_PICKUP:
        if services.mark_food_ready(order_id=order_id) is not None:
            request_round()
    elif kind in CLOSING_KINDS:
        services.close_dispatch(order_id=order_id)
    elif kind == OrderEventKind.DRIVER_UNASSIGNED and services.release_order(order_id=order_id) is not None:
        request_round()


def push_drivers_event(event: OutboxEvent) -> None:
    """Offers and jobs to the driver, jobs to the customer's order, everything to ops."""
    body: dict[str, Any] = {"type": event.topic, "event_id": str(event.event_id), **event.payload}
    driver_id = event.payload.get("driver_id")
    if driver_id is not None and not event.topic.startswith("driver.not_found"):
        push(driver_group(driver_id), body)
    if event.topic.startswith("job."):
        push(order_group(event.payload["order_id"]), body)
    push(OPS_GROUP, body)


def register() -> None:
    subscribe(ORDER_TOPIC_PREFIX, "drivers.dispatch_pool", on_order_event)
    for prefix in ("offer.", "job.", "driver."):
        subscribe(prefix, "drivers.push", push_drivers_event)
