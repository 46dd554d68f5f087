"""Who hears about a drivers event: the driver offered a job (a push and an inbox row, so a driver whose
app sleeps still hears of it).

Rules only: `offer_notices` says what an event calls for and sends nothing. The notifications app
subscribes to `offer.created` and sends each notice (drivers never imports it)."""

from django.conf import settings

from loship.events.models import OutboxEvent
from orders.models import Order
from orders.notifications import Notice
from users.models import User


def offer_notices(event: OutboxEvent) -> list[Notice]:
    """The notice an `offer.created` event calls for: the driver's, naming where to pick up."""
    driver = User.objects.filter(pk=event.payload["driver_id"]).first()
    first_order = Order.objects.select_related("merchant").filter(pk=event.payload["order_ids"][0]).first()
    if driver is None or first_order is None:
        return []
    return [
        Notice(
            user=driver,
            kind="driver.offer",
            context={"merchant": first_order.merchant.name, "seconds": settings.DRIVER_OFFER_SECONDS},
            data={"offer_id": event.payload["offer_id"], "order_ids": event.payload["order_ids"]},
        )
    ]
