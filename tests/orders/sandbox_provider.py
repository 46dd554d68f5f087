"""A local sandbox e-wallet provider speaking the protocol of orders/gateways/sandbox.py, for tests."""

import hmac
import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from orders.gateways.sandbox import sign, signed_headers
from tests.orders.local_provider import JsonHandler, LocalProvider


@dataclass
class SandboxState:
    api_key: str
    secret: str
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_merchant_ref: dict[str, str] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class SandboxProvider(LocalProvider):
    def __init__(self, *, api_key: str = "test-key", secret: str = "test-secret") -> None:  # noqa: S107
        self.state = SandboxState(api_key=api_key, secret=secret)
        state = self.state

        class Handler(JsonHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                timestamp = self.headers.get("X-Sandbox-Timestamp", "")
                expected = sign(state.secret, timestamp, body)
                if self.headers.get("X-Sandbox-Key") != state.api_key or not hmac.compare_digest(
                    expected, self.headers.get("X-Sandbox-Signature", "")
                ):
                    return self._answer(401, {"error": "bad signature"})
                with state.lock:
                    state.calls.append(self.path)
                    if state.fail_next:
                        state.fail_next -= 1
                        return self._answer(502, {"error": "try later"})
                    data = json.loads(body)
                    if self.path == "/v1/payments":
                        return self._answer(200, self._create(data))
                    parts = self.path.strip("/").split("/")
                    if len(parts) == 4 and parts[:2] == ["v1", "payments"] and parts[3] == "refunds":
                        return self._refund(parts[2], data)
                return self._answer(404, {"error": "not found"})

            def _create(self, data: dict[str, Any]) -> dict[str, Any]:
                existing = state.by_merchant_ref.get(data["merchant_ref"])
                if existing:
                    return state.payments[existing]
                payment_id = f"sbx_{uuid.uuid4().hex[:16]}"
                payment = {
                    "id": payment_id,
                    "status": "created",
                    "amount": data["amount"],
                    "merchant_ref": data["merchant_ref"],
                    "pay_url": f"https://sandbox.example/pay/{payment_id}",
                    "deeplink": f"sandboxwallet://pay/{payment_id}",
                }
                state.payments[payment_id] = payment
                state.by_merchant_ref[data["merchant_ref"]] = payment_id
                return payment

            def _refund(self, payment_id: str, data: dict[str, Any]) -> None:
                payment = state.payments.get(payment_id)
                if payment is None:
                    return self._answer(404, {"error": "unknown payment"})
                refund = state.refunds.setdefault(
                    data["refund_ref"],
                    {"id": f"rf_{uuid.uuid4().hex[:12]}", "status": "succeeded", "payment_id": payment_id,
                     "amount": data["amount"]},
                )  # fmt: skip
                return self._answer(200, refund)

        self._serve(Handler)

    def webhook(
        self, payment_id: str, *, succeeded: bool = True, amount: int | None = None, secret: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The signed notification the provider would POST to us (body, headers)."""
        payment = self.state.payments[payment_id]
        body = json.dumps(
            {
                "event_id": f"evt_{uuid.uuid4().hex[:12]}",
                "type": "payment.succeeded" if succeeded else "payment.failed",
                "payment_id": payment_id,
                "merchant_ref": payment["merchant_ref"],
                "amount": payment["amount"] if amount is None else amount,
            }
        ).encode()
        headers = signed_headers(secret or self.state.secret, body)
        return body, {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
