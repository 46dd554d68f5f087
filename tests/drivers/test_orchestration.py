"""Dispatch orchestration: orders enter the pool through the outbox, rounds offer them on time, the
search widens and ops are alerted, cancellations withdraw offers, and offers reach the driver's stream."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from drivers.dispatch.orchestration import run_round
from drivers.models import DispatchRequest, Offer, OfferStatus
from loship.events.models import OutboxEvent
from loship.events.relay import publish_pending
from loship.push import driver_group
from orders import services as order_services
from orders.models import ActorRole, Order
from tests.drivers.conftest import make_driver, offset

pytestmark = pytest.mark.django_db


def _placed(place: Callable[..., Any]) -> Order:
    response = place()
    assert response.status_code == 201, response.json()
    return Order.objects.get(pk=response.json()["id"])


def test_an_accepted_order_enters_the_pool_through_the_outbox_and_is_offered_once_ready(
    place: Callable[..., Any],
) -> None:
    order = _placed(place)
    driver = make_driver(lat=offset(600))
    order_services.accept_order(order_id=order.pk, actor=None, prep_minutes=30)
    publish_pending()

    request = DispatchRequest.objects.get(pk=order.pk)
    assert request.status == "waiting"
    assert request.dispatchable_at > timezone.now() + timedelta(minutes=15)
    assert run_round().offers == []  # too early: a driver sent now would wait at the merchant

    order_services.mark_ready(order_id=order.pk, actor=None)
    publish_pending()
    [offer] = Offer.objects.filter(pk__in=run_round().offers)

    assert offer.driver_id == driver.pk
    assert offer.order_ids == [order.pk]
    assert 29 <= (offer.expires_at - timezone.now()).total_seconds() <= 30
    assert OutboxEvent.objects.filter(topic="offer.created", aggregate_id=str(offer.pk)).exists()


def test_the_offer_event_reaches_the_drivers_stream(pooled_order: Callable[..., Order]) -> None:
    pooled_order()
    driver = make_driver(lat=offset(300))
    publish_pending()  # the driver's own `driver.online` goes out first
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(driver_group(driver.pk), channel)
    [offer_id] = run_round().offers

    publish_pending()
    message = async_to_sync(layer.receive)(channel)

    event = message["event"]
    assert event["type"] == "offer.created"
    assert event["offer_id"] == offer_id
    assert event["event_id"]


def test_without_a_driver_nearby_the_search_widens_and_ops_are_alerted_after_minutes(
    pooled_order: Callable[..., Order],
) -> None:
    order = pooled_order()
    far = make_driver(lat=offset(4500))
    start = timezone.now()

    first = run_round(now=start)
    assert first.offers == [] and first.drivers == 0
    widened = run_round(now=start + timedelta(seconds=65))

    [offer] = Offer.objects.filter(pk__in=widened.offers)
    assert offer.driver_id == far.pk
    assert DispatchRequest.objects.get(pk=order.pk).search_radius_m == 6000

    lonely = pooled_order()
    run_round(now=start + timedelta(minutes=6))
    request = DispatchRequest.objects.get(pk=lonely.pk)
    assert request.ops_alerted_at is not None
    alerts = OutboxEvent.objects.filter(topic="driver.not_found", aggregate_id=str(lonely.pk))
    assert alerts.get().payload["order_id"] == lonely.pk
    run_round(now=start + timedelta(minutes=7))
    assert alerts.count() == 1


def test_cancelling_an_offered_order_withdraws_the_offer_and_closes_its_dispatch(
    pooled_order: Callable[..., Order],
) -> None:
    order = pooled_order()
    make_driver(lat=offset(300))
    [offer_id] = run_round().offers

    order_services.cancel_order(order_id=order.pk, actor=None, by=ActorRole.OPS, reason="khách đổi ý")
    publish_pending()

    assert Offer.objects.get(pk=offer_id).status == OfferStatus.WITHDRAWN
    assert DispatchRequest.objects.get(pk=order.pk).status == "closed"
    assert run_round().offers == []


def test_one_round_bundles_two_ready_orders_of_one_merchant_to_one_driver_when_drivers_are_scarce(
    pooled_order: Callable[..., Order],
) -> None:
    first, second = pooled_order(), pooled_order()
    make_driver(lat=offset(300))

    [offer] = Offer.objects.filter(pk__in=run_round().offers)

    assert sorted(offer.order_ids) == sorted([first.pk, second.pk])


def test_the_driver_is_notified_of_an_offer_once_even_if_the_event_is_relayed_twice(
    pooled_order: Callable[..., Order],
) -> None:
    from loship.events.subscribers import handlers_for
    from notifications.models import Notification

    order = pooled_order()
    driver = make_driver(lat=offset(300))
    [offer_id] = run_round().offers

    publish_pending()
    event = OutboxEvent.objects.get(topic="offer.created", aggregate_id=str(offer_id))
    for _name, handler in handlers_for(event.topic):
        handler(event)

    [notification] = Notification.objects.filter(user=driver, kind="driver.offer")
    assert notification.data["offer_id"] == offer_id
    assert notification.data["order_ids"] == [order.pk]
    assert order.merchant.name in notification.body
