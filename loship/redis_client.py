"""One Redis client per process for the ground's own keys (fleet metrics, heartbeats, the last driver
position of an order). redis-py's connection pool is shared by every thread; Django's cache object, by
contrast, is private to each async context, so in the WebSocket process each socket would open a
connection of its own."""

import redis
from django.conf import settings

_client: redis.Redis | None = None


def redis_client() -> redis.Redis:
    """The process's client (2 s timeouts: a Redis that hangs fails the call instead of the caller)."""
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    return _client
