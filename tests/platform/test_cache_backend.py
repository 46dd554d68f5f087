"""The cache backend (loship/cache.py) is Django's Redis cache that keeps its Redis client."""

from django.core.cache import cache


def test_the_cache_keeps_one_redis_client_for_its_server() -> None:
    client = cache._cache.get_client("any")

    assert cache._cache.get_client("other", write=True) is client


def test_values_go_in_and_out_as_with_djangos_backend() -> None:
    cache.set("cache-test", {"items": [1, 2]}, timeout=30)
    cache.set_many({"cache-a": 1, "cache-b": 2})

    assert cache.get("cache-test") == {"items": [1, 2]}
    assert cache.get_many(["cache-a", "cache-b", "cache-none"]) == {"cache-a": 1, "cache-b": 2}
    assert cache.incr("cache-a") == 2
    cache.delete("cache-test")
    assert cache.get("cache-test") is None
