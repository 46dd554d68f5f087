"""Reads of orders shared by the API, the admin, the live streams and the drivers app."""

from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from loship.timefmt import iso, iso_or_none
from merchants.selectors import merchants_for_staff
from orders.models import HIDDEN_FROM_MERCHANT, Order, OrderEvent, OrderLine
from users.models import User


def order_event_payload(order: Order, *, reason: str = "") -> dict[str, Any]:
    """The payload of every `order.*` outbox event (the shape the brief's contract names)."""
    return {
        "order_id": order.pk,
        "code": order.code,
        "status": order.status,
        "version": order.version,
        "customer_id": order.customer_id,
        "merchant_id": order.merchant_id,
        "driver_id": order.driver_id,
        "eta": iso_or_none(order.eta),
        "total_vnd": order.total_vnd,
        "reason": reason,
        "payment_method": order.payment_method,
        "payment_status": order.payment_status,
    }


def order_snapshot(order: Order) -> dict[str, Any]:
    """Everything a live client needs to redraw the order after (re)connecting: the event payload
    plus the merchant, the drop-off, the lines and the timeline. Reads the lines and events fresh."""
    merchant = order.merchant
    lines = OrderLine.objects.filter(order_id=order.pk).order_by("id")
    events = OrderEvent.objects.filter(order_id=order.pk).order_by("version")
    return {
        **order_event_payload(order, reason=order.status_reason),
        "merchant": {
            "id": merchant.pk,
            "name": merchant.name,
            "lat": str(merchant.lat),
            "lng": str(merchant.lng),
            "address": merchant.address,
            "phone": merchant.phone,
        },
        "delivery": {
            "address": order.delivery_address,
            "lat": str(order.delivery_lat),
            "lng": str(order.delivery_lng),
            "note": order.delivery_note,
        },
        "prep_minutes": order.prep_minutes,
        "subtotal_vnd": order.subtotal_vnd,
        "delivery_fee_vnd": order.delivery_fee_vnd,
        "created_at": iso(order.created_at),
        "lines": [
            {
                "name": line.name,
                "quantity": line.quantity,
                "unit_price_vnd": line.unit_price_vnd,
                "options": [option["name"] for option in line.options],
                "note": line.note,
            }
            for line in lines
        ],
        "timeline": [
            {
                "version": event.version,
                "kind": event.kind,
                "status": event.to_status,
                "at": iso(event.created_at),
            }
            for event in events
        ],
    }


def orders_for_customer(user: User) -> QuerySet[Order]:
    return Order.objects.filter(customer=user)


def orders_for_merchant_staff(user: User) -> QuerySet[Order]:
    """Orders of the merchants the user works for, once they are the merchant's business (paid or
    cash); unpaid e-wallet orders stay hidden."""
    return Order.objects.filter(merchant__in=merchants_for_staff(user)).exclude(
        payment_status__in=HIDDEN_FROM_MERCHANT
    )


def orders_for_driver(user: User) -> QuerySet[Order]:
    return Order.objects.filter(driver=user)


def order_visible_to(*, user: User, order: Order) -> bool:
    """May this user see this order (API detail, live stream)? Ops see all; a customer their own; merchant
    staff their merchants' visible orders; a driver the orders assigned to them."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_ops or order.customer_id == user.pk or order.driver_id == user.pk:
        return True
    return orders_for_merchant_staff(user).filter(pk=order.pk).exists()


def order_detail_queryset() -> QuerySet[Order]:
    """Orders with what a detail view renders, in a fixed number of queries."""
    return Order.objects.select_related("merchant", "driver", "payment").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
        Prefetch("events", queryset=OrderEvent.objects.order_by("version")),
    )


def ops_order_search(
    *,
    status: str | None = None,
    merchant_id: int | None = None,
    date_from: Any = None,
    date_to: Any = None,
    code: str | None = None,
    phone: str | None = None,
) -> QuerySet[Order]:
    """Ops filter: status, merchant, creation date range, order code (prefix) and customer phone (suffix)."""
    orders = Order.objects.select_related("merchant", "customer")
    if status:
        orders = orders.filter(status=status)
    if merchant_id:
        orders = orders.filter(merchant_id=merchant_id)
    if date_from:
        orders = orders.filter(created_at__date__gte=date_from)
    if date_to:
        orders = orders.filter(created_at__date__lte=date_to)
    if code:
        orders = orders.filter(code__istartswith=code.strip())
    if phone:
        digits = "".join(ch for ch in phone if ch.isdigit()).lstrip("0")
        if digits.startswith("84"):
            digits = digits[2:]
        orders = orders.filter(Q(customer_phone__endswith=digits) | Q(customer__phone__endswith=digits))
    return orders
