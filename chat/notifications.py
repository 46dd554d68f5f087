"""Who hears about a chat message on their phone: the other side of the chat, unless a socket of theirs
would show it live (the customer with the order's stream open, the driver with the driver socket open;
`loship.presence`). Rules only: the subscriber sends what `message_notices` returns."""

from chat.models import ChatRole
from loship import presence
from loship.events.models import OutboxEvent
from orders.models import Order
from orders.notifications import Notice

#: How much of the message a phone notification shows.
PREVIEW_LENGTH = 140
TEMPLATES = {ChatRole.CUSTOMER: "chat.from_customer", ChatRole.DRIVER: "chat.from_driver"}


def preview(text: str) -> str:
    return text if len(text) <= PREVIEW_LENGTH else text[: PREVIEW_LENGTH - 1] + "…"


def message_notices(event: OutboxEvent) -> list[Notice]:
    """The notice a `chat.message` calls for: to the order's other side (its current driver, for a
    customer's message), none when that side has no one or is connected."""
    message = event.payload["message"]
    order = Order.objects.select_related("customer", "driver").get(pk=event.payload["order_id"])
    if message["sender_role"] == ChatRole.CUSTOMER:
        recipient = order.driver
        subject = presence.driver(order.driver_id)
    else:
        recipient = order.customer
        subject = presence.order_customer(order.pk, order.customer_id)
    if recipient is None or presence.is_present(subject):
        return []
    return [
        Notice(
            user=recipient,
            kind=TEMPLATES[message["sender_role"]],
            context={"code": order.code, "text": preview(message["body"])},
            data={"order_id": order.pk, "chat_seq": message["seq"]},
        )
    ]
