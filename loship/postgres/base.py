"""The database backend: django-prometheus' PostgreSQL backend (query counts and timings), whose
connection health check costs no round trip to the server when the connection is idle and sound.

With `CONN_HEALTH_CHECKS`, Django checks a kept connection with `SELECT 1` before the first query of
every request: a round trip as dear as the request's own primary-key read. A connection the server
or PgBouncer closed (a restart, a failover, an idle timeout) has its end of file, or the server's
last error, waiting on the socket; a sound idle one has nothing to read. So the socket is polled, and
only a connection with something waiting gets Django's `SELECT 1` (and is replaced if that fails).
"""

import select
from typing import Any

from django_prometheus.db.backends.postgresql.base import DatabaseWrapper as PrometheusDatabaseWrapper


def has_input_waiting(connection: Any) -> bool:
    """True when the server sent something (or hung up) on this idle connection, or it is closed."""
    try:
        descriptor = connection.fileno()
    except Exception:  # psycopg2 raises InterfaceError once the connection is closed
        return True
    poller = select.poll()
    poller.register(descriptor, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


class DatabaseWrapper(PrometheusDatabaseWrapper):
    health_check_enabled: bool
    health_check_done: bool

    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not has_input_waiting(self.connection)
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
