"""The hot endpoints read and write in a fixed number of statements, whatever the cart or order size."""

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from orders.models import Order
from tests.orders.factories import Menu, make_promotion

pytestmark = pytest.mark.django_db


def statements(capture: CaptureQueriesContext) -> list[str]:
    """The SQL sent, without transaction bookkeeping (BEGIN/COMMIT, or the test's savepoints)."""
    bookkeeping = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
    return [q["sql"] for q in capture.captured_queries if not q["sql"].startswith(bookkeeping)]


@pytest.mark.parametrize("promo", [False, True])
def test_placing_an_order_is_one_read_and_one_write_batch(
    place: Callable[..., Any], menu: Menu, promo: bool
) -> None:
    overrides = {"promo_code": make_promotion().code} if promo else {}
    with CaptureQueriesContext(connection) as capture:
        response = place(**overrides)

    assert response.status_code == 201, response.json()
    sent = statements(capture)
    # The user behind the token (the first request reads it; later ones find it cached), the
    # claim-and-read statement, the write batch.
    assert len(sent) == 3, sent
    assert sent[1].lstrip().startswith("WITH") and "claimed AS" in sent[1]
    assert 'INSERT INTO "orders_order"' in sent[2] and 'INSERT INTO "events_outboxevent"' in sent[2]


def test_a_customers_later_placements_do_not_read_their_user(place: Callable[..., Any]) -> None:
    assert place().status_code == 201

    with CaptureQueriesContext(connection) as capture:
        response = place()

    assert response.status_code == 201, response.json()
    sent = statements(capture)
    assert len(sent) == 2, sent
    assert not any('FROM "users_user"' in sql for sql in sent), sent


def test_a_bigger_cart_costs_no_more_statements(place: Callable[..., Any], menu: Menu) -> None:
    lines = [
        {"item_id": menu.pho.pk, "quantity": 1, "option_ids": [menu.size_small.pk, menu.beef.pk]},
        {"item_id": menu.pho.pk, "quantity": 2, "option_ids": [menu.size_large.pk]},
        {"item_id": menu.tea.pk, "quantity": 3},
        {"item_id": menu.tea.pk, "quantity": 1, "note": "ít đá"},
    ]

    with CaptureQueriesContext(connection) as capture:
        response = place(lines=lines)

    assert response.status_code == 201, response.json()
    assert len(statements(capture)) == 3
    assert Order.objects.get(pk=response.json()["id"]).lines.count() == 4


def test_order_detail_and_list_read_a_fixed_number_of_rows(
    place: Callable[..., Any], customer_client: APIClient
) -> None:
    order_id = place().json()["id"]
    place()

    with CaptureQueriesContext(connection) as detail:
        assert customer_client.get(f"/api/v1/orders/{order_id}").status_code == 200
    with CaptureQueriesContext(connection) as listing:
        assert customer_client.get("/api/v1/orders").status_code == 200

    # The user is cached since the placements. The order with merchant, driver and payment joined and
    # its lines and events as arrays in the same row.
    assert len(statements(detail)) == 1, statements(detail)
    # The page with the merchants' names joined.
    assert len(statements(listing)) == 1, statements(listing)


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        # A test-sized table would be scanned whole, or through a bitmap and sorted (as the planner chose
        # once, with statistics left by the rest of the suite); a customer's real history would not.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = on")
        cursor.execute("SET LOCAL enable_bitmapscan = on")
    return plan


def test_the_order_list_walks_the_customer_feed_index_in_cursor_order(
    place: Callable[..., Any], customer_client: APIClient
) -> None:
    """Every page (the first, and one behind a cursor) is read in index order, however many orders the
    customer has: no sort of the customer's whole history."""
    for _ in range(3):
        place()
    with CaptureQueriesContext(connection) as first:
        body = customer_client.get("/api/v1/orders", {"page_size": 2}).json()
    with CaptureQueriesContext(connection) as behind:
        assert customer_client.get(body["next"]).status_code == 200

    for capture in (first, behind):
        page_sql = next(sql for sql in statements(capture) if 'FROM "orders_order"' in sql)
        plan = _plan(page_sql)
        assert "order_customer_feed" in plan, plan
        assert "Sort" not in plan, plan
