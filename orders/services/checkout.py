"""Checkout: what a customer's "place order" does, placing the cart (with a tip if asked) and opening
its payments."""

from contextlib import suppress
from dataclasses import replace

from django.db import transaction

from loship.errors import ApplicationError
from orders.models import PaymentMethod
from orders.services.payments import start_payment
from orders.services.placement import Cart, Placement, place_order
from orders.services.tips import check_tip_amount, give_tip, start_tip_payment
from users.models import User


def checkout(
    *, customer: User, cart: Cart, idempotency_key: str, body_hash: str, tip_vnd: int | None = None
) -> Placement:
    """Place the cart once per key (`place_order`) and, for an e-wallet order, open its payment.

    The order stands even if the payment cannot be opened (gateway down, already paid): the customer
    opens it again with POST orders/<id>/payment. An e-wallet placement comes back without its
    snapshot, since its payment changed after it was written: the caller reads the order back.
    A tip is given in the placing transaction (a refused tip places nothing; the same key again finds
    the same tip), and its own payment is opened after commit (again with POST orders/<id>/tip)."""
    if tip_vnd is not None:
        check_tip_amount(tip_vnd)
        with transaction.atomic():
            placement = place_order(
                customer=customer, cart=cart, idempotency_key=idempotency_key, body_hash=body_hash
            )
            tip, _ = give_tip(customer=customer, order_id=placement.order.pk, amount_vnd=tip_vnd)
        with suppress(ApplicationError):
            start_tip_payment(tip_id=tip.pk)
        placement = replace(placement, lines=[], events=[])
    else:
        placement = place_order(
            customer=customer, cart=cart, idempotency_key=idempotency_key, body_hash=body_hash
        )
    if placement.order.payment_method != PaymentMethod.EWALLET:
        return placement
    with suppress(ApplicationError):
        start_payment(order_id=placement.order.pk)
    return replace(placement, lines=[], events=[])
