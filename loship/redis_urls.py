"""One REDIS_URL serves every Redis client; only Celery spells a unix socket differently."""


def celery_redis_url(url: str) -> str:
    """Return `url` in kombu's spelling: `unix:///path` becomes `redis+socket:///path`."""
    if url.startswith("unix://"):
        return "redis+socket://" + url.removeprefix("unix://")
    return url
