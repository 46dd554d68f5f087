"""A kept database connection is checked before each request's first query without a round trip
while it is sound, and replaced when the server has closed it (loship/postgres/base.py)."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, connections

from loship.postgres.base import has_input_waiting
from tests.processes import wait_until

pytestmark = pytest.mark.django_db


@pytest.fixture
def kept() -> Iterator[Any]:
    """A second connection to the test database, as a web worker keeps one between requests."""
    wrapper = connections.create_connection("default")
    wrapper.connect()
    assert wrapper.health_check_enabled
    try:
        yield wrapper
    finally:
        wrapper.close()


def new_request(wrapper: Any) -> None:
    """What Django does at the start of each request (`close_old_connections`)."""
    wrapper.health_check_done = False


def test_a_sound_connection_is_kept_without_a_select_1(kept: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[str] = []
    monkeypatch.setattr(kept, "is_usable", lambda: sent.append("SELECT 1") or True)
    pid = kept.connection.get_backend_pid()

    for _ in range(3):
        new_request(kept)
        with kept.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone() == (pid,)

    assert sent == []


def test_a_connection_the_server_closed_is_replaced_before_the_request_uses_it(kept: Any) -> None:
    old_pid = kept.connection.get_backend_pid()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [old_pid])
    wait_until(lambda: has_input_waiting(kept.connection), timeout=10)

    new_request(kept)
    with kept.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (new_pid,) = cursor.fetchone()

    assert new_pid != old_pid
