"""A request that committed but whose answer never reached the app, then the app's retry, against a real
server: the retry answers 200 with what the first answer would have said, and nothing is written twice.

Two ways of losing an answer, both seen in production: the server's database connection is
terminated (before or after the commit: the server runs the request once more on a fresh connection,
`loship/connections.py`), and the client gives up waiting (a timeout)."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import psycopg2
import pytest
from django.db import connection
from rest_framework_simplejwt.tokens import RefreshToken

from drivers.dispatch.orchestration import run_round
from drivers.models import DriverProfile, Job
from orders.models import LedgerEntry, Order, OrderEvent
from tests.drivers.conftest import client_for, make_driver, offset, pooled_order  # noqa: F401
from tests.orders.conftest import menu, place, placed_order  # noqa: F401
from tests.orders.factories import make_staff
from tests.processes import LiveServer, wait_until

pytestmark = [pytest.mark.e2e]


def _bearer(user: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}


@contextmanager
def _side_connection() -> Iterator[Any]:
    """A second connection to the test database, in a transaction rolled back at the end."""
    side = psycopg2.connect(**connection.get_connection_params())
    try:
        yield side.cursor()
    finally:
        side.rollback()
        side.close()


def _in_background(send: Callable[[], Any]) -> Callable[[], Any]:
    """Start `send` in a thread; the returned function waits for it and returns its result (or error)."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(send())
        except Exception as error:  # the test inspects it
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()

    def result() -> Any:
        thread.join(timeout=30)
        return outcome[0]

    return result


def _waiting_backend(table: str) -> int | None:
    """The server's backend waiting for a lock on `table`, if one is (read outside the side
    connection's transaction, whose view of the activity would stay as it first read it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND wait_event_type = 'Lock' AND query LIKE %s",
            (f"%{table}%",),
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _accept(server: LiveServer, order: Order) -> Callable[[], httpx.Response]:
    """The merchant's accept of `order`, sent to `server` each time it is called."""
    url = f"{server.url}/api/v1/merchant/orders/{order.pk}/accept"
    headers = _bearer(make_staff(order.merchant))
    return lambda: httpx.post(url, json={"prep_minutes": 15}, headers=headers, timeout=30)


@pytest.mark.django_db(transaction=True)
def test_a_merchant_accept_whose_connection_died_after_commit_answers_200_and_so_does_its_retry(
    asgi_server_factory: Callable[..., LiveServer],
    placed_order: Order,  # noqa: F811
) -> None:
    accept = _accept(asgi_server_factory(), placed_order)

    with _side_connection() as side:
        # The accept commits, then its answer reads the order's lines: held here until its backend dies.
        side.execute("LOCK TABLE orders_orderline IN ACCESS EXCLUSIVE MODE")
        first = _in_background(accept)
        wait_until(lambda: Order.objects.get(pk=placed_order.pk).status == "accepted")
        pid = wait_until(lambda: _waiting_backend("orders_orderline"))
        side.execute("SELECT pg_terminate_backend(%s)", (pid,))
    answered = first()
    retry = accept()

    assert answered.status_code == 200, answered.text
    assert retry.status_code == 200, retry.text
    order = Order.objects.get(pk=placed_order.pk)
    assert (retry.json()["status"], retry.json()["version"]) == ("accepted", order.version)
    assert OrderEvent.objects.filter(order=order, kind="accepted").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_merchant_accept_whose_connection_died_mid_transaction_is_run_once_more_to_200(
    asgi_server_factory: Callable[..., LiveServer],
    placed_order: Order,  # noqa: F811
) -> None:
    accept = _accept(asgi_server_factory(), placed_order)

    with _side_connection() as side:
        # The accept waits for the order's row lock held here, inside its transaction, until its
        # backend is terminated: nothing of it is written, and the server runs it once more.
        side.execute("SELECT 1 FROM orders_order WHERE id = %s FOR UPDATE", (placed_order.pk,))
        first = _in_background(accept)
        pid = wait_until(lambda: _waiting_backend("orders_order"))
        side.execute("SELECT pg_terminate_backend(%s)", (pid,))
    answered = first()

    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "accepted"
    assert OrderEvent.objects.filter(order_id=placed_order.pk, kind="accepted").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_delivery_whose_client_gave_up_waiting_is_retried_to_200_and_books_the_cash_once(
    asgi_server_factory: Callable[..., LiveServer],
    pooled_order: Callable[..., Order],  # noqa: F811
) -> None:
    server = asgi_server_factory()
    order = pooled_order()
    driver = make_driver(lat=offset(400))
    [offer_id] = run_round().offers
    job_id = client_for(driver).post(f"/api/v1/driver/offers/{offer_id}/accept").json()["jobs"][0]["job_id"]
    client_for(driver).post(f"/api/v1/driver/jobs/{job_id}/steps", {"to": "picked_up"}, format="json")
    url = f"{server.url}/api/v1/driver/jobs/{job_id}/steps"
    body = {"to": "delivered", "cash_collected_vnd": order.total_vnd}
    headers = _bearer(driver)

    with _side_connection() as side:
        # The step waits for the driver's profile lock held here; the app stops waiting meanwhile.
        side.execute("SELECT 1 FROM drivers_driverprofile WHERE user_id = %s FOR UPDATE", (driver.pk,))
        first = _in_background(lambda: httpx.post(url, json=body, headers=headers, timeout=1))
        wait_until(lambda: _waiting_backend("drivers_driverprofile"))
        assert isinstance(first(), httpx.TimeoutException)
    wait_until(lambda: Job.objects.get(pk=job_id).state == "delivered")
    retry = httpx.post(url, json=body, headers=headers, timeout=30)

    assert retry.status_code == 200, retry.text
    assert (retry.json()["state"], retry.json()["order_status"]) == ("delivered", "delivered")
    assert DriverProfile.objects.get(pk=driver.pk).cash_balance_vnd == order.total_vnd
    assert LedgerEntry.objects.filter(order=order, kind="cod_collected").count() == 1
