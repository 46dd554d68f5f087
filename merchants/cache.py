"""The merchant page (profile, hours, full menu) cached in Redis under a per-merchant version.

Readers look up the merchant's version, then the page stored under that version. Any change to the
merchant, its hours or its menu bumps the version after the transaction commits, so the next reader
misses and rebuilds from the database; the old page simply expires. A reader that raced a writer can
only store what it read under the version it saw, which nobody asks for once the bump lands.

Redis is a cache here, never the truth: if it is unreachable, pages are built from the database.
"""

import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

#: How long a built page lives, whatever happens to its version (bounds staleness if a bump is lost).
PAGE_TTL_SECONDS = 600


def _version_key(merchant_id: int) -> str:
    return f"merchants:menu-version:{merchant_id}"


def _page_key(merchant_id: int, version: int) -> str:
    return f"merchants:page:{merchant_id}:{version}"


def _fresh_version() -> int:
    # Unique across Redis restarts and evictions, so a lost version key never revives an old page.
    return time.time_ns()


def menu_version(merchant_id: int) -> int:
    """The merchant's current version, created on first use."""
    key = _version_key(merchant_id)
    version = cache.get(key)
    if version is None:
        cache.add(key, _fresh_version(), timeout=None)
        version = cache.get(key)
    return int(version)


def bump_menu_version(merchant_id: int) -> None:
    """Make every cached page of the merchant stale. Best effort: a Redis outage is logged."""
    key = _version_key(merchant_id)
    try:
        try:
            cache.incr(key)
        except ValueError:  # no version yet: start a fresh one
            cache.set(key, _fresh_version(), timeout=None)
    except RedisError:
        logger.warning("merchants: could not bump the menu version of merchant %s", merchant_id)


def invalidate_merchant(merchant_id: int) -> None:
    """Bump the merchant's version once the current transaction commits (now, outside one)."""
    transaction.on_commit(lambda: bump_menu_version(merchant_id))


def cached_page(merchant_id: int, build: Callable[[], dict[str, Any] | None]) -> dict[str, Any] | None:
    """The merchant's page from Redis, or `build()` stored under the current version. `build` returns
    None for a merchant that is not listed; that answer is not cached."""
    try:
        key = _page_key(merchant_id, menu_version(merchant_id))
        page = cache.get(key)
    except RedisError:
        logger.warning("merchants: cache unavailable, building merchant %s from the database", merchant_id)
        return build()
    if page is not None:
        return page
    page = build()
    if page is not None:
        try:
            cache.set(key, page, timeout=PAGE_TTL_SECONDS)
        except RedisError:
            logger.warning("merchants: could not cache merchant %s", merchant_id)
    return page
