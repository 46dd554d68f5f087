"""Every write to orders goes through these functions (one verb per business action); other apps use
this module, not its parts.

Split by sub-domain: `placement` (quote, place, reorder) and `checkout` (place, then open the
payment); `lifecycle`, the state machine (including the driver-side transitions the drivers app
calls), built on `transitions` (row lock, history row, outbox event); `promotions`; `payments` (open,
confirm or fail by webhook, expire) and `refunds` (settle a closed order's payment, refund it);
`ratings`; `tips` (give, pay, pay out at delivery, refund); `settlement` (share a delivered order's
money out to its merchant, refund after delivery at the merchant's charge); `ledger` (book a money
movement, read a balance) and `gateway_payments` (open a payment at the gateway for an order, a tip
or a driver's top-up; record a refused notice); `reconciliation` (settle a payment whose notification
never came by asking the provider). The gateways' HTTP clients are in `orders.gateways`.
"""

from orders.services.checkout import checkout
from orders.services.gateway_payments import open_at_gateway, refuse_amount_mismatch
from orders.services.ledger import account_balance, book
from orders.services.lifecycle import (
    accept_order,
    assign_driver,
    cancel_order,
    expire_unanswered_order,
    mark_delivered,
    mark_delivery_failed,
    mark_picked_up,
    mark_preparing,
    mark_ready,
    reject_order,
    unassign_driver,
    update_eta,
)
from orders.services.payments import expire_unpaid_order, handle_webhook, start_payment
from orders.services.placement import Cart, CartLine, Placement, Quote, place_order, quote_cart, reorder_cart
from orders.services.ratings import rate_order
from orders.services.reconciliation import reconcile_open_payments, reconcile_payment
from orders.services.refunds import refund_payment
from orders.services.settlement import refund_delivered_order
from orders.services.tips import give_tip, handle_tip_webhook, refund_tip, start_tip_payment

__all__ = [
    "Cart",
    "CartLine",
    "Placement",
    "Quote",
    "accept_order",
    "account_balance",
    "assign_driver",
    "book",
    "cancel_order",
    "checkout",
    "expire_unanswered_order",
    "expire_unpaid_order",
    "give_tip",
    "handle_tip_webhook",
    "handle_webhook",
    "mark_delivered",
    "mark_delivery_failed",
    "mark_picked_up",
    "mark_preparing",
    "mark_ready",
    "open_at_gateway",
    "place_order",
    "quote_cart",
    "rate_order",
    "reconcile_open_payments",
    "reconcile_payment",
    "refund_delivered_order",
    "refund_payment",
    "refund_tip",
    "refuse_amount_mismatch",
    "reject_order",
    "reorder_cart",
    "start_payment",
    "start_tip_payment",
    "unassign_driver",
    "update_eta",
]
