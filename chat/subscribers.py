"""The chat's outbox destinations.

- `chat.*` -> the sockets: the order's stream (its customer, and ops watching it) and the current
  driver's socket, read at delivery so a driver who lost the order hears no more of it. The body is
  the event's payload with its `type` and `event_id` (the streams drop a repeat by `event_id`); the
  outbox `sequence` is left out, since on the order stream that word means the order's version: a
  message's own `seq` is in it, and a client that sees a gap in `seq` fetches the history.
- `chat.message` -> the other side's phone, when they are not connected (chat/notifications.py).
"""

from chat.notifications import message_notices
from chat.services import MESSAGE_TOPIC
from loship.events.models import OutboxEvent
from loship.events.subscribers import subscribe
from loship.push import driver_group, order_group, push_many_or_raise, stream_body
from notifications.services import notify_all
from orders.models import Order

CHAT_STREAMS = "chat.streams"
CHAT_PUSH = "chat.push"


def push_to_sockets(event: OutboxEvent) -> None:
    order_id = event.payload["order_id"]
    driver_id = Order.objects.filter(pk=order_id).values_list("driver_id", flat=True).first()
    groups = [order_group(order_id)]
    if driver_id is not None:
        groups.append(driver_group(driver_id))
    body = stream_body(event)
    body.pop("sequence")
    push_many_or_raise(groups, body)


def notify_away_side(event: OutboxEvent) -> None:
    notify_all(notices=message_notices(event), source_event_id=event.event_id)


def register() -> None:
    subscribe("chat.", CHAT_STREAMS, push_to_sockets)
    subscribe(MESSAGE_TOPIC, CHAT_PUSH, notify_away_side)
