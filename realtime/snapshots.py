"""What each stream sends on connect (and on request): the current state, read fresh from PostgreSQL.

Snapshots carry the order versions they show, so the stream drops pushed events the client already
has (sequence <= snapshot) and a reconnecting client always ends up at the latest state.
"""

from typing import Any

from loship.push import last_position
from loship.timefmt import iso_or_none
from merchants.selectors import merchants_for_staff
from orders.models import HIDDEN_FROM_MERCHANT, TERMINAL_STATUSES, Order
from orders.selectors import OrderSnapshot, order_event_payload
from users.models import User

#: Open orders listed in a merchant or ops snapshot (newest first).
SNAPSHOT_ORDER_LIMIT = 500


def order_stream_snapshot(snapshot: OrderSnapshot) -> dict[str, Any]:
    order = snapshot.order
    return {
        "type": "order.snapshot",
        "order_id": order.pk,
        "sequence": order.version,
        "status": order.status,
        "eta": iso_or_none(order.eta),
        "promised_at": iso_or_none(order.promised_at),
        "order": snapshot.body,
        "driver_position": last_position(order.pk),
    }


def staff_may_watch(*, user: User, merchant_id: int) -> bool:
    return user.is_ops or merchants_for_staff(user).filter(pk=merchant_id).exists()


def _open_orders() -> Any:
    return Order.objects.exclude(status__in=TERMINAL_STATUSES).order_by("-created_at", "-id")


def merchant_stream_snapshot(merchant_id: int) -> dict[str, Any]:
    orders = (
        _open_orders()
        .filter(merchant_id=merchant_id)
        .exclude(payment_status__in=HIDDEN_FROM_MERCHANT)[:SNAPSHOT_ORDER_LIMIT]
    )
    return {
        "type": "merchant.snapshot",
        "merchant_id": merchant_id,
        "orders": [order_event_payload(order, reason=order.status_reason) for order in orders],
    }


def ops_stream_snapshot() -> dict[str, Any]:
    orders = list(_open_orders()[:SNAPSHOT_ORDER_LIMIT])
    counts: dict[str, int] = {}
    for status in _open_orders().values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return {
        "type": "ops.snapshot",
        "counts": counts,
        "orders": [order_event_payload(order, reason=order.status_reason) for order in orders],
    }
