"""What the order services need from an e-wallet gateway, independent of the provider."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


class GatewayError(Exception):
    """The provider could not be reached or refused the call; the caller may retry later."""


class RefundRefused(GatewayError):
    """The provider answered and refused the refund (not refundable, already refunded, over the paid
    amount); retrying the same call will not change its mind."""


class WebhookSignatureInvalid(Exception):
    """The notification is not from the provider (bad or missing signature, stale timestamp)."""


class WebhookMalformed(Exception):
    """The notification is signed but cannot be read."""


@dataclass(frozen=True, slots=True)
class CreatedPayment:
    provider_ref: str
    pay_url: str
    deeplink: str


@dataclass(frozen=True, slots=True)
class WebhookNotice:
    """A verified notification: the payment `provider_ref` (for our `merchant_ref`) succeeded or failed."""

    event_id: str
    provider_ref: str
    merchant_ref: str
    succeeded: bool
    amount_vnd: int
    #: False while the provider still waits for the customer: the notice changes nothing yet.
    settled: bool = True


@dataclass(frozen=True, slots=True)
class PaymentState:
    """What the provider says of a payment when asked (for a payment whose notification never came):
    a settled state is applied exactly like the notification would have been."""

    notice: WebhookNotice
    #: Refunds already made of this payment, by our `refund_ref`: the provider's refund id.
    refunds: Mapping[str, str]


class PaymentGateway(Protocol):
    name: str

    def create_payment(
        self, *, merchant_ref: str, amount_vnd: int, description: str, return_url: str
    ) -> CreatedPayment:
        """Open a payment; idempotent per `merchant_ref` (the same payment comes back)."""
        ...

    def refund(self, *, provider_ref: str, amount_vnd: int, refund_ref: str) -> str:
        """Refund a succeeded payment; idempotent per `refund_ref`. Returns the provider's refund id."""
        ...

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> WebhookNotice:
        """Verify and read a notification, or raise WebhookSignatureInvalid / WebhookMalformed."""
        ...


class QueryableGateway(PaymentGateway, Protocol):
    """A gateway that answers the state of a payment by our reference (MoMo does; the sandbox does not)."""

    def query_payment(self, *, merchant_ref: str) -> PaymentState | None:
        """The payment's state at the provider; None if the provider never saw it."""
        ...
