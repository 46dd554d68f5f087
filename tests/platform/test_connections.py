"""A connection lost under the work (its backend terminated) is told apart from a refused statement,
and work safe to repeat runs once more on a fresh connection (loship/connections.py)."""

import psycopg2
import pytest
from django.db import OperationalError, connection, transaction

from loship.connections import connection_lost, once_more_if_lost
from users.models import User

pytestmark = pytest.mark.django_db(transaction=True)


def _terminate_own_backend() -> None:
    pid = connection.cursor().connection.get_backend_pid()
    side = psycopg2.connect(**connection.get_connection_params())
    side.autocommit = True
    try:
        side.cursor().execute("SELECT pg_terminate_backend(%s)", (pid,))
    finally:
        side.close()


def test_work_whose_backend_was_terminated_runs_once_more_on_a_fresh_connection() -> None:
    calls: list[int] = []

    def count_users() -> int:
        calls.append(1)
        return User.objects.count()

    _terminate_own_backend()

    assert once_more_if_lost(count_users)() == 0
    assert len(calls) == 2


def test_a_refused_statement_is_not_a_lost_connection_and_is_not_run_again() -> None:
    calls: list[int] = []

    def time_out() -> None:
        calls.append(1)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 1")
            cursor.execute("SELECT pg_sleep(1)")

    with pytest.raises(OperationalError) as refused:
        once_more_if_lost(time_out)()

    assert not connection_lost(refused.value)
    assert len(calls) == 1
