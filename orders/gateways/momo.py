"""HTTP client of MoMo's payment gateway (API v2, `/v2/gateway/api/*`), the e-wallet most used in Vietnam.

What we rely on, from MoMo's published developer documentation (developers.momo.vn, "One-Time
Payments", "Payment Notification", "Check Transaction Status", "Reverse & Refund") and the public
SDKs that implement it:

- Every request carries `partnerCode` and `signature` = hex HMAC-SHA256(secretKey, raw), where raw is
  `key=value` pairs joined by `&`, keys in alphabetical order, values as sent (not URL-encoded),
  `accessKey` among them although it is not sent in the body:
  create  accessKey amount extraData ipnUrl orderId orderInfo partnerCode redirectUrl requestId requestType
  query   accessKey orderId partnerCode requestId
  refund  accessKey amount description orderId partnerCode requestId transId
  IPN     accessKey amount extraData message orderId orderInfo orderType partnerCode payType requestId
          responseTime resultCode transId
- `POST /v2/gateway/api/create` (requestType `captureWallet` or `payWithMethod`) answers `payUrl` and
  `deeplink`; MoMo has no payment id before the customer pays, so our `orderId` (the merchant_ref) is
  the payment's reference on both sides, and MoMo's `transId` arrives with the result.
- The result comes by IPN: a JSON POST to `ipnUrl`, signed as above, answered with 204. `resultCode`
  0 is paid; the codes in `PENDING_CODES` mean MoMo still waits; any other code is a failure.
- `POST /v2/gateway/api/query` answers the same fields as the IPN plus `refundTrans`, the refunds
  made of the payment. It is how a payment whose IPN never came is settled (the reconciliation sweep).
- `POST /v2/gateway/api/refund` refunds `amount` (all or part) of `transId` under a new `orderId`.
  MoMo documents `requestId` as its idempotency key; we also look the refund up in `refundTrans`
  before asking, so a refund whose answer was lost is found rather than asked again.

Not confirmed by the documentation we could read, and so handled conservatively:
- The signatures MoMo puts on its answers to create, query and refund (SDKs disagree on their fields):
  they are not checked. The answers come over TLS from the configured endpoint, and money only moves on
  a signed IPN or on a query answer, checked against the payment's own orderId and amount.
- Whether `create` with a `requestId` already used answers the first payment again: we send the
  merchant_ref as both `orderId` and `requestId`, so a retried call is at worst refused (no second
  payment can exist for one orderId), and a refused retry surfaces as `GatewayError`.
- The exact `resultCode` of a refund of a refund or of an over-refund: any non-zero code of the refund
  call is `RefundRefused`.
"""

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import httpx
from django.conf import settings

from orders.gateways.gateway import (
    CreatedPayment,
    GatewayError,
    PaymentState,
    RefundRefused,
    WebhookMalformed,
    WebhookNotice,
    WebhookSignatureInvalid,
)

CREATE_FIELDS = [
    "accessKey",
    "amount",
    "extraData",
    "ipnUrl",
    "orderId",
    "orderInfo",
    "partnerCode",
    "redirectUrl",
    "requestId",
    "requestType",
]
QUERY_FIELDS = ["accessKey", "orderId", "partnerCode", "requestId"]
REFUND_FIELDS = ["accessKey", "amount", "description", "orderId", "partnerCode", "requestId", "transId"]
IPN_FIELDS = [
    "accessKey",
    "amount",
    "extraData",
    "message",
    "orderId",
    "orderInfo",
    "orderType",
    "partnerCode",
    "payType",
    "requestId",
    "responseTime",
    "resultCode",
    "transId",
]

SUCCESS = 0
#: Not final yet: 1000 initiated, waiting for the customer; 7000 / 7002 being processed; 9000
#: authorized, not captured (only with autoCapture false, which we never send).
PENDING_CODES = frozenset({1000, 7000, 7002, 9000})
#: The query's answer for an orderId MoMo does not know (documented as "invalid orderId or not found").
UNKNOWN_ORDER = 42


def raw_signature(fields: Mapping[str, Any], names: Iterable[str]) -> str:
    """The documented string to sign: `name=value` of each named field, alphabetical, joined by `&`."""
    return "&".join(f"{name}={_text(fields.get(name, ''))}" for name in sorted(names))


def sign(secret_key: str, fields: Mapping[str, Any], names: Iterable[str]) -> str:
    return hmac.new(secret_key.encode(), raw_signature(fields, names).encode(), hashlib.sha256).hexdigest()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def refund_order_id(provider_ref: str, refund_ref: str) -> str:
    """MoMo wants a new orderId for each refund, unique for the partner: ours names the payment."""
    return f"{provider_ref}-{refund_ref}"


class MomoGateway:
    name = "momo"

    def __init__(
        self,
        *,
        endpoint: str,
        partner_code: str,
        access_key: str,
        secret_key: str,
        ipn_url: str,
        request_type: str = "captureWallet",
        timeout: float = 30.0,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.partner_code = partner_code
        self.access_key = access_key
        self.secret_key = secret_key
        self.ipn_url = ipn_url
        self.request_type = request_type
        self.timeout = timeout

    @classmethod
    def from_settings(cls) -> "MomoGateway":
        return cls(
            endpoint=settings.MOMO_ENDPOINT,
            partner_code=settings.MOMO_PARTNER_CODE,
            access_key=settings.MOMO_ACCESS_KEY,
            secret_key=settings.MOMO_SECRET_KEY,
            ipn_url=settings.MOMO_IPN_URL,
            request_type=settings.MOMO_REQUEST_TYPE,
            timeout=settings.MOMO_TIMEOUT_SECONDS,
        )

    # --- requests ---------------------------------------------------------------------------------

    def _post(self, path: str, payload: dict[str, Any], signed: list[str]) -> dict[str, Any]:
        if not (self.partner_code and self.access_key and self.secret_key):
            raise GatewayError(
                "MoMo is not configured (MOMO_PARTNER_CODE / MOMO_ACCESS_KEY / MOMO_SECRET_KEY)"
            )
        body = {"partnerCode": self.partner_code, "lang": "vi", **payload}
        body["signature"] = sign(self.secret_key, {**body, "accessKey": self.access_key}, signed)
        try:
            response = httpx.post(self.endpoint + path, json=body, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise GatewayError(f"MoMo unreachable for {path}: {exc!r}") from exc
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or "resultCode" not in answer:
            raise GatewayError(f"MoMo answered {response.status_code} without a result to {path}")
        return answer

    def create_payment(
        self, *, merchant_ref: str, amount_vnd: int, description: str, return_url: str
    ) -> CreatedPayment:
        if not self.ipn_url:
            raise GatewayError("MoMo is not configured (MOMO_IPN_URL)")
        answer = self._post(
            "/v2/gateway/api/create",
            {
                "requestId": merchant_ref,
                "orderId": merchant_ref,
                "amount": amount_vnd,
                "orderInfo": description,
                "redirectUrl": return_url,
                "ipnUrl": self.ipn_url,
                "requestType": self.request_type,
                "extraData": "",
            },
            CREATE_FIELDS,
        )
        if answer["resultCode"] != SUCCESS or not answer.get("payUrl"):
            raise GatewayError(
                f"MoMo refused payment {merchant_ref}: {answer['resultCode']} {answer.get('message')}"
            )
        if answer.get("orderId") != merchant_ref:
            raise GatewayError(f"MoMo answered for {answer.get('orderId')!r}, not {merchant_ref!r}")
        return CreatedPayment(
            provider_ref=merchant_ref,
            pay_url=str(answer["payUrl"]),
            deeplink=str(answer.get("deeplink") or ""),
        )

    def query_payment(self, *, merchant_ref: str) -> PaymentState | None:
        answer = self._post(
            "/v2/gateway/api/query",
            {"requestId": f"q-{uuid.uuid4().hex}", "orderId": merchant_ref},
            QUERY_FIELDS,
        )
        code = answer["resultCode"]
        if code == UNKNOWN_ORDER:
            return None
        if answer.get("orderId") != merchant_ref:
            raise GatewayError(f"MoMo answered the query of {merchant_ref} for {answer.get('orderId')!r}")
        try:
            notice = WebhookNotice(
                event_id=str(answer.get("transId") or ""),
                provider_ref=merchant_ref,
                merchant_ref=merchant_ref,
                succeeded=code == SUCCESS,
                amount_vnd=int(answer["amount"]),
                settled=code not in PENDING_CODES,
            )
            refunds = {
                str(refund["orderId"]): str(refund["transId"])
                for refund in answer.get("refundTrans") or []
                if int(refund.get("resultCode", -1)) == SUCCESS
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise GatewayError(f"MoMo query answer of {merchant_ref} is unreadable: {exc!r}") from exc
        return PaymentState(notice=notice, refunds=refunds)

    def refund(self, *, provider_ref: str, amount_vnd: int, refund_ref: str) -> str:
        order_id = refund_order_id(provider_ref, refund_ref)
        state = self.query_payment(merchant_ref=provider_ref)
        if state is None or not state.notice.succeeded or not state.notice.event_id:
            raise RefundRefused(f"MoMo has no paid transaction for {provider_ref}")
        if order_id in state.refunds:
            return state.refunds[order_id]
        answer = self._post(
            "/v2/gateway/api/refund",
            {
                "requestId": order_id,
                "orderId": order_id,
                "amount": amount_vnd,
                "transId": int(state.notice.event_id),
                "description": "",
            },
            REFUND_FIELDS,
        )
        if answer["resultCode"] != SUCCESS:
            raise RefundRefused(
                f"MoMo refused refund {order_id}: {answer['resultCode']} {answer.get('message')}"
            )
        return str(answer["transId"])

    # --- notifications ------------------------------------------------------------------------------

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> WebhookNotice:
        """Verify an IPN's signature with our keys (it carries no timestamp header: MoMo signs
        `responseTime` inside the body) and read it."""
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise WebhookSignatureInvalid("the IPN is not JSON") from exc
        if not isinstance(data, dict) or not isinstance(data.get("signature"), str) or not self.secret_key:
            raise WebhookSignatureInvalid("the IPN carries no signature")
        expected = sign(self.secret_key, {**data, "accessKey": self.access_key}, IPN_FIELDS)
        if not hmac.compare_digest(expected, data["signature"]):
            raise WebhookSignatureInvalid("signature mismatch")
        if data.get("partnerCode") != self.partner_code:
            raise WebhookSignatureInvalid("the IPN is for another partner")
        try:
            code = int(data["resultCode"])
            return WebhookNotice(
                event_id=str(data["transId"]),
                provider_ref=str(data["orderId"]),
                merchant_ref=str(data["orderId"]),
                succeeded=code == SUCCESS,
                amount_vnd=int(data["amount"]),
                settled=code not in PENDING_CODES,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise WebhookMalformed(str(exc)) from exc
