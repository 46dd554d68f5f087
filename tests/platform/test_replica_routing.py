"""Read replica routing (`loship.db_router`) against a real primary and a real streaming standby that
this module starts (`tests.replicated_postgres`), not a mock.

The proof that a read was served by the standby: replay is paused on it (`pg_wal_replay_pause()`),
then the primary changes a row; a read that still sees the old row came from the standby, one that
sees the new row came from the primary. The session's Django connections are pointed at the two
servers for this module (the schema migrated on the primary and replicated), then put back.
"""

import contextlib
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connections, transaction
from django.test import Client
from pytest_django.fixtures import SettingsWrapper

from loship.db_router import REPLICA, is_pinned, read_alias, replica_reads
from loship.postgres import base as postgres_base
from merchants.models import Merchant
from orders.models import Order
from tests.conftest import authenticated_client
from tests.factories import UserFactory
from tests.orders.factories import NEAR_LAT, NEAR_LNG, make_menu
from tests.orders.factories import cart_body as order_cart
from tests.replicated_postgres import DATABASE, ReplicatedPostgres, binaries_present, replicated_postgres

pytestmark = pytest.mark.skipif(not binaries_present(), reason="PostgreSQL server binaries not installed")


def _point_connections_at(databases: dict[str, dict[str, Any]]) -> None:
    connections.close_all()
    for alias in list(connections.settings):
        with contextlib.suppress(AttributeError):  # never opened in this thread
            del connections[alias]
    connections.settings = databases


@pytest.fixture(scope="module")
def cluster(django_db_blocker: Any) -> Iterator[ReplicatedPostgres]:
    with replicated_postgres() as servers, django_db_blocker.unblock():
        saved = connections.settings
        base = {**saved["default"], "NAME": DATABASE, "HOST": "127.0.0.1", "USER": "postgres", "PASSWORD": ""}
        _point_connections_at(
            {
                "default": {**base, "PORT": servers.primary.port},
                REPLICA: {**base, "PORT": servers.standby.port, "FALLBACK": "default"},
            }
        )
        try:
            call_command("migrate", verbosity=0)
            yield servers
        finally:
            _point_connections_at(saved)


@pytest.fixture(autouse=True)
def routed(cluster: ReplicatedPostgres, settings: SettingsWrapper) -> Iterator[None]:
    settings.DATABASE_ROUTERS = ["loship.db_router.ReplicaRouter"]
    settings.REPLICA_PIN_SECONDS = 5
    yield
    cluster.resume_replay()
    postgres_base._unreachable_until.clear()


def served_by_standby() -> bool:
    """Whether the connection a catalog read uses now is the standby's."""
    with replica_reads(), connections[read_alias()].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        return bool(cursor.fetchone()[0])


def listed_name(merchant_id: int) -> str:
    """The merchant's name as the nearby list shows it (the merchants of every test are listed)."""
    response = Client().get(f"/api/v1/merchants?lat={NEAR_LAT}&lng={NEAR_LNG}&page_size=50")
    assert response.status_code == 200
    return next(row["name"] for row in response.json()["results"] if row["id"] == merchant_id)


def test_catalog_reads_are_served_by_the_replica(cluster: ReplicatedPostgres) -> None:
    merchant = make_menu().merchant
    name = merchant.name
    cluster.pause_replay()
    cache.clear()  # as if the merchant was created more than REPLICA_PIN_SECONDS ago
    # A change that bypasses the cache's version bump: only the database knows it.
    Merchant.objects.filter(pk=merchant.pk).update(name="Renamed on the primary")

    page = Client().get(f"/api/v1/merchants/{merchant.pk}")

    assert page.status_code == 200 and page.json()["name"] == name
    assert listed_name(merchant.pk) == name
    assert served_by_standby()


def test_a_page_rebuilt_just_after_a_change_is_read_from_the_primary(cluster: ReplicatedPostgres) -> None:
    merchant = make_menu().merchant
    cluster.pause_replay()
    cache.clear()
    assert Client().get(f"/api/v1/merchants/{merchant.pk}").json()["name"] == merchant.name  # standby

    merchant.name = "Renamed by its owner"
    merchant.save()  # bumps the page's version after commit, and pins its rebuilds to the primary

    # The standby has not replayed the rename; a rebuild from it would cache the old name as new.
    assert Client().get(f"/api/v1/merchants/{merchant.pk}").json()["name"] == "Renamed by its owner"
    assert listed_name(merchant.pk) == "Renamed by its owner"


def test_writes_and_reads_in_a_transaction_go_to_the_primary(cluster: ReplicatedPostgres) -> None:
    merchant = make_menu().merchant
    cluster.pause_replay()

    with replica_reads():
        Merchant.objects.filter(pk=merchant.pk).update(name="Written in the scope")
        # Outside a transaction the scope reads the standby, which has not replayed the write.
        assert Merchant.objects.get(pk=merchant.pk).name == merchant.name
        with transaction.atomic():
            assert read_alias() == "default"
            assert Merchant.objects.get(pk=merchant.pk).name == "Written in the scope"
            locked = Merchant.objects.select_for_update().get(pk=merchant.pk)
            locked.name = "Saved under a lock"
            locked.save(update_fields=["name"])

    on_primary = f"SELECT name FROM merchants_merchant WHERE id = {int(merchant.pk)}"  # noqa: S608
    assert cluster.primary.execute(on_primary) == "Saved under a lock"
    assert Merchant.objects.get(pk=merchant.pk).name == "Saved under a lock"  # no scope: the primary


def _place_order(client: Any, menu: Any) -> int:
    response = client.post(
        "/api/v1/orders", order_cart(menu), format="json", HTTP_IDEMPOTENCY_KEY="replica-1"
    )
    assert response.status_code == 201, response.json()
    return int(response.json()["id"])


def _history(client: Any) -> list[int]:
    response = client.get("/api/v1/orders")
    assert response.status_code == 200
    return [row["id"] for row in response.json()["results"]]


def test_a_customer_who_just_ordered_reads_the_order_from_the_primary(cluster: ReplicatedPostgres) -> None:
    menu = make_menu()
    customer = UserFactory()
    client = authenticated_client(customer)
    cluster.pause_replay()

    order_id = _place_order(client, menu)

    assert is_pinned(customer.pk)
    assert _history(client) == [order_id]
    # Another customer's history is not pinned: it is read from the standby.
    assert _history(authenticated_client(UserFactory())) == []


def test_a_refused_write_does_not_pin_the_customer(cluster: ReplicatedPostgres) -> None:
    menu = make_menu()
    customer = UserFactory()
    client = authenticated_client(customer)

    refused = client.post(
        "/api/v1/orders", order_cart(menu, lines=[]), format="json", HTTP_IDEMPOTENCY_KEY="refused-1"
    )

    assert refused.status_code == 400
    assert not is_pinned(customer.pk)


def test_after_the_pin_expires_the_history_is_read_from_the_replica_again(
    cluster: ReplicatedPostgres, settings: SettingsWrapper
) -> None:
    settings.REPLICA_PIN_SECONDS = 1
    menu = make_menu()
    client = authenticated_client(UserFactory())
    cluster.pause_replay()
    order_id = _place_order(client, menu)
    assert _history(client) == [order_id]

    time.sleep(1.5)
    assert _history(client) == []  # the standby, still paused before the order
    cluster.resume_replay()
    cluster.wait_replayed()
    assert _history(client) == [order_id]
    assert Order.objects.filter(pk=order_id).exists()


def test_with_the_replica_down_reads_fall_back_to_the_primary_and_come_back(
    cluster: ReplicatedPostgres, settings: SettingsWrapper, caplog: pytest.LogCaptureFixture
) -> None:
    settings.REPLICA_RETRY_SECONDS = 1
    merchant = make_menu().merchant
    client = authenticated_client(UserFactory())
    cluster.wait_replayed()
    assert served_by_standby()  # a kept connection to the standby, about to be cut

    cluster.standby.stop()
    try:
        with caplog.at_level(logging.WARNING, logger="loship.postgres.base"):
            page = Client().get(f"/api/v1/merchants/{merchant.pk}")
            history = client.get("/api/v1/orders")
        assert page.status_code == 200 and page.json()["name"] == merchant.name
        assert history.status_code == 200
        assert not served_by_standby()
        assert "database replica unreachable, reading from default" in caplog.text
    finally:
        cluster.standby.start()

    time.sleep(1.2)  # REPLICA_RETRY_SECONDS: the next connection tries the standby again
    assert served_by_standby()
