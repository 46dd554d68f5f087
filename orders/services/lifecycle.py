"""The order state machine (docs/architecture.md, "The life of an order"): one function per transition.

Each locks the order row, checks the allowed source states, writes the new state, bumps
`order.version`, and writes the `OrderEvent` row and the outbox event in the same transaction.
An illegal transition raises a 409 with a code (`order_transition_not_allowed`, or a more specific one).
A transition asked again for the status the order already reached, by the caller who took it there
and with the same inputs, is a retry whose answer was lost: it returns the order and writes nothing
(`_reached`, checked under the row lock, so racing retries are serialised and one of them writes).
The building blocks (row lock, history row, outbox event) are in `transitions`; an order closed before
delivery gives its promo use back (`promotions`) and settles its payment (`refunds`) and its tip
(`tips`), and a delivered one pays its held tip out to the driver.
"""

from collections.abc import Collection
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from orders.errors import OrderErrors
from orders.models import (
    BEFORE_PICKUP_STATUSES,
    HIDDEN_FROM_MERCHANT,
    ActorRole,
    LedgerAccount,
    LedgerKind,
    Order,
    OrderEventKind,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
)
from orders.pricing import PricingConfig, estimated_delivery_at
from orders.services.ledger import book
from orders.services.promises import merchant_queue, promised_before_driver
from orders.services.promotions import release_redemption
from orders.services.refunds import settle_payment_on_close
from orders.services.settlement import book_merchant_settlement
from orders.services.tips import pay_out_tip_on_delivery, settle_tip_on_close
from orders.services.transitions import lock_order, record_change
from users.models import User

MAX_PREP_MINUTES = 180


def _refuse(order: Order, to_status: str) -> Exception:
    return OrderErrors.TRANSITION_NOT_ALLOWED(
        extra={"status": order.status}, from_status=order.status, to_status=to_status
    )


def _require(order: Order, to_status: str, allowed: Collection[str]) -> None:
    if order.status not in allowed:
        raise _refuse(order, to_status)
    if order.payment_status in HIDDEN_FROM_MERCHANT:
        raise OrderErrors.AWAITING_PAYMENT(extra={"status": order.status})


def _reached(
    order: Order, to_status: str, *, actor: User | None, actor_role: str, reason: str | None = None
) -> bool:
    """Whether the locked order already stands at `to_status`, moved there last by this caller in this
    role (and, when given, for this reason): the same request again, to be answered as it was."""
    if order.status != to_status:
        return False
    event = order.events.filter(kind=to_status).order_by("-version").first()
    return (
        event is not None
        and event.actor_id == (actor.pk if actor is not None else None)
        and event.actor_role == actor_role
        and (reason is None or event.reason == reason[:255])
    )


def _move(
    order: Order,
    *,
    to_status: str,
    actor: User | None,
    actor_role: str,
    reason: str = "",
    update_fields: Collection[str] = (),
) -> Order:
    from_status = order.status
    order.status = to_status
    record_change(
        order,
        kind=OrderEventKind(to_status),
        from_status=from_status,
        actor=actor,
        actor_role=actor_role,
        reason=reason,
        update_fields=["status", *update_fields],
    )
    return order


# --- Merchant ------------------------------------------------------------------------------------


@transaction.atomic
def accept_order(*, order_id: int, actor: User | None, prep_minutes: int) -> Order:
    """The merchant takes the order and says how long it needs; the ETA and the promise are recomputed
    from that."""
    if not 1 <= prep_minutes <= MAX_PREP_MINUTES:
        raise OrderErrors.PREP_MINUTES_INVALID(fields={"prep_minutes": ["1..180"]})
    order = lock_order(order_id)
    if order.prep_minutes == prep_minutes and _reached(
        order, OrderStatus.ACCEPTED, actor=actor, actor_role=ActorRole.MERCHANT
    ):
        return order
    _require(order, OrderStatus.ACCEPTED, {OrderStatus.PLACED})
    now = timezone.now()
    order.prep_minutes = prep_minutes
    order.accepted_at = now
    order.merchant_accept_deadline = None
    order.eta = estimated_delivery_at(
        now=now, prep_minutes=prep_minutes, distance_m=order.distance_m, config=PricingConfig.from_settings()
    )
    order.promised_at = promised_before_driver(
        merchant=order.merchant,
        distance_m=order.distance_m,
        prep_minutes=prep_minutes,
        merchant_queue=merchant_queue(merchant_id=order.merchant_id, excluding_order_id=order.pk),
        now=now,
    )
    if order.scheduled_for is not None:
        # Accepted early: still delivered at the slot, not before.
        order.eta = max(order.eta, order.scheduled_for)
        order.promised_at = max(order.promised_at, order.scheduled_for)
    return _move(
        order,
        to_status=OrderStatus.ACCEPTED,
        actor=actor,
        actor_role=ActorRole.MERCHANT,
        update_fields=["prep_minutes", "accepted_at", "merchant_accept_deadline", "eta", "promised_at"],
    )


@transaction.atomic
def reject_order(*, order_id: int, actor: User | None, reason: str) -> Order:
    """The merchant declines a placed order; promo use is given back and a paid order refunded."""
    order = lock_order(order_id)
    if _reached(order, OrderStatus.REJECTED, actor=actor, actor_role=ActorRole.MERCHANT, reason=reason):
        return order
    _require(order, OrderStatus.REJECTED, {OrderStatus.PLACED})
    return _close(
        order, to_status=OrderStatus.REJECTED, actor=actor, actor_role=ActorRole.MERCHANT, reason=reason
    )


@transaction.atomic
def mark_preparing(*, order_id: int, actor: User | None) -> Order:
    """The kitchen started on an accepted order."""
    order = lock_order(order_id)
    if _reached(order, OrderStatus.PREPARING, actor=actor, actor_role=ActorRole.MERCHANT):
        return order
    _require(order, OrderStatus.PREPARING, {OrderStatus.ACCEPTED})
    return _move(order, to_status=OrderStatus.PREPARING, actor=actor, actor_role=ActorRole.MERCHANT)


@transaction.atomic
def mark_ready(*, order_id: int, actor: User | None) -> Order:
    """The food waits for the driver (a merchant may skip `preparing`)."""
    order = lock_order(order_id)
    if _reached(order, OrderStatus.READY_FOR_PICKUP, actor=actor, actor_role=ActorRole.MERCHANT):
        return order
    _require(order, OrderStatus.READY_FOR_PICKUP, {OrderStatus.ACCEPTED, OrderStatus.PREPARING})
    order.ready_at = timezone.now()
    return _move(
        order,
        to_status=OrderStatus.READY_FOR_PICKUP,
        actor=actor,
        actor_role=ActorRole.MERCHANT,
        update_fields=["ready_at"],
    )


# --- Cancellation --------------------------------------------------------------------------------

#: Who may cancel from which states. Customers only before the merchant answers (a scheduled order,
#: free of charge, until it is released); merchant and ops until pickup; the system's timeouts only
#: while the order waits for the merchant or its payment.
_UNANSWERED = frozenset({OrderStatus.SCHEDULED, OrderStatus.PLACED})
CANCELLABLE_FROM: dict[str, frozenset[str]] = {
    ActorRole.CUSTOMER: _UNANSWERED,
    ActorRole.SYSTEM: _UNANSWERED,
    ActorRole.MERCHANT: BEFORE_PICKUP_STATUSES | {OrderStatus.SCHEDULED},
    ActorRole.OPS: BEFORE_PICKUP_STATUSES | {OrderStatus.SCHEDULED},
}


@transaction.atomic
def cancel_order(*, order_id: int, actor: User | None, by: str, reason: str = "") -> Order:
    """Cancel on behalf of `by` (customer, merchant, ops or system); a paid order is refunded."""
    order = lock_order(order_id)
    if _reached(order, OrderStatus.CANCELLED, actor=actor, actor_role=by, reason=reason):
        return order
    if order.status not in CANCELLABLE_FROM[by]:
        raise OrderErrors.NOT_CANCELLABLE(extra={"status": order.status})
    order.cancelled_by = by
    return _close(
        order,
        to_status=OrderStatus.CANCELLED,
        actor=actor,
        actor_role=by,
        reason=reason,
        update_fields=["cancelled_by"],
    )


def _close(
    order: Order,
    *,
    to_status: str,
    actor: User | None,
    actor_role: str,
    reason: str,
    update_fields: Collection[str] = (),
) -> Order:
    """End an order before delivery: clear deadlines, give the promo use back, settle the payment."""
    order.closed_at = timezone.now()
    order.status_reason = reason[:255]
    order.merchant_accept_deadline = None
    order.payment_deadline = None
    release_redemption(order=order)
    settle_payment_on_close(order=order)
    settle_tip_on_close(order=order)
    return _move(
        order,
        to_status=to_status,
        actor=actor,
        actor_role=actor_role,
        reason=reason,
        update_fields=[
            "closed_at",
            "status_reason",
            "merchant_accept_deadline",
            "payment_deadline",
            "payment_status",
            *update_fields,
        ],
    )


# --- Driver side (called by the drivers app) ----------------------------------------------------


def _driver_side_role(actor: User | None, *, driver_id: int | None) -> str:
    """Dispatch acts as the system (actor None); otherwise the driver themself or ops."""
    if actor is None:
        return ActorRole.SYSTEM
    if actor.pk == driver_id:
        return ActorRole.DRIVER
    return ActorRole.OPS


@transaction.atomic
def assign_driver(
    *,
    order_id: int,
    driver: User,
    actor: User | None = None,
    eta: datetime | None = None,
    promised_at: datetime | None = None,
) -> Order:
    """Give the order to `driver` (before pickup), with the ETA and promise of the driver's plan when
    given. Assigning the same driver again changes nothing; another driver while one is assigned is a
    409 `order_driver_already_assigned`."""
    order = lock_order(order_id)
    if order.driver_id == driver.pk:
        return order
    if order.status not in BEFORE_PICKUP_STATUSES:
        raise _refuse(order, OrderEventKind.DRIVER_ASSIGNED)
    if order.payment_status in HIDDEN_FROM_MERCHANT:
        raise OrderErrors.AWAITING_PAYMENT(extra={"status": order.status})
    if order.driver_id is not None:
        raise OrderErrors.DRIVER_ALREADY_ASSIGNED(extra={"status": order.status})
    order.driver = driver
    record_change(
        order,
        kind=OrderEventKind.DRIVER_ASSIGNED,
        from_status=order.status,
        actor=actor,
        actor_role=_driver_side_role(actor, driver_id=driver.pk),
        update_fields=["driver", *_new_times(order, eta=eta, promised_at=promised_at)],
    )
    return order


def _new_times(order: Order, *, eta: datetime | None, promised_at: datetime | None) -> list[str]:
    """Set the given ETA and promise on the order; the fields to save."""
    fields = []
    if eta is not None:
        order.eta = eta
        fields.append("eta")
    if promised_at is not None:
        order.promised_at = promised_at
        fields.append("promised_at")
    return fields


@transaction.atomic
def unassign_driver(*, order_id: int, driver: User, actor: User | None = None, reason: str = "") -> Order:
    """Take the order back from `driver` before pickup (it returns to the dispatch pool)."""
    order = lock_order(order_id)
    if order.driver_id != driver.pk:
        raise OrderErrors.NOT_ASSIGNED_DRIVER(extra={"status": order.status})
    if order.status not in BEFORE_PICKUP_STATUSES:
        raise _refuse(order, OrderEventKind.DRIVER_UNASSIGNED)
    order.driver = None
    record_change(
        order,
        kind=OrderEventKind.DRIVER_UNASSIGNED,
        from_status=order.status,
        actor=actor,
        actor_role=_driver_side_role(actor, driver_id=driver.pk),
        reason=reason,
        update_fields=["driver"],
    )
    return order


def _require_driver(order: Order, driver: User) -> None:
    if order.driver_id != driver.pk:
        raise OrderErrors.NOT_ASSIGNED_DRIVER(extra={"status": order.status})


@transaction.atomic
def mark_picked_up(
    *, order_id: int, driver: User, eta: datetime | None = None, promised_at: datetime | None = None
) -> Order:
    """The assigned driver has the food (pickup implies it was ready, even if the merchant did not say
    so); the ETA and promise of the ride to the door are set when given."""
    order = lock_order(order_id)
    if _reached(order, OrderStatus.PICKED_UP, actor=driver, actor_role=ActorRole.DRIVER):
        return order
    _require_driver(order, driver)
    _require(
        order,
        OrderStatus.PICKED_UP,
        {OrderStatus.ACCEPTED, OrderStatus.PREPARING, OrderStatus.READY_FOR_PICKUP},
    )
    order.picked_up_at = timezone.now()
    return _move(
        order,
        to_status=OrderStatus.PICKED_UP,
        actor=driver,
        actor_role=ActorRole.DRIVER,
        update_fields=["picked_up_at", *_new_times(order, eta=eta, promised_at=promised_at)],
    )


@transaction.atomic
def mark_delivered(*, order_id: int, driver: User) -> Order:
    """The customer has the food; a cash order's money is booked as collected by the driver, and the
    order's money is shared out to the merchant, the commission, the promotion and the fees."""
    order = lock_order(order_id)
    if _reached(order, OrderStatus.DELIVERED, actor=driver, actor_role=ActorRole.DRIVER):
        return order
    _require_driver(order, driver)
    _require(order, OrderStatus.DELIVERED, {OrderStatus.PICKED_UP})
    order.delivered_at = timezone.now()
    if order.payment_method == PaymentMethod.CASH:
        order.payment_status = PaymentStatus.PAID
        book(
            kind=LedgerKind.COD_COLLECTED,
            amount_vnd=order.total_vnd,
            debit=LedgerAccount.DRIVER_CASH,
            credit=LedgerAccount.ORDERS_RECEIVABLE,
            reference=f"cod:{order.code}",
            order=order,
            driver_id=driver.pk,
        )
    book_merchant_settlement(order=order)
    _move(
        order,
        to_status=OrderStatus.DELIVERED,
        actor=driver,
        actor_role=ActorRole.DRIVER,
        update_fields=["delivered_at", "payment_status", "commission_bps"],
    )
    pay_out_tip_on_delivery(order=order)
    return order


@transaction.atomic
def mark_delivery_failed(*, order_id: int, actor: User | None, reason: str) -> Order:
    """After pickup the delivery could not be completed (customer unreachable, accident...).

    The assigned driver or ops may say so; a paid order is not refunded automatically (ops decide)."""
    order = lock_order(order_id)
    role = _driver_side_role(actor, driver_id=order.driver_id)
    if _reached(order, OrderStatus.DELIVERY_FAILED, actor=actor, actor_role=role, reason=reason):
        return order
    _require(order, OrderStatus.DELIVERY_FAILED, {OrderStatus.PICKED_UP})
    is_driver = actor is not None and actor.pk == order.driver_id
    if actor is not None and not is_driver and not actor.is_ops:
        raise OrderErrors.NOT_ASSIGNED_DRIVER(extra={"status": order.status})
    order.closed_at = timezone.now()
    order.status_reason = reason[:255]
    settle_tip_on_close(order=order)
    return _move(
        order,
        to_status=OrderStatus.DELIVERY_FAILED,
        actor=actor,
        actor_role=role,
        reason=reason,
        update_fields=["closed_at", "status_reason"],
    )


@transaction.atomic
def update_eta(
    *, order_id: int, eta: datetime, actor: User | None = None, promised_at: datetime | None = None
) -> Order:
    """A new estimated delivery time (e.g. from dispatch once a driver is on the way), and a new
    promise when given."""
    order = lock_order(order_id)
    if order.is_terminal:
        raise _refuse(order, OrderEventKind.ETA_UPDATED)
    record_change(
        order,
        kind=OrderEventKind.ETA_UPDATED,
        from_status=order.status,
        actor=actor,
        actor_role=_driver_side_role(actor, driver_id=order.driver_id),
        update_fields=_new_times(order, eta=eta, promised_at=promised_at),
    )
    return order


# --- Deadlines -----------------------------------------------------------------------------------


def expire_unanswered_order(*, order_id: int, now: datetime | None = None) -> bool:
    """Cancel the order if the merchant's answer is overdue; False if it no longer applies (idempotent)."""
    now = now or timezone.now()
    with transaction.atomic():
        order = lock_order(order_id)
        deadline = order.merchant_accept_deadline
        if order.status != OrderStatus.PLACED or deadline is None or deadline > now:
            return False
        cancel_order(order_id=order.pk, actor=None, by=ActorRole.SYSTEM, reason="merchant_timeout")
        return True
