"""The database backend: django-prometheus' PostgreSQL backend (query counts and timings), whose
connection health check costs no round trip to the server when the connection is idle and sound.

With `CONN_HEALTH_CHECKS`, Django checks a kept connection with `SELECT 1` before the first query of
every request: a round trip as dear as the request's own primary-key read. A connection the server
or PgBouncer closed (a restart, a failover, an idle timeout) has its end of file, or the server's
last error, waiting on the socket; a sound idle one has nothing to read. So the socket is polled, and
only a connection with something waiting gets Django's `SELECT 1` (and is replaced if that fails).

An alias whose settings name a `FALLBACK` alias (the read replica names the primary, `loship.db_router`)
connects to that alias's server when its own cannot be reached: the reads routed to the replica are
answered by the primary, fresher, instead of failing the request. The outage is logged, and for
`REPLICA_RETRY_SECONDS` new connections go straight to the fallback (no connect timeout paid per
request); a fallback connection is closed once that time is over, so the next one tries the replica.
"""

import logging
import select
import time
from typing import Any

from django.conf import settings
from django.db import connections
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


logger = logging.getLogger(__name__)

#: Per alias, the monotonic time until which its own server is not tried (this process).
_unreachable_until: dict[str, float] = {}


class DatabaseWrapper(PrometheusDatabaseWrapper):
    health_check_enabled: bool
    health_check_done: bool
    #: Set while this connection is to the fallback's server: the time to try our own server again.
    fallback_until: float | None = None

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        fallback = self.settings_dict.get("FALLBACK")
        self.fallback_until = None
        if not fallback:
            return super().get_new_connection(conn_params)
        now = time.monotonic()
        if now >= _unreachable_until.get(self.alias, 0.0):
            try:
                return super().get_new_connection(conn_params)
            except self.Database.OperationalError as error:
                _unreachable_until[self.alias] = now + settings.REPLICA_RETRY_SECONDS
                logger.warning(
                    "database %s unreachable, reading from %s for %ss: %s",
                    self.alias,
                    fallback,
                    settings.REPLICA_RETRY_SECONDS,
                    str(error).strip(),
                )
        self.fallback_until = _unreachable_until[self.alias]
        return super().get_new_connection(connections[fallback].get_connection_params())

    def close_if_health_check_failed(self) -> None:
        if self.fallback_until is not None and time.monotonic() >= self.fallback_until:
            self.close()  # back to our own server on the next use
            return
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not has_input_waiting(self.connection)
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
