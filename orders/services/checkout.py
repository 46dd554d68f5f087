"""Checkout: what a customer's "place order" does, placing the cart and opening its payment."""

from contextlib import suppress
from dataclasses import replace

from loship.errors import ApplicationError
from orders.models import PaymentMethod
from orders.services.payments import start_payment
from orders.services.placement import Cart, Placement, place_order
from users.models import User


def checkout(*, customer: User, cart: Cart, idempotency_key: str, body_hash: str) -> Placement:
    """Place the cart once per key (`place_order`) and, for an e-wallet order, open its payment.

    The order stands even if the payment cannot be opened (gateway down, already paid): the customer
    opens it again with POST orders/<id>/payment. An e-wallet placement comes back without its
    snapshot, since its payment changed after it was written: the caller reads the order back."""
    placement = place_order(
        customer=customer, cart=cart, idempotency_key=idempotency_key, body_hash=body_hash
    )
    if placement.order.payment_method != PaymentMethod.EWALLET:
        return placement
    with suppress(ApplicationError):
        start_payment(order_id=placement.order.pk)
    return replace(placement, lines=[], events=[])
