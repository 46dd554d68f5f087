"""MoMo's IPN under concurrency: MoMo retries an IPN while the first is still being applied, and the
reconciliation sweep may ask about the payment at the same moment. Real threads, each on its own
PostgreSQL connection: the payment is booked once."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from orders import services
from orders.models import LedgerEntry, Order, Payment, PaymentAttemptStatus, PaymentStatus
from tests.concurrency import race, run_at_once
from tests.conftest import authenticated_client
from tests.factories import UserFactory
from tests.orders.factories import Menu, cart_body, make_menu
from tests.orders.momo_provider import MomoProvider
from tests.orders.test_momo import post_ipn

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def momo_order_tx(transactional_db: None, momo: MomoProvider) -> Order:
    menu: Menu = make_menu()
    client = authenticated_client(UserFactory())
    response = client.post(
        "/api/v1/orders",
        cart_body(menu, payment_method="ewallet"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="tx-momo",
    )
    assert response.status_code == 201, response.json()
    return Order.objects.get(pk=response.json()["id"])


def test_two_ipns_of_one_payment_at_once_book_it_once(momo_order_tx: Order, momo: MomoProvider) -> None:
    momo.pay(momo_order_tx.code)
    ipn = momo.ipn(momo_order_tx.code)

    responses = run_at_once(4, lambda i: post_ipn(ipn))

    assert [response.status_code for response in responses] == [204] * 4
    momo_order_tx.refresh_from_db()
    assert momo_order_tx.payment_status == PaymentStatus.PAID
    assert LedgerEntry.objects.filter(order=momo_order_tx).count() == 1
    assert momo_order_tx.events.filter(reason="payment_confirmed").count() == 1


def test_an_ipn_and_the_reconciliation_sweep_at_once_book_it_once(
    momo_order_tx: Order, momo: MomoProvider
) -> None:
    momo.pay(momo_order_tx.code)
    Payment.objects.filter(order=momo_order_tx).update(created_at=timezone.now() - timedelta(minutes=10))
    payment_id = Payment.objects.get(order=momo_order_tx).pk
    ipn = momo.ipn(momo_order_tx.code)

    results: list[Any] = race(
        [lambda: post_ipn(ipn).status_code, lambda: services.reconcile_payment(payment_id=payment_id)]
    )

    assert results == [204, PaymentAttemptStatus.SUCCEEDED]
    assert LedgerEntry.objects.filter(order=momo_order_tx).count() == 1
