"""The merchant page (profile, hours, full menu) cached in Redis under a per-merchant version, and the
catalog lists (nearby, search) under one catalog version.

A reader fetches the version and the stored entry in one round trip; the entry records the version it
was built under, and counts only if that is still the current one. Any change to a merchant, its hours
or its menu bumps the merchant's version and the catalog version after the transaction commits, so
the next reader misses and rebuilds from the database. A reader that raced a writer can only store
what it read under the version it saw, which no reader accepts once the bump lands.

Lists also depend on the clock (open now), so a list entry is valid only within the minute it was
built in: opening hours are whole minutes, so a merchant that closes at 22:00 leaves the list at 22:00.

Redis is a cache here, never the truth: if it is unreachable, pages are built from the database.

Entries are built from the read replica when one is configured (`loship.db_router`), except within
`REPLICA_PIN_SECONDS` of a bump: a bump also writes a short-lived pin beside the version, and a
rebuild that finds it reads the primary, so a replica still replaying the change cannot store the old
page under the new version (where it would stay until the next bump or the TTL).
"""

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError

from loship.db_router import replica_configured, replica_reads

logger = logging.getLogger(__name__)

#: How long a built page lives, whatever happens to its version (bounds staleness if a bump is lost).
PAGE_TTL_SECONDS = 600
#: A list entry is only ever used within the minute it was built in, so it lives no longer than that.
LIST_TTL_SECONDS = 60
_CATALOG_VERSION_KEY = "merchants:catalog-version"


def _version_key(merchant_id: int) -> str:
    return f"merchants:menu-version:{merchant_id}"


def _page_key(merchant_id: int) -> str:
    return f"merchants:page:{merchant_id}"


def _list_key(identity: str) -> str:
    return f"merchants:list:{hashlib.blake2b(identity.encode(), digest_size=16).hexdigest()}"


def _fresh_version() -> int:
    # Unique across Redis restarts and evictions, so a lost version key never revives an old page.
    return time.time_ns()


def _current(key: str, version: Any) -> int:
    """`version` as read with the entry, or a fresh version created under `key` on first use."""
    if version is None:
        cache.add(key, _fresh_version(), timeout=None)
        version = cache.get(key)
    return int(version)


def menu_version(merchant_id: int) -> int:
    """The merchant's current version, created on first use."""
    key = _version_key(merchant_id)
    return _current(key, cache.get(key))


def catalog_version() -> int:
    """The version of every catalog list, created on first use."""
    return _current(_CATALOG_VERSION_KEY, cache.get(_CATALOG_VERSION_KEY))


def _pin_key(version_key: str) -> str:
    return f"{version_key}:primary"


def _bump(key: str) -> None:
    if replica_configured():  # first, so no rebuild under the new version reads a lagging replica
        cache.set(_pin_key(key), 1, timeout=max(1, round(settings.REPLICA_PIN_SECONDS)))
    try:
        cache.incr(key)
    except ValueError:  # no version yet: start a fresh one
        cache.set(key, _fresh_version(), timeout=None)


def bump_catalog_version() -> None:
    """Make every cached catalog list stale (after a bulk load, say). Best effort, like the page's."""
    try:
        _bump(_CATALOG_VERSION_KEY)
    except RedisError:
        logger.warning("merchants: could not bump the catalog version")


def bump_menu_version(merchant_id: int) -> None:
    """Make every cached page of the merchant, and every cached list, stale. Best effort: a Redis
    outage is logged."""
    try:
        _bump(_version_key(merchant_id))
        _bump(_CATALOG_VERSION_KEY)
    except RedisError:
        logger.warning("merchants: could not bump the menu version of merchant %s", merchant_id)


def invalidate_merchant(merchant_id: int) -> None:
    """Bump the merchant's version once the current transaction commits (now, outside one)."""
    transaction.on_commit(lambda: bump_menu_version(merchant_id))


def _cached(
    version_key: str, entry_key: str, build: Callable[[], Any], *, ttl: int, valid: Callable[[Any], bool]
) -> Any:
    """The entry under `entry_key` if it was built under the current version (and `valid` accepts it),
    else `build()` stored with that version. One Redis round trip on a hit; a None build is not cached."""
    try:
        found = cache.get_many([version_key, entry_key, _pin_key(version_key)])
        version = _current(version_key, found.get(version_key))
    except RedisError:
        logger.warning("merchants: cache unavailable, reading %s from the database", entry_key)
        with replica_reads():  # nothing is stored, so a stale read lasts one request
            return build()
    stored = found.get(entry_key)
    if stored is not None and stored[0] == version and valid(stored[1]):
        return stored[1]
    with replica_reads(allowed=_pin_key(version_key) not in found):
        value = build()
    if value is not None:
        try:
            cache.set(entry_key, (version, value), timeout=ttl)
        except RedisError:
            logger.warning("merchants: could not cache %s", entry_key)
    return value


def cached_page(merchant_id: int, build: Callable[[], dict[str, Any] | None]) -> dict[str, Any] | None:
    """The merchant's page from Redis, or `build()` stored under the current version. `build` returns
    None for a merchant that is not listed; that answer is not cached."""
    page: dict[str, Any] | None = _cached(
        _version_key(merchant_id), _page_key(merchant_id), build, ttl=PAGE_TTL_SECONDS, valid=lambda _: True
    )
    return page


def cached_list(identity: str, minute: int, build: Callable[[], bytes]) -> bytes:
    """A catalog list's rendered body, identified by `identity` (the full request URL, since the body
    links to the next page), valid in the clock `minute` it was built in and under the catalog version."""
    body: bytes = _cached(
        _CATALOG_VERSION_KEY,
        _list_key(identity),
        lambda: (minute, build()),
        ttl=LIST_TTL_SECONDS,
        valid=lambda entry: entry[0] == minute,
    )[1]
    return body
