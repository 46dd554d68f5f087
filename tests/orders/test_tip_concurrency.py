"""Tips under concurrency: two taps with different amounts, the same tip twice, two notices of one
payment at once. Real threads, each on its own PostgreSQL connection."""

from collections import Counter
from typing import Any

import pytest

from orders.models import LedgerEntry, Order, Tip, TipStatus
from tests.concurrency import run_at_once
from tests.conftest import authenticated_client
from tests.factories import UserFactory
from tests.orders.factories import Menu, cart_body, make_menu
from tests.orders.sandbox_provider import SandboxProvider
from tests.orders.test_payments import post_webhook

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def order_tx(transactional_db: None) -> tuple[Any, Order]:
    menu: Menu = make_menu()
    client = authenticated_client(UserFactory())
    response = client.post("/api/v1/orders", cart_body(menu), format="json", HTTP_IDEMPOTENCY_KEY="tx-1")
    assert response.status_code == 201, response.json()
    return client, Order.objects.get(pk=response.json()["id"])


def test_two_tips_of_different_amounts_at_once_give_one_tip(order_tx: tuple[Any, Order]) -> None:
    client, order = order_tx
    amounts = [10_000, 20_000, 30_000, 40_000]

    responses = run_at_once(
        len(amounts),
        lambda i: client.post(f"/api/v1/orders/{order.pk}/tip", {"amount_vnd": amounts[i]}, format="json"),
    )

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 1, 409: 3}, statuses
    [winner] = [response.json() for response in responses if response.status_code == 201]
    assert Tip.objects.get(order=order).amount_vnd == winner["amount_vnd"]
    assert order.events.filter(kind="tip_updated").count() == 1


def test_the_same_tip_tapped_twice_at_once_is_one_tip(order_tx: tuple[Any, Order]) -> None:
    client, order = order_tx

    responses = run_at_once(
        2, lambda i: client.post(f"/api/v1/orders/{order.pk}/tip", {"amount_vnd": 10_000}, format="json")
    )

    assert sorted(response.status_code for response in responses) == [200, 201]
    assert Tip.objects.filter(order=order).count() == 1


def test_two_notices_of_one_tip_payment_at_once_book_it_once(
    order_tx: tuple[Any, Order], sandbox: SandboxProvider
) -> None:
    client, order = order_tx
    client.post(f"/api/v1/orders/{order.pk}/tip", {"amount_vnd": 10_000}, format="json")
    tip = Tip.objects.get(order=order)
    notice = sandbox.webhook(tip.provider_ref)

    responses = run_at_once(2, lambda i: post_webhook(*notice))

    assert [response.json() for response in responses] == [{"status": "held"}] * 2
    assert Tip.objects.get(pk=tip.pk).status == TipStatus.HELD
    assert LedgerEntry.objects.filter(kind="tip").count() == 1
