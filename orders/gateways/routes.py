"""Which service applies a gateway notification, by the prefix of our reference (`merchant_ref`).

The gateway calls one webhook URL for every payment we open. An order's payment carries the order's
code; other payments (a tip, a driver's top-up) carry a prefix, and the app that opened them registers
the handler of that prefix here when it starts, so the orders app never imports the apps above it.
"""

from collections.abc import Callable

from orders.gateways.gateway import WebhookNotice

#: Applies a verified notice once (a replay changes nothing) and answers the payment's status.
WebhookHandler = Callable[[WebhookNotice, str], str]

_handlers: dict[str, WebhookHandler] = {}


def route_webhooks(prefix: str, handler: WebhookHandler) -> None:
    """Send the notices whose `merchant_ref` starts with `prefix` to `handler` (provider name second)."""
    _handlers[prefix] = handler


def handler_for(merchant_ref: str) -> WebhookHandler | None:
    """The registered handler of the reference, or None for an order's own payment."""
    for prefix, handler in _handlers.items():
        if merchant_ref.startswith(prefix):
            return handler
    return None
