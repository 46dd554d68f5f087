"""A scheduled order paid by e-wallet: paid while it waits (the merchant hears of it then, as upcoming),
or cancelled when its payment deadline passes; the release starts the merchant's answer clock."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from loship.events.models import OutboxEvent
from merchants.selectors import LOCAL_TZ
from orders.models import Order, OrderStatus, Payment, PaymentStatus
from orders.selectors import upcoming_orders_for_merchant_staff
from orders.services.scheduling import release_due_orders
from orders.tasks import sweep_deadlines
from tests.orders.factories import Menu, cart_body, make_staff
from tests.orders.sandbox_provider import SandboxProvider
from tests.orders.test_payments import post_webhook, sandbox  # noqa: F401 (the sandbox fixture)

pytestmark = pytest.mark.django_db


def _slot_in_three_hours() -> str:
    local = (timezone.now() + timedelta(hours=3)).astimezone(LOCAL_TZ)
    return local.replace(minute=local.minute - local.minute % 15, second=0, microsecond=0).isoformat()


@pytest.fixture
def scheduled_ewallet_order(customer_client: APIClient, menu: Menu, sandbox: SandboxProvider) -> Order:  # noqa: F811
    response = customer_client.post(
        "/api/v1/orders",
        cart_body(menu, payment_method="ewallet", scheduled_for=_slot_in_three_hours()),
        format="json",
        HTTP_IDEMPOTENCY_KEY="lunch",
    )
    assert response.status_code == 201, response.json()
    assert [e["kind"] for e in response.json()["timeline"]] == ["payment_pending"]
    return Order.objects.get(pk=response.json()["id"])


def test_a_scheduled_order_paid_while_waiting_stays_scheduled_and_the_merchant_sees_it_upcoming(
    scheduled_ewallet_order: Order,
    sandbox: SandboxProvider,  # noqa: F811
    menu: Menu,
) -> None:
    order = scheduled_ewallet_order
    staff = make_staff(menu.merchant)
    hidden_while_unpaid = list(upcoming_orders_for_merchant_staff(staff))

    response = post_webhook(*sandbox.webhook(Payment.objects.get(order=order).provider_ref))

    order.refresh_from_db()
    assert response.status_code == 200
    assert hidden_while_unpaid == []
    assert (order.status, order.payment_status) == (OrderStatus.SCHEDULED, PaymentStatus.PAID)
    assert order.merchant_accept_deadline is None and order.payment_deadline is None
    latest = order.events.order_by("-version").first()
    assert latest is not None and (latest.kind, latest.reason) == ("scheduled", "payment_confirmed")
    assert OutboxEvent.objects.filter(aggregate_id=order.pk, topic="order.scheduled").count() == 1
    assert list(upcoming_orders_for_merchant_staff(staff)) == [order]

    assert release_due_orders(now=order.release_at) == [order.pk]
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED
    assert order.merchant_accept_deadline is not None


def test_a_scheduled_order_left_unpaid_is_cancelled_at_its_payment_deadline(
    scheduled_ewallet_order: Order,
) -> None:
    order = scheduled_ewallet_order
    Order.objects.filter(pk=order.pk).update(payment_deadline=timezone.now() - timedelta(seconds=1))

    result = sweep_deadlines()

    order.refresh_from_db()
    assert result["payment_expiries"] == 1
    assert (order.status, order.payment_status) == (OrderStatus.CANCELLED, PaymentStatus.EXPIRED)
    assert release_due_orders(now=order.release_at) == []
