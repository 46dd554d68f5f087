"""Offers: accept is atomic under real concurrency (threads on their own PostgreSQL connections),
expired offers are refused, declines and expiries return the order to the pool."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from drivers import services
from drivers.dispatch.orchestration import run_round
from drivers.models import DispatchRequest, Job, Offer, OfferStatus
from loship.errors import ApplicationError
from orders.models import Order
from tests.concurrency import race
from tests.drivers.conftest import client_for, make_driver, offset


def _offer(driver: Any, order_ids: list[int], *, now: Any = None) -> Offer:
    with transaction.atomic():
        return services.create_offer(
            driver_id=driver.pk, order_ids=order_ids, pickup_at=None, now=now or timezone.now()
        )


# PostgreSQL here allows 100 connections shared by every engineer's test run, so the 100 accepts run
# on 50 threads (50 connections), two drivers each, all released by one barrier.
ACCEPTS = 100
THREADS = 50


@pytest.mark.django_db(transaction=True)
def test_a_hundred_drivers_accepting_offers_of_one_order_at_once_give_it_to_exactly_one(
    pooled_order: Callable[..., Order],
) -> None:
    order = pooled_order()
    drivers = [make_driver() for _ in range(ACCEPTS)]
    offers = [_offer(driver, [order.pk]) for driver in drivers]
    pairs = list(zip(drivers, offers, strict=True))
    per_thread = ACCEPTS // THREADS

    def accept_batch(batch: list[tuple[Any, Offer]]) -> list[Any]:
        outcomes: list[Any] = []
        for driver, offer in batch:
            try:
                outcomes.append(services.accept_offer(driver=driver, offer_id=offer.pk))
            except ApplicationError as error:
                outcomes.append(error)
        return outcomes

    batches = [pairs[start : start + per_thread] for start in range(0, ACCEPTS, per_thread)]
    results = [item for batch in race([lambda b=b: accept_batch(b) for b in batches]) for item in batch]

    winners = [result for result in results if isinstance(result, Offer)]
    refusals = [result for result in results if isinstance(result, ApplicationError)]
    assert len(winners) == 1
    assert len(refusals) == ACCEPTS - 1
    # Refused either on the order's lock, or after the winner withdrew the other offers.
    assert {error.code for error in refusals} <= {"offer_order_taken", "offer_not_open"}
    assert all(error.status == 409 for error in refusals)
    order.refresh_from_db()
    assert order.driver_id == winners[0].driver_id
    assert Job.objects.filter(order=order).count() == 1
    assert Offer.objects.filter(status=OfferStatus.ACCEPTED).count() == 1
    assert DispatchRequest.objects.get(pk=order.pk).status == "assigned"


@pytest.mark.django_db(transaction=True)
def test_one_driver_accepting_two_offers_at_once_gets_only_one(pooled_order: Callable[..., Order]) -> None:
    first, second = pooled_order(), pooled_order()
    driver = make_driver()
    offers = [_offer(driver, [first.pk]), _offer(driver, [second.pk])]

    results = race([lambda o=offer: services.accept_offer(driver=driver, offer_id=o.pk) for offer in offers])

    assert sum(isinstance(result, Offer) for result in results) == 1
    [refusal] = [result for result in results if isinstance(result, ApplicationError)]
    assert refusal.code == "driver_has_active_job"
    assert refusal.status == 409
    assert Job.objects.filter(driver=driver).count() == 1
    assert Order.objects.filter(driver=driver).count() == 1


@pytest.mark.django_db
def test_an_expired_offer_cannot_be_accepted(pooled_order: Callable[..., Order]) -> None:
    order = pooled_order()
    driver = make_driver()
    offer = _offer(driver, [order.pk], now=timezone.now() - timedelta(seconds=31))

    response = client_for(driver).post(f"/api/v1/driver/offers/{offer.pk}/accept")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "offer_expired"
    order.refresh_from_db()
    assert order.driver_id is None
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_an_expired_offer_returns_its_order_to_the_pool_for_another_driver(
    pooled_order: Callable[..., Order],
) -> None:
    order = pooled_order()
    slow = make_driver(lat=offset(300))
    other = make_driver(lat=offset(900))
    [first_offer_id] = run_round().offers
    assert Offer.objects.get(pk=first_offer_id).driver_id == slow.pk

    result = run_round(now=timezone.now() + timedelta(seconds=31))

    assert Offer.objects.get(pk=first_offer_id).status == OfferStatus.EXPIRED
    [second] = Offer.objects.filter(pk__in=result.offers)
    assert second.driver_id == other.pk
    assert second.order_ids == [order.pk]


@pytest.mark.django_db
def test_a_declined_order_goes_to_another_driver_and_not_back_to_the_decliner(
    pooled_order: Callable[..., Order],
) -> None:
    order = pooled_order()
    near = make_driver(lat=offset(200))
    far = make_driver(lat=offset(1500))
    [offer_id] = run_round().offers

    response = client_for(near).post(f"/api/v1/driver/offers/{offer_id}/decline")

    assert response.status_code == 200
    assert response.json()["status"] == "declined"
    [next_offer] = Offer.objects.filter(pk__in=run_round().offers)
    assert next_offer.driver_id == far.pk
    assert next_offer.order_ids == [order.pk]


@pytest.mark.django_db
def test_accepting_through_the_api_assigns_the_order_and_opens_a_job_with_etas(
    pooled_order: Callable[..., Order],
) -> None:
    order = pooled_order()
    driver = make_driver(lat=offset(500))
    [offer_id] = run_round().offers
    [listed] = client_for(driver).get("/api/v1/driver/offers").json()["offers"]

    response = client_for(driver).post(f"/api/v1/driver/offers/{offer_id}/accept")

    assert listed["offer_id"] == offer_id
    assert listed["order_ids"] == [order.pk]
    assert response.status_code == 200, response.json()
    [job] = response.json()["jobs"]
    assert job["order_id"] == order.pk
    assert job["state"] == "en_route_to_pickup"
    assert job["pickup_eta"] is not None and job["dropoff_eta"] is not None
    order.refresh_from_db()
    assert order.driver_id == driver.pk
    assert client_for(driver).get("/api/v1/driver/current-job").json()["jobs"][0]["order_id"] == order.pk
    again = client_for(driver).post(f"/api/v1/driver/offers/{offer_id}/decline")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "offer_not_open"
