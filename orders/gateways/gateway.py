"""What the order services need from an e-wallet gateway, independent of the provider."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


class GatewayError(Exception):
    """The provider could not be reached or refused the call; the caller may retry later."""


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
