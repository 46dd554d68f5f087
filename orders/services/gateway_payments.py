"""Opening a payment at the gateway for any row that waits for one (an order's payment, a tip, a
driver's top-up): the row has `provider_ref`, `pay_url` and `deeplink`, filled once from the answer."""

import logging
from typing import TypeVar

from django.conf import settings
from django.db import models

from loship.errors import ApplicationError
from orders.errors import PaymentErrors
from orders.gateways import GatewayError, WebhookNotice, get_gateway
from orders.models import RefusedNotice

logger = logging.getLogger(__name__)

Row = TypeVar("Row", bound=models.Model)


def open_at_gateway(
    row: Row, *, provider: str, merchant_ref: str, amount_vnd: int, description: str, return_code: str
) -> Row:
    """Ask the gateway for the payment of `merchant_ref` and keep where to pay on the row; 503
    `payment_gateway_unavailable` if it cannot answer. Never called under a row lock (it is HTTP)."""
    try:
        created = get_gateway(provider).create_payment(
            merchant_ref=merchant_ref,
            amount_vnd=amount_vnd,
            description=description,
            return_url=settings.PAYMENT_RETURN_URL.format(code=return_code),
        )
    except GatewayError:
        logger.warning("payments: opening %s failed", merchant_ref, exc_info=True)
        raise PaymentErrors.GATEWAY_UNAVAILABLE() from None
    # The provider answers the same payment for the same merchant_ref, so a racing call stores the same.
    type(row)._default_manager.filter(pk=row.pk, provider_ref="").update(
        provider_ref=created.provider_ref, pay_url=created.pay_url, deeplink=created.deeplink
    )
    row.refresh_from_db()
    return row


def refuse_amount_mismatch(*, notice: WebhookNotice, provider: str, expected_vnd: int) -> ApplicationError:
    """Record a notice whose amount is not the payment's (once per event) and return the 400
    `payment_amount_mismatch` to raise: nothing is paid."""
    logger.warning(
        "payments: %s notice %s for %s carries %s VND, expected %s",
        provider,
        notice.event_id,
        notice.merchant_ref,
        notice.amount_vnd,
        expected_vnd,
    )
    RefusedNotice.objects.bulk_create(
        [
            RefusedNotice(
                provider=provider,
                event_id=notice.event_id,
                merchant_ref=notice.merchant_ref,
                reason="amount_mismatch",
                expected_vnd=expected_vnd,
                received_vnd=notice.amount_vnd,
            )
        ],
        ignore_conflicts=True,
    )
    return PaymentErrors.AMOUNT_MISMATCH(
        extra={"expected_vnd": expected_vnd, "received_vnd": notice.amount_vnd}
    )
