"""Refunds after delivery under concurrency: ops refunding the same order from two screens at once
never give back more than the merchant was credited. Real threads, each on its own connection."""

from collections import Counter

import pytest

from loship.errors import ApplicationError
from orders import services
from orders.models import LedgerEntry, LedgerKind, Order
from orders.statements import current_month, merchant_statement
from tests.concurrency import run_at_once
from tests.conftest import authenticated_client
from tests.factories import UserFactory
from tests.orders.factories import cart_body, make_menu
from tests.orders.test_tips import deliver
from users.models import Role

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_refunds_never_exceed_what_the_merchant_was_credited(transactional_db: None) -> None:
    menu = make_menu()
    client = authenticated_client(UserFactory())
    response = client.post("/api/v1/orders", cart_body(menu), format="json", HTTP_IDEMPOTENCY_KEY="st-1")
    assert response.status_code == 201, response.json()
    order = Order.objects.get(pk=response.json()["id"])
    deliver(order)
    ops = UserFactory(roles=[Role.OPS], is_staff=True)

    # 85 000 credited: four refunds of 30 000 at once, so at most two fit.
    results = run_at_once(
        4,
        lambda i: services.refund_delivered_order(order_id=order.pk, amount_vnd=30_000, actor=ops, reason=""),
    )

    outcome = Counter(
        result.code if isinstance(result, ApplicationError) else type(result).__name__ for result in results
    )
    assert outcome == {"LedgerEntry": 2, "refund_exceeds_refundable": 2}, results
    refunds = LedgerEntry.objects.filter(order=order, kind=LedgerKind.MERCHANT_REFUND)
    assert sorted(refunds.values_list("reference", flat=True)) == [
        f"merchant_refund:{order.code}:1",
        f"merchant_refund:{order.code}:2",
    ]
    start, end = current_month()
    statement = merchant_statement(menu.merchant, start=start, end=end)
    assert statement.totals.refunds_vnd == 60_000 and statement.reconciled
