"""The order snapshot a stream opens with is read in one statement; what it shows matches the rows,
and the order and customer it carries behave as ORM instances (other fields load on access)."""

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Order, OrderEvent, OrderLine
from orders.selectors import read_order_snapshot
from orders.services import lifecycle
from tests.factories import UserFactory
from users.models import Role

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_snapshot_is_one_statement_and_shows_the_orders_rows(place_order: Callable[[Any], Order]) -> None:
    customer = UserFactory()
    order = place_order(customer)
    lifecycle.accept_order(order_id=order.pk, actor=None, prep_minutes=12)
    order.refresh_from_db()

    with CaptureQueriesContext(connection) as queries:
        snapshot = read_order_snapshot(order.pk)
    assert len(queries) == 1
    assert snapshot is not None
    body = snapshot.body
    assert (body["order_id"], body["status"], body["version"]) == (order.pk, "accepted", order.version)
    assert body["prep_minutes"] == 12 and body["total_vnd"] == order.total_vnd
    assert body["merchant"]["id"] == order.merchant_id and body["merchant"]["name"] == order.merchant.name
    lines = list(OrderLine.objects.filter(order=order).order_by("id"))
    assert [(line["name"], line["quantity"]) for line in body["lines"]] == [
        (x.name, x.quantity) for x in lines
    ]
    assert [option for line in body["lines"] for option in line["options"]] == [
        option["name"] for line in lines for option in line.options
    ]
    events = list(OrderEvent.objects.filter(order=order).order_by("version"))
    assert [(item["version"], item["status"]) for item in body["timeline"]] == [
        (event.version, event.to_status) for event in events
    ]

    assert snapshot.customer.pk == customer.pk and snapshot.customer.is_active
    assert not snapshot.customer.is_ops
    assert snapshot.customer.phone == customer.phone  # deferred: loads on access
    assert snapshot.order.customer_phone == order.customer_phone


def test_an_ops_customer_and_a_missing_order(place_order: Callable[[Any], Order]) -> None:
    ops_customer = UserFactory(roles=[Role.OPS])
    order = place_order(ops_customer)
    snapshot = read_order_snapshot(order.pk)
    assert snapshot is not None and snapshot.customer.is_ops
    assert read_order_snapshot(order.pk + 1000) is None
    assert read_order_snapshot(2**63) is None
