"""A local MoMo payment gateway speaking the v2 protocol of orders/gateways/momo.py, for tests.

It checks every request's signature with the partner's keys (a bad one is answered as MoMo does, with
a non-zero resultCode), signs its answers and the IPNs it builds, and can be told to misbehave: answer
after a delay (`delay_seconds`, for timeouts), answer HTTP 500 (`fail_next`), build an IPN with
another amount or signed with another key.
"""

import json
import threading
import time
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from orders.gateways.momo import CREATE_FIELDS, IPN_FIELDS, QUERY_FIELDS, REFUND_FIELDS, sign
from tests.orders.local_provider import JsonHandler, LocalProvider

#: Signature of the answers (MoMo signs them; the client does not rely on these fields, see momo.py).
ANSWER_FIELDS = [
    "accessKey",
    "amount",
    "message",
    "orderId",
    "partnerCode",
    "requestId",
    "responseTime",
    "resultCode",
]


@dataclass
class MomoState:
    partner_code: str
    access_key: str
    secret_key: str
    #: orderId -> the payment (amount, transId once paid, resultCode, refunds made).
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: transId -> ("payment" | "refund", orderId).
    transactions: dict[int, tuple[str, str]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    fail_next: int = 0
    delay_seconds: float = 0.0
    next_trans_id: Any = field(default_factory=lambda: count(4_088_878_653))
    lock: threading.Lock = field(default_factory=threading.Lock)


class MomoProvider(LocalProvider):
    def __init__(
        self,
        *,
        partner_code: str = "MOMOTEST2026",
        access_key: str = "test-access-key",
        secret_key: str = "test-secret-key",  # noqa: S107
    ) -> None:
        self.state = MomoState(partner_code=partner_code, access_key=access_key, secret_key=secret_key)
        state = self.state
        provider = self

        class Handler(JsonHandler):
            def do_POST(self) -> None:
                data = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                if state.delay_seconds:
                    time.sleep(state.delay_seconds)
                routes = {
                    "/v2/gateway/api/create": (CREATE_FIELDS, provider._create),
                    "/v2/gateway/api/query": (QUERY_FIELDS, provider._query),
                    "/v2/gateway/api/refund": (REFUND_FIELDS, provider._refund),
                }
                if self.path not in routes:
                    return self._answer(404, {"resultCode": 99, "message": "not found"})
                names, action = routes[self.path]
                with state.lock:
                    state.calls.append(self.path)
                    if state.fail_next:
                        state.fail_next -= 1
                        return self._answer(500, {"message": "system error"})
                    if data.get("partnerCode") != state.partner_code or data.get("signature") != sign(
                        state.secret_key, {**data, "accessKey": state.access_key}, names
                    ):
                        return self._answer(
                            400, provider._signed(data, result_code=13, message="bad signature")
                        )
                    return self._answer(200, action(data))

        self._serve(Handler)

    # --- the gateway's side ---------------------------------------------------------------------

    def _signed(
        self, data: dict[str, Any], *, result_code: int, message: str, **extra: Any
    ) -> dict[str, Any]:
        answer = {
            "partnerCode": self.state.partner_code,
            "orderId": data.get("orderId", ""),
            "requestId": data.get("requestId", ""),
            "amount": data.get("amount", 0),
            "responseTime": int(time.time() * 1000),
            "resultCode": result_code,
            "message": message,
            **extra,
        }
        answer["signature"] = sign(
            self.state.secret_key, {**answer, "accessKey": self.state.access_key}, ANSWER_FIELDS
        )
        return answer

    def _create(self, data: dict[str, Any]) -> dict[str, Any]:
        order_id = data["orderId"]
        existing = self.state.payments.get(order_id)
        if existing is not None and existing["requestId"] != data["requestId"]:
            return self._signed(data, result_code=41, message="duplicate orderId")
        # The same requestId is answered again: MoMo documents requestId as its idempotency key.
        self.state.payments[order_id] = existing or {
            "amount": int(data["amount"]),
            "requestId": data["requestId"],
            "orderInfo": data["orderInfo"],
            "extraData": data["extraData"],
            "resultCode": 1000,
            "transId": None,
            "refunds": [],
        }
        return self._signed(
            data,
            result_code=0,
            message="Successful.",
            payUrl=f"https://test-payment.momo.vn/v2/gateway/pay?t={order_id}",
            deeplink=f"momo://app?action=payWithApp&orderId={order_id}",
        )

    def _query(self, data: dict[str, Any]) -> dict[str, Any]:
        payment = self.state.payments.get(data["orderId"])
        if payment is None:
            return self._signed(data, result_code=42, message="orderId not found")
        return self._signed(
            {**data, "amount": payment["amount"]},
            result_code=payment["resultCode"],
            message="query",
            transId=payment["transId"] or 0,
            extraData=payment["extraData"],
            payType="qr",
            refundTrans=[
                {"orderId": r["orderId"], "amount": r["amount"], "resultCode": 0, "transId": r["transId"]}
                for r in payment["refunds"]
            ],
        )

    def _refund(self, data: dict[str, Any]) -> dict[str, Any]:
        kind, order_id = self.state.transactions.get(int(data["transId"]), ("", ""))
        if kind != "payment":
            return self._signed(data, result_code=1080, message="transaction not refundable")
        payment = self.state.payments[order_id]
        if any(r["requestId"] == data["requestId"] for r in payment["refunds"]):
            [done] = [r for r in payment["refunds"] if r["requestId"] == data["requestId"]]
            return self._signed(data, result_code=0, message="Successful.", transId=done["transId"])
        refunded = sum(r["amount"] for r in payment["refunds"])
        if refunded + int(data["amount"]) > payment["amount"]:
            return self._signed(data, result_code=1081, message="refund exceeds the paid amount")
        trans_id = next(self.state.next_trans_id)
        payment["refunds"].append(
            {
                "orderId": data["orderId"],
                "requestId": data["requestId"],
                "amount": int(data["amount"]),
                "transId": trans_id,
            }
        )
        self.state.transactions[trans_id] = ("refund", data["orderId"])
        return self._signed(data, result_code=0, message="Successful.", transId=trans_id)

    # --- what the customer and MoMo's servers do --------------------------------------------------

    def pay(self, order_id: str, *, result_code: int = 0) -> None:
        """The customer pays (or fails to) in the MoMo app; MoMo keeps the result for queries."""
        with self.state.lock:
            payment = self.state.payments[order_id]
            payment["resultCode"] = result_code
            if result_code == 0 and payment["transId"] is None:
                payment["transId"] = next(self.state.next_trans_id)
                self.state.transactions[payment["transId"]] = ("payment", order_id)

    def ipn(
        self,
        order_id: str,
        *,
        amount: int | None = None,
        secret_key: str | None = None,
        result_code: int | None = None,
    ) -> bytes:
        """The signed IPN MoMo would POST about the payment (pay it first for a success)."""
        payment = self.state.payments[order_id]
        body: dict[str, Any] = {
            "partnerCode": self.state.partner_code,
            "orderId": order_id,
            "requestId": payment["requestId"],
            "amount": payment["amount"] if amount is None else amount,
            "orderInfo": payment["orderInfo"],
            "orderType": "momo_wallet",
            "transId": payment["transId"] or 0,
            "resultCode": payment["resultCode"] if result_code is None else result_code,
            "message": "Thành công." if payment["resultCode"] == 0 else "Giao dịch thất bại.",
            "payType": "qr",
            "responseTime": int(time.time() * 1000),
            "extraData": payment["extraData"],
        }
        body["signature"] = sign(
            secret_key or self.state.secret_key, {**body, "accessKey": self.state.access_key}, IPN_FIELDS
        )
        return json.dumps(body, ensure_ascii=False).encode()
