"""Who hears about an order event: the customer (accepted, rejected, picked up, delivered, cancelled
including the automatic cancel, delivery failed) and the merchant's staff (a new order, a cancellation
they did not make themselves)."""

from typing import Any

from django.conf import settings

from loship.events.models import OutboxEvent
from loship.notifications.services import notify
from merchants.models import StaffMembership
from orders.models import ActorRole, Order
from users.models import User

CUSTOMER_KINDS = frozenset({"accepted", "rejected", "picked_up", "delivered", "cancelled", "delivery_failed"})
AUTO_CANCEL_REASONS = frozenset({"merchant_timeout"})


def notify_for_order_event(event: OutboxEvent) -> int:
    """Write the notifications an `order.*` event calls for (idempotent per event); returns how many."""
    kind = event.topic.removeprefix("order.")
    if kind not in CUSTOMER_KINDS and kind != "placed":
        return 0
    order = Order.objects.select_related("merchant", "customer").get(pk=event.payload["order_id"])
    payload = event.payload
    context: dict[str, Any] = {
        "code": payload["code"],
        "merchant": order.merchant.name,
        "eta": payload.get("eta"),
        "total_vnd": payload["total_vnd"],
        "items": sum(order.lines.values_list("quantity", flat=True)),
        "minutes": settings.MERCHANT_ACCEPT_MINUTES,
    }
    data = {"order_id": order.pk, "code": order.code, "status": payload["status"]}
    sent = 0
    if kind in CUSTOMER_KINDS:
        template = f"order.{kind}"
        if kind == "cancelled" and payload.get("reason") in AUTO_CANCEL_REASONS:
            template = "order.cancelled_timeout"
        sent += _notify(order.customer, template, context, data, event)
    staff_template = {"placed": "merchant.new_order", "cancelled": "merchant.order_cancelled"}.get(kind)
    if staff_template and not (kind == "cancelled" and order.cancelled_by == ActorRole.MERCHANT):
        staff = User.objects.filter(
            pk__in=StaffMembership.objects.filter(merchant_id=order.merchant_id).values("user_id"),
            is_active=True,
        )
        for member in staff:
            sent += _notify(member, staff_template, context, data, event)
    return sent


def _notify(user: User, kind: str, context: dict[str, Any], data: dict[str, Any], event: OutboxEvent) -> int:
    return int(
        notify(user=user, kind=kind, context=context, data=data, source_event_id=event.event_id) is not None
    )
