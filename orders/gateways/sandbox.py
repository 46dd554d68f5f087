"""HTTP client of the sandbox e-wallet provider.

The protocol (a small subset of what real Vietnamese e-wallets such as MoMo or ZaloPay offer):

- Every request and every webhook carries `X-Sandbox-Timestamp` (unix seconds) and
  `X-Sandbox-Signature` = hex HMAC-SHA256(secret, "<timestamp>.<raw body>"); requests also carry
  `X-Sandbox-Key` (the API key). Webhooks older or newer than five minutes are refused.
- `POST /v1/payments` {"merchant_ref", "amount", "currency": "VND", "description", "return_url"}
  -> 200 {"id", "status": "created", "pay_url", "deeplink"}; the same `merchant_ref` returns the same payment.
- `POST /v1/payments/<id>/refunds` {"amount", "refund_ref"} -> 200 {"id", "status": "succeeded"};
  the same `refund_ref` returns the same refund.
- Webhook to us: {"event_id", "type": "payment.succeeded" | "payment.failed", "payment_id",
  "merchant_ref", "amount"}.
"""

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from orders.gateways.gateway import (
    CreatedPayment,
    GatewayError,
    WebhookMalformed,
    WebhookNotice,
    WebhookSignatureInvalid,
)

WEBHOOK_TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(now if now is not None else time.time()))
    return {"X-Sandbox-Timestamp": timestamp, "X-Sandbox-Signature": sign(secret, timestamp, body)}


class SandboxGateway:
    name = "sandbox"

    def __init__(self, *, base_url: str, api_key: str, secret: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.secret = secret
        self.timeout = timeout

    @classmethod
    def from_settings(cls) -> "SandboxGateway":
        return cls(
            base_url=settings.PAYMENT_SANDBOX_URL,
            api_key=settings.PAYMENT_SANDBOX_API_KEY,
            secret=settings.PAYMENT_SANDBOX_SECRET,
            timeout=settings.PAYMENT_GATEWAY_TIMEOUT_SECONDS,
        )

    def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        if not self.secret or not self.api_key:
            raise GatewayError("the sandbox gateway is not configured (PAYMENT_SANDBOX_API_KEY/SECRET)")
        body = json.dumps(payload, separators=(",", ":")).encode()
        request = urllib.request.Request(  # noqa: S310 - the URL comes from settings, not from users
            self.base_url + path,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Sandbox-Key": self.api_key,
                **signed_headers(self.secret, body),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer: dict[str, Any] = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise GatewayError(f"sandbox answered {exc.code} to {path}") from exc
        except (OSError, ValueError) as exc:
            raise GatewayError(f"sandbox unreachable for {path}: {exc}") from exc
        return answer

    def create_payment(
        self, *, merchant_ref: str, amount_vnd: int, description: str, return_url: str
    ) -> CreatedPayment:
        answer = self._post(
            "/v1/payments",
            {
                "merchant_ref": merchant_ref,
                "amount": amount_vnd,
                "currency": "VND",
                "description": description,
                "return_url": return_url,
            },
        )
        try:
            return CreatedPayment(
                provider_ref=str(answer["id"]),
                pay_url=str(answer["pay_url"]),
                deeplink=str(answer["deeplink"]),
            )
        except KeyError as exc:
            raise GatewayError(f"sandbox payment answer lacks {exc}") from exc

    def refund(self, *, provider_ref: str, amount_vnd: int, refund_ref: str) -> str:
        answer = self._post(
            f"/v1/payments/{provider_ref}/refunds", {"amount": amount_vnd, "refund_ref": refund_ref}
        )
        if answer.get("status") != "succeeded":
            raise GatewayError(f"sandbox refund {refund_ref} is {answer.get('status')!r}")
        return str(answer["id"])

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> WebhookNotice:
        timestamp = headers.get("X-Sandbox-Timestamp", "")
        signature = headers.get("X-Sandbox-Signature", "")
        if not self.secret or not timestamp.isdigit() or not signature:
            raise WebhookSignatureInvalid("missing signature headers")
        if abs(time.time() - int(timestamp)) > WEBHOOK_TOLERANCE_SECONDS:
            raise WebhookSignatureInvalid("stale timestamp")
        if not hmac.compare_digest(sign(self.secret, timestamp, body), signature):
            raise WebhookSignatureInvalid("signature mismatch")
        try:
            data = json.loads(body)
            kind = data["type"]
            if kind not in ("payment.succeeded", "payment.failed"):
                raise WebhookMalformed(f"unknown event type {kind!r}")
            return WebhookNotice(
                event_id=str(data["event_id"]),
                provider_ref=str(data["payment_id"]),
                merchant_ref=str(data["merchant_ref"]),
                succeeded=kind == "payment.succeeded",
                amount_vnd=int(data["amount"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookMalformed(str(exc)) from exc
