"""Limits that must hold under concurrent requests: real threads, real PostgreSQL transactions."""

from collections import Counter

import pytest
from django.db import IntegrityError, transaction

from loship.idempotency.models import IdempotencyKey
from orders.models import Order, Promotion, PromotionRedemption
from orders.services.cart_rows import write_batch
from orders.services.promotions import count_use_sql, is_usage_limit_violation
from tests.concurrency import run_at_once
from tests.conftest import authenticated_client
from tests.factories import UserFactory
from tests.orders.factories import Menu, cart_body, make_menu, make_promotion

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def menu_tx(transactional_db: None) -> Menu:
    return make_menu()


def test_a_promo_capped_at_k_uses_gives_exactly_k_discounts_to_n_concurrent_orders(menu_tx: Menu) -> None:
    cap, attempts = 3, 10
    promo = make_promotion(usage_limit=cap)
    customers = [UserFactory() for _ in range(attempts)]
    clients = [authenticated_client(customer) for customer in customers]

    responses = run_at_once(
        attempts,
        lambda i: clients[i].post(
            "/api/v1/orders",
            cart_body(menu_tx, promo_code=promo.code),
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"promo-{i}",
        ),
    )

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: cap, 422: attempts - cap}, statuses
    refusals = {response.json()["error"]["code"] for response in responses if response.status_code == 422}
    assert refusals == {"promo_used_up"}
    assert Promotion.objects.get(pk=promo.pk).used_count == cap
    assert PromotionRedemption.objects.filter(promotion=promo).count() == cap
    assert Order.objects.count() == cap


def test_a_per_customer_limit_holds_under_concurrency(menu_tx: Menu) -> None:
    promo = make_promotion(per_customer_limit=1)
    client = authenticated_client(UserFactory())

    responses = run_at_once(
        6,
        lambda i: client.post(
            "/api/v1/orders",
            cart_body(menu_tx, promo_code=promo.code),
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"c-{i}",
        ),
    )

    assert Counter(response.status_code for response in responses) == {201: 1, 422: 5}
    assert PromotionRedemption.objects.filter(promotion=promo).count() == 1


def test_twenty_concurrent_placements_with_one_key_make_exactly_one_order(menu_tx: Menu) -> None:
    customer = UserFactory()
    clients = [authenticated_client(customer) for _ in range(20)]

    responses = run_at_once(
        20,
        lambda i: clients[i].post(
            "/api/v1/orders", cart_body(menu_tx), format="json", HTTP_IDEMPOTENCY_KEY="one-key"
        ),
    )

    assert all(not isinstance(response, Exception) for response in responses), responses
    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 1, 200: 19}, statuses
    assert len({response.json()["id"] for response in responses}) == 1
    assert Order.objects.count() == 1
    assert IdempotencyKey.objects.filter(key="one-key").count() == 1


@pytest.mark.django_db
def test_the_counter_update_itself_refuses_a_use_beyond_the_cap(menu_tx: Menu) -> None:
    """The last line of defence of the cap: even a placement that read the promotion before another one
    took its last use cannot count one more (the batch's guarded UPDATE fails; placement maps it to
    promo_used_up)."""
    promo = make_promotion(usage_limit=2)
    stale = Promotion.objects.get(pk=promo.pk)  # read while one use is still free
    Promotion.objects.filter(pk=promo.pk).update(used_count=2)

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        write_batch(inserts=[], updates=[count_use_sql(stale)])

    assert is_usage_limit_violation(refused.value)
    assert Promotion.objects.get(pk=promo.pk).used_count == 2
