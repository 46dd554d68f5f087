"""Who hears about an order event: the customer (accepted, a driver assigned, rejected, picked up,
delivered, cancelled including the automatic cancel, delivery failed; the steps that move the delivery
promise say the new one) and the merchant's staff (a new order, a cancellation they did not make
themselves).

Rules only: `order_notices` says what an event calls for and sends nothing. The notifications app
subscribes to `order.*` events and sends each `Notice` (orders never imports it)."""

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from loship.events.models import OutboxEvent
from merchants.models import StaffMembership
from orders.models import ActorRole, Order, OrderEventKind
from users.models import User

CUSTOMER_KINDS = frozenset(
    {
        OrderEventKind.ACCEPTED,
        OrderEventKind.DRIVER_ASSIGNED,
        OrderEventKind.REJECTED,
        OrderEventKind.PICKED_UP,
        OrderEventKind.DELIVERED,
        OrderEventKind.CANCELLED,
        OrderEventKind.DELIVERY_FAILED,
    }
)
AUTO_CANCEL_REASONS = frozenset({"merchant_timeout"})
STAFF_TEMPLATES = {
    OrderEventKind.PLACED: "merchant.new_order",
    OrderEventKind.SCHEDULED: "merchant.new_scheduled_order",
    OrderEventKind.CANCELLED: "merchant.order_cancelled",
}


@dataclass(frozen=True)
class Notice:
    """One message an event calls for: to whom, which template, what fills it in, and the data the
    app gets with it."""

    user: User
    kind: str
    context: dict[str, Any]
    data: dict[str, Any]


def order_notices(event: OutboxEvent) -> list[Notice]:
    """The notices an `order.*` event calls for, the customer's first (none for most events)."""
    kind = OrderEventKind.of_topic(event.topic)
    if kind is None or (kind not in CUSTOMER_KINDS and kind not in STAFF_TEMPLATES):
        return []
    order = Order.objects.select_related("merchant", "customer").get(pk=event.payload["order_id"])
    payload = event.payload
    context: dict[str, Any] = {
        "code": payload["code"],
        "merchant": order.merchant.name,
        "eta": payload.get("eta"),
        "promised": payload.get("promised_at"),
        "slot": payload.get("scheduled_for"),
        "total_vnd": payload["total_vnd"],
        "items": sum(order.lines.values_list("quantity", flat=True)),
        "minutes": settings.MERCHANT_ACCEPT_MINUTES,
    }
    data = {"order_id": order.pk, "code": order.code, "status": payload["status"]}
    notices: list[Notice] = []
    if kind in CUSTOMER_KINDS:
        template = kind.topic
        if kind == OrderEventKind.CANCELLED and payload.get("reason") in AUTO_CANCEL_REASONS:
            template = "order.cancelled_timeout"
        notices.append(Notice(order.customer, template, context, data))
    staff_template = STAFF_TEMPLATES.get(kind)
    if staff_template and not (kind == OrderEventKind.CANCELLED and order.cancelled_by == ActorRole.MERCHANT):
        staff = User.objects.filter(
            pk__in=StaffMembership.objects.filter(merchant_id=order.merchant_id).values("user_id"),
            is_active=True,
        )
        notices += [Notice(member, staff_template, context, data) for member in staff]
    return notices
