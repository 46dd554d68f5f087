"""Read replica routing: the catalog and the listings a few seconds of staleness cannot hurt are read
from a streaming replica (`DATABASE_REPLICA_URL`, the `replica` alias); everything else stays on the
primary (`default`).

Reads go to the primary unless the code asks otherwise: a read that decides a write, a read inside a
transaction, a locking read and every write go to the primary without anyone having to remember it,
because only the reads wrapped in `replica_reads()` may leave it (the customer's catalog: nearby,
search and merchant page rebuilds; a customer's order history list). Inside that scope a read still
goes to the primary when a transaction is open on it. Raw SQL reads the alias from `read_alias()`.

A user reads their own writes: after a request of theirs that wrote (an unsafe method answered
below 400, or any ORM write during the request), `pin_writers_middleware` pins them to the primary
for `REPLICA_PIN_SECONDS` with a Redis key per user. A key rather than a cookie because the apps
authenticate with a bearer token and their HTTP stacks need not keep cookies, and because a key
follows the user to every device and process at once. Redis unreadable counts as pinned (the primary
is always right); a pin not written is logged.

Without `DATABASE_REPLICA_URL` there is no `replica` alias, the scope is inert and nothing changes.
If the replica cannot be reached, its alias connects to the primary instead (`loship/postgres/`), so
an outage of the replica never fails a request.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import sync_and_async_middleware
from redis.exceptions import RedisError

from loship.redis_client import redis_client

logger = logging.getLogger(__name__)

REPLICA = "replica"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_replica_allowed: ContextVar[bool] = ContextVar("loship_replica_allowed", default=False)
#: The writes seen during the current request (a list the middleware owns), or None outside one.
_request_writes: ContextVar[list[str] | None] = ContextVar("loship_request_writes", default=None)


def replica_configured() -> bool:
    return REPLICA in connections.settings


def _pin_key(user_id: object) -> str:
    return f"loship:replica-pin:{user_id}"


def pin_to_primary(user_id: object) -> None:
    """Send `user_id`'s reads to the primary for `REPLICA_PIN_SECONDS`. Best effort: logged on failure."""
    try:
        redis_client().set(_pin_key(user_id), 1, ex=max(1, round(settings.REPLICA_PIN_SECONDS)))
    except RedisError:
        logger.warning("db_router: could not pin user %s to the primary", user_id)


def is_pinned(user_id: object) -> bool:
    """Whether `user_id` wrote within `REPLICA_PIN_SECONDS` (True when Redis cannot tell)."""
    try:
        return bool(redis_client().exists(_pin_key(user_id)))
    except RedisError:
        return True


@contextmanager
def replica_reads(*, user: Any = None, allowed: bool = True) -> Iterator[None]:
    """Reads inside may come from the replica, a few seconds behind the primary, unless `allowed` is
    false or `user` (the reader, when known) wrote within `REPLICA_PIN_SECONDS`."""
    if allowed and replica_configured():
        user_id = getattr(user, "pk", None)
        allowed = user_id is None or not is_pinned(user_id)
    else:
        allowed = False
    token = _replica_allowed.set(allowed)
    try:
        yield
    finally:
        _replica_allowed.reset(token)


def read_alias() -> str:
    """The alias a read should use now: the replica inside `replica_reads()` while no transaction is
    open on the primary, else the primary."""
    if _replica_allowed.get() and not connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return REPLICA
    return DEFAULT_DB_ALIAS


class ReplicaRouter:
    """Installed (`DATABASE_ROUTERS`) only when the replica alias exists."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str:
        return read_alias()

    def db_for_write(self, model: type[Any], **hints: Any) -> str:
        writes = _request_writes.get()
        if writes is not None:
            writes.append(model._meta.label)
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # one database, two copies of it

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS  # the replica replays the primary's schema


def _pin_if_wrote(request: HttpRequest, response: HttpResponse, writes: list[str]) -> None:
    wrote = writes or (request.method in UNSAFE_METHODS and response.status_code < 400)
    # DRF puts the user its authentication found on the Django request as well.
    user = getattr(request, "user", None)
    if wrote and user is not None and user.is_authenticated:
        pin_to_primary(user.pk)


@sync_and_async_middleware
def pin_writers_middleware(get_response: Any) -> Any:
    """Pins the request's user to the primary after a request that wrote (both middleware stacks).
    Left out of the stack when no replica is configured."""
    if not replica_configured():
        raise MiddlewareNotUsed

    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> HttpResponse:
            writes: list[str] = []
            token = _request_writes.set(writes)
            try:
                response = await get_response(request)
            finally:
                _request_writes.reset(token)
            await sync_to_async(_pin_if_wrote)(request, response, writes)
            return response

        return async_middleware

    def middleware(request: HttpRequest) -> HttpResponse:
        writes: list[str] = []
        token = _request_writes.set(writes)
        try:
            response: HttpResponse = get_response(request)
        finally:
            _request_writes.reset(token)
        _pin_if_wrote(request, response, writes)
        return response

    return middleware
