"""A PostgreSQL connection lost under a request (its backend terminated, a restart, a network cut) is
not the request's fault, and PostgreSQL still holds the truth: whatever the lost transaction wrote was
rolled back with it. So work that is safe to run again is run again, once, on a fresh connection,
instead of answering 500:

- an API request whose repeat answers as the first would have (`loship.errors.exception_handler`):
  a read, a request with an `Idempotency-Key`, or a view that declares `replays_safely` (a transition
  asked again for the state it reached answers 200 with the order and writes nothing);
- a WebSocket's database work, which only reads (`loship.streams.in_database_thread`).

A second loss in a row is left to fail: the database is then down, not blinking. The connections of
every alias are dropped before the repeat, as the lost one may be the read replica's (whose next
connection goes to the primary if the replica is down, `loship/postgres/`).
"""

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import InterfaceError, OperationalError, connections

P = ParamSpec("P")
R = TypeVar("R")

#: SQLSTATEs of a session ended by the server: terminated by an administrator, a crash, a shutdown.
SESSION_ENDED = frozenset({"57P01", "57P02", "57P03"})


def connection_lost(error: BaseException) -> bool:
    """Whether a database error says the connection itself is gone (rather than the statement
    refused: a refused statement carries its SQLSTATE, a lost connection none or one of
    `SESSION_ENDED`)."""
    if isinstance(error, InterfaceError):
        return True
    if not isinstance(error, OperationalError):
        return False
    code = getattr(error.__cause__, "pgcode", None)
    return code is None or code in SESSION_ENDED


def drop_connections() -> None:
    """Close this thread's connections, so the repeat of lost work starts on fresh ones."""
    for wrapper in connections.all(initialized_only=True):
        wrapper.close()


def once_more_if_lost(function: Callable[P, R]) -> Callable[P, R]:
    """`function`, run again on a fresh connection if its connection was lost under it."""

    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except (OperationalError, InterfaceError) as error:
            if not connection_lost(error):
                raise
            drop_connections()
            return function(*args, **kwargs)

    return run
