"""E-wallet gateways: the interface the payment services use (`gateway.py`) and each provider's HTTP
client (`sandbox.py`). The services import from here, never a provider's module."""

from orders.gateways.gateway import (
    CreatedPayment,
    GatewayError,
    PaymentGateway,
    WebhookMalformed,
    WebhookNotice,
    WebhookSignatureInvalid,
)
from orders.gateways.sandbox import SandboxGateway

__all__ = [
    "CreatedPayment",
    "GatewayError",
    "PaymentGateway",
    "WebhookMalformed",
    "WebhookNotice",
    "WebhookSignatureInvalid",
    "get_gateway",
]


def get_gateway(name: str = "sandbox") -> PaymentGateway:
    """The configured gateway for a provider name (only the sandbox provider exists today)."""
    if name != SandboxGateway.name:
        raise GatewayError(f"unknown payment provider {name!r}")
    return SandboxGateway.from_settings()
