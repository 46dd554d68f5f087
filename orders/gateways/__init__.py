"""E-wallet gateways: the interface the payment services use (`gateway.py`) and each provider's HTTP
client (`sandbox.py`, `momo.py`). The services import from here, never a provider's module.

New payments go to the provider named by `PAYMENT_PROVIDER` (the sandbox by default, for the demo);
a payment keeps the provider it was opened with, so switching providers never strands one.
"""

from django.conf import settings

from orders.gateways.gateway import (
    CreatedPayment,
    GatewayError,
    PaymentGateway,
    PaymentState,
    QueryableGateway,
    RefundRefused,
    WebhookMalformed,
    WebhookNotice,
    WebhookSignatureInvalid,
)
from orders.gateways.momo import MomoGateway
from orders.gateways.sandbox import SandboxGateway

__all__ = [
    "CreatedPayment",
    "GatewayError",
    "PaymentGateway",
    "PaymentState",
    "QueryableGateway",
    "RefundRefused",
    "WebhookMalformed",
    "WebhookNotice",
    "WebhookSignatureInvalid",
    "configured_provider",
    "get_gateway",
    "queryable_gateway",
]

_GATEWAYS: dict[str, type[SandboxGateway] | type[MomoGateway]] = {
    SandboxGateway.name: SandboxGateway,
    MomoGateway.name: MomoGateway,
}


def configured_provider() -> str:
    """The provider new payments are opened with (`PAYMENT_PROVIDER`)."""
    return str(settings.PAYMENT_PROVIDER)


def get_gateway(name: str = "sandbox") -> PaymentGateway:
    """The configured client of a provider by name."""
    try:
        gateway_class = _GATEWAYS[name]
    except KeyError:
        raise GatewayError(f"unknown payment provider {name!r}") from None
    return gateway_class.from_settings()


def queryable_gateway(name: str) -> QueryableGateway | None:
    """The provider's client if it can be asked for a payment's state, else None."""
    gateway = get_gateway(name)
    return gateway if isinstance(gateway, MomoGateway) else None
