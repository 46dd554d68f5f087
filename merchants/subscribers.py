"""Menu, busy and hours changes reach the merchant's own live stream, so every tablet and admin page
of that merchant sees a dish sold out or the busy switch flip without reloading."""

from loship.events.models import OutboxEvent
from loship.events.subscribers import subscribe
from loship.push import merchant_group, push_or_raise, stream_body

MERCHANT_STREAM = "merchants.merchant_stream"


def push_merchant_event(event: OutboxEvent) -> None:
    push_or_raise(merchant_group(event.payload["merchant_id"]), stream_body(event))


def register() -> None:
    subscribe("merchant.", MERCHANT_STREAM, push_merchant_event)
