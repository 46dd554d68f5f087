"""Which Redis serves what. Three roles, each its own setting, all defaulting to REDIS_URL so one Redis
still runs everything on a laptop:

- REDIS_URL: the cache, presence, the drivers' live positions and their Lua scripts, rate counters,
  heartbeats and fleet metrics. Those scripts and pipelines touch several keys at once, so this role
  is one server (scale it vertically, or give it a replica for failover).
- CELERY_BROKER_URL: Celery's queues (no result backend). A burst of queued work cannot evict cache
  keys or slow the sockets' Redis when it is a server of its own.
- CHANNEL_REDIS_URLS: the channel layer, comma-separated; channels_redis hashes every channel and
  group name onto one of them, so sockets scale out by adding servers.

Only Celery spells a unix socket differently."""

from collections.abc import Sequence


def celery_redis_url(url: str) -> str:
    """Return `url` in kombu's spelling: `unix:///path` becomes `redis+socket:///path`."""
    if url.startswith("unix://"):
        return "redis+socket://" + url.removeprefix("unix://")
    return url


def redis_py_url(url: str) -> str:
    """Return a broker URL in redis-py's spelling (the inverse of `celery_redis_url`)."""
    if url.startswith("redis+socket://"):
        return "unix://" + url.removeprefix("redis+socket://")
    return url


def redis_roles(*, main: str, broker: str, channels: Sequence[str]) -> dict[str, str]:
    """Every distinct Redis a process talks to, by the name a readiness check reports: `redis` (the
    main one), `redis_broker` when the broker is elsewhere, `redis_channels_<i>` for each channel-layer
    shard not already named (a server shared by two roles is checked once)."""
    named = {"redis": main}
    if broker not in named.values():
        named["redis_broker"] = broker
    for index, url in enumerate(channels):
        if url not in named.values():
            named[f"redis_channels_{index}"] = url
    return named
