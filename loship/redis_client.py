"""One Redis client per process and server: `redis_client()` for the ground's own keys on REDIS_URL
(fleet metrics, heartbeats, the last driver position of an order), `redis_client_for(url)` for another
server (the broker's queue lengths, the readiness check of every server). redis-py's connection pool
is shared by every thread; Django's cache object, by contrast, is private to each async context, so in
the WebSocket process each socket would open a connection of its own."""

import threading

import redis
from django.conf import settings

_clients: dict[str, redis.Redis] = {}
_lock = threading.Lock()


def redis_client_for(url: str) -> redis.Redis:
    """The process's client of the Redis at `url` (2 s timeouts: a Redis that hangs fails the call
    instead of the caller)."""
    client = _clients.get(url)
    if client is None:
        with _lock:
            client = _clients.get(url)
            if client is None:
                client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
                _clients[url] = client
    return client


def redis_client() -> redis.Redis:
    """The client of REDIS_URL."""
    return redis_client_for(settings.REDIS_URL)


def broker_client() -> redis.Redis:
    """The client of Celery's broker (its own Redis in the scale profile, REDIS_URL by default)."""
    return redis_client_for(settings.BROKER_REDIS_URL)
