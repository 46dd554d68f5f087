"""How the drivers app reacts to outbox events (registered in DriversConfig.ready()).

- `order.*` from the orders app feed the dispatch pool and ask for a round when one could offer the
  order (coalesced: `drivers.tasks.request_round`);
- the drivers app's own `offer.*`, `job.*` and `driver.*` events are pushed to the driver's group,
  the order's group (jobs) and the ops feed.
Handlers run in the relay and are idempotent: an event may be delivered twice. Who is notified of an
offer is in drivers/notifications.py (the notifications app sends it).
"""

from typing import Any

from django.utils import timezone

from drivers import services
from drivers.models import DispatchRequest, DispatchStatus, Offer, OfferStatus
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
        _round_if_it_could_offer(services.enter_pool(order_id=order_id))
    elif kind == OrderEventKind.READY_FOR_PICKUP:
        _round_if_it_could_offer(services.mark_food_ready(order_id=order_id))
    elif kind in CLOSING_KINDS:
        services.close_dispatch(order_id=order_id)
    elif kind == OrderEventKind.DRIVER_UNASSIGNED:
        _round_if_it_could_offer(services.release_order(order_id=order_id))


def _round_if_it_could_offer(request: DispatchRequest | None) -> None:
    """Ask for a round only when one could offer this order now: it waits for a driver, is dispatchable
    and no open offer carries it. Otherwise a round would change nothing for it; the beat rounds pick it
    up once that changes (an offer declined or expired asks for a round itself)."""
    if (
        request is not None
        and request.status == DispatchStatus.WAITING
        and request.dispatchable_at <= timezone.now()
        and not Offer.objects.filter(status=OfferStatus.OFFERED, order_ids__contains=[request.pk]).exists()
    ):
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
