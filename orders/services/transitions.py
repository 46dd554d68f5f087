"""What every change of an order is made of: the row lock, the history row, the outbox event, and the
merchant's answer deadline.

The state machine (`lifecycle`), placement and payments build on these; this module imports none of
them, so none of them has to import the state machine for its primitives.
"""

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from loship.events.models import OutboxEvent
from loship.events.services import pending_event, record_event
from orders.models import ActorRole, Order, OrderEvent, OrderEventKind
from orders.selectors import order_event_payload
from users.models import User


def lock_order(order_id: int) -> Order:
    """The order, locked for the rest of the transaction (404 if it does not exist)."""
    return Order.objects.select_for_update(of=("self",)).get(pk=order_id)


def merchant_accept_deadline(now: datetime) -> datetime:
    """When an order placed (or paid) at `now` is cancelled if the merchant has not answered."""
    return now + timedelta(minutes=settings.MERCHANT_ACCEPT_MINUTES)


def new_order_event(
    order: Order,
    *,
    kind: OrderEventKind,
    from_status: str,
    actor: User | None,
    actor_role: str,
    reason: str = "",
) -> OrderEvent:
    """The (unsaved) history row of the order's current version."""
    return OrderEvent(
        order=order,
        version=order.version,
        kind=kind,
        from_status=from_status,
        to_status=order.status,
        actor=actor,
        actor_role=actor_role,
        reason=reason[:255],
    )


def _announcement(order: Order, *, kind: OrderEventKind, reason: str) -> dict[str, Any]:
    return {
        "topic": kind.topic,
        "aggregate_type": "order",
        "aggregate_id": order.pk,
        "sequence": order.version,
        "payload": order_event_payload(order, reason=reason),
    }


def announce_change(order: Order, *, kind: OrderEventKind, reason: str = "") -> None:
    """The outbox event of the order's current version (published after commit)."""
    record_event(**_announcement(order, kind=kind, reason=reason))


def pending_announcement(order: Order, *, kind: OrderEventKind, reason: str = "") -> OutboxEvent:
    """`announce_change` for a caller that inserts the outbox row in its own batch (placement)."""
    return pending_event(**_announcement(order, kind=kind, reason=reason))


def record_change(
    order: Order,
    *,
    kind: OrderEventKind,
    from_status: str,
    actor: User | None,
    actor_role: str,
    reason: str = "",
    update_fields: Collection[str] = (),
) -> OrderEvent:
    """Bump the version, save the given fields, write the history row and the outbox event; returns
    the history row. The caller holds the order's row lock inside `transaction.atomic()`."""
    order.version += 1
    order.save(update_fields=["version", "updated_at", *update_fields])
    event = new_order_event(
        order, kind=kind, from_status=from_status, actor=actor, actor_role=actor_role, reason=reason
    )
    event.save(force_insert=True)
    announce_change(order, kind=kind, reason=reason)
    return event


def record_payment_change(order: Order, *, reason: str) -> OrderEvent:
    """`record_change` for a change of the order's `payment_status` alone, made by the system."""
    return record_change(
        order,
        kind=OrderEventKind.PAYMENT_UPDATED,
        from_status=order.status,
        actor=None,
        actor_role=ActorRole.SYSTEM,
        reason=reason,
        update_fields=["payment_status"],
    )
