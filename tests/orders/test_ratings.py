"""Ratings: once, after delivery, for the merchant (stars, text) and the driver (stars, tags)."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from orders import services
from orders.models import Order, Rating
from tests.factories import UserFactory
from users.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered_order(placed_order: Order) -> Order:
    driver = UserFactory(roles=[Role.DRIVER])
    services.assign_driver(order_id=placed_order.pk, driver=driver, actor=driver)
    services.accept_order(order_id=placed_order.pk, actor=None, prep_minutes=5)
    services.mark_picked_up(order_id=placed_order.pk, driver=driver)
    return services.mark_delivered(order_id=placed_order.pk, driver=driver)


def rate(client: APIClient, order: Order, **body: Any) -> Any:
    return client.post(f"/api/v1/orders/{order.pk}/rating", body, format="json")


def test_rating_a_delivered_order_updates_the_merchants_aggregate(
    customer_client: APIClient, delivered_order: Order
) -> None:
    response = rate(
        customer_client,
        delivered_order,
        merchant_stars=4,
        merchant_text="Ngon",
        driver_stars=5,
        driver_tags=["nhanh"],
    )

    assert response.status_code == 201, response.json()
    rating = Rating.objects.get(order=delivered_order)
    assert (rating.merchant_stars, rating.driver_stars, rating.driver_tags) == (4, 5, ["nhanh"])
    assert rating.driver_id == delivered_order.driver_id
    merchant = delivered_order.merchant
    merchant.refresh_from_db()
    assert merchant.rating_count == 1
    assert float(merchant.rating_avg) == 4.0


def test_an_order_is_rated_once(customer_client: APIClient, delivered_order: Order) -> None:
    rate(customer_client, delivered_order, merchant_stars=5)

    again = rate(customer_client, delivered_order, merchant_stars=1)

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "order_already_rated"
    delivered_order.merchant.refresh_from_db()
    assert delivered_order.merchant.rating_count == 1


def test_an_undelivered_order_cannot_be_rated(customer_client: APIClient, placed_order: Order) -> None:
    response = rate(customer_client, placed_order, merchant_stars=5)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "order_not_rateable"


@pytest.mark.parametrize("stars", [0, 6])
def test_stars_are_one_to_five(customer_client: APIClient, delivered_order: Order, stars: int) -> None:
    assert rate(customer_client, delivered_order, merchant_stars=stars).status_code == 400


@pytest.mark.django_db(transaction=True)
def test_concurrent_ratings_of_one_order_count_once() -> None:
    from collections import Counter

    from tests.concurrency import run_at_once
    from tests.conftest import authenticated_client
    from tests.orders.factories import cart_body, make_menu

    menu = make_menu()
    customer = UserFactory()
    client = authenticated_client(customer)
    order_id = client.post("/api/v1/orders", cart_body(menu), format="json", HTTP_IDEMPOTENCY_KEY="r").json()[
        "id"
    ]
    driver = UserFactory(roles=[Role.DRIVER])
    services.assign_driver(order_id=order_id, driver=driver)
    services.accept_order(order_id=order_id, actor=None, prep_minutes=5)
    services.mark_picked_up(order_id=order_id, driver=driver)
    services.mark_delivered(order_id=order_id, driver=driver)
    clients = [authenticated_client(customer) for _ in range(6)]

    responses = run_at_once(
        6,
        lambda i: clients[i].post(
            f"/api/v1/orders/{order_id}/rating",
            {"merchant_stars": 1 + i % 5, "driver_stars": 5},
            format="json",
        ),
    )

    assert Counter(response.status_code for response in responses) == {201: 1, 409: 5}
    menu.merchant.refresh_from_db()
    assert menu.merchant.rating_count == 1
    assert Rating.objects.filter(order_id=order_id).count() == 1


def test_another_customer_cannot_rate_and_a_rating_needs_no_driver_part(
    customer_client: APIClient, delivered_order: Order
) -> None:
    from tests.orders.conftest import client_for

    stranger = rate(client_for(UserFactory()), delivered_order, merchant_stars=1)
    merchant_only = rate(customer_client, delivered_order, merchant_stars=3, merchant_text="Tạm")

    assert stranger.status_code == 404
    assert merchant_only.status_code == 201
    rating = Rating.objects.get(order=delivered_order)
    assert (rating.driver_stars, rating.driver_tags, rating.driver_id) == (None, [], None)


def test_a_rating_body_cannot_carry_other_fields(customer_client: APIClient, delivered_order: Order) -> None:
    response = rate(customer_client, delivered_order, merchant_stars=5, merchant_id=1)

    assert response.status_code == 400
    assert not Rating.objects.exists()
