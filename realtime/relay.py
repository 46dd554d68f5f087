"""Outbox -> Channels groups: every `order.*` event goes to the order's stream, the merchant's stream
(once the order is the merchant's business), the assigned driver and the ops city feed; a driver's
arrival at the restaurant (`job.arrived_at_pickup` from the drivers app) also goes to the merchant.

Pushes raise on a channel-layer error so the relay retries this destination (with backoff) until
Redis is back; the streams drop what they already sent (by `sequence` / `event_id`), so a retried or
doubled delivery never reaches a socket twice.
"""

from loship.events.models import OutboxEvent
from loship.events.subscribers import subscribe
from loship.push import (
    OPS_GROUP,
    driver_group,
    merchant_group,
    order_group,
    push_many_or_raise,
    push_or_raise,
    stream_body,
)
from orders.models import HIDDEN_FROM_MERCHANT, ORDER_TOPIC_PREFIX, Order

ORDER_STREAMS = "realtime.order_streams"
MERCHANT_ARRIVALS = "realtime.merchant_arrivals"


def push_order_event(event: OutboxEvent) -> None:
    payload = event.payload
    groups = [order_group(payload["order_id"]), OPS_GROUP]
    if payload.get("payment_status") not in HIDDEN_FROM_MERCHANT:
        groups.append(merchant_group(payload["merchant_id"]))
    if payload.get("driver_id"):
        groups.append(driver_group(payload["driver_id"]))
    push_many_or_raise(groups, stream_body(event))


def push_driver_arrival(event: OutboxEvent) -> None:
    merchant_id = (
        Order.objects.filter(pk=event.payload["order_id"]).values_list("merchant_id", flat=True).first()
    )
    if merchant_id is None:
        return
    body = {**stream_body(event), "merchant_id": merchant_id}
    body.pop("sequence")  # a job's position in its bundle, not an order version
    body["job_sequence"] = event.payload.get("sequence")
    push_or_raise(merchant_group(merchant_id), body)


def register() -> None:
    subscribe(ORDER_TOPIC_PREFIX, ORDER_STREAMS, push_order_event)
    subscribe("job.arrived_at_pickup", MERCHANT_ARRIVALS, push_driver_arrival)
