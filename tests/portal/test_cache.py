"""A Redis outage degrades the cache to misses instead of failing requests."""

from portal.cache import TolerantRedisCache

DEAD = "redis://127.0.0.1:6398/0"  # nothing listens here


def dead_cache():
    return TolerantRedisCache(DEAD, {"OPTIONS": {"socket_connect_timeout": 0.2}})


def test_reads_miss_and_writes_are_dropped_when_redis_is_down():
    cache = dead_cache()
    assert cache.get("k") is None
    assert cache.get("k", "fallback") == "fallback"
    assert cache.get_or_set("k", lambda: 7) == 7
    cache.set("k", 1)
    assert cache.add("k", 1) is False
    assert cache.get_many(["a", "b"]) == {}
    assert cache.incr("n") == 1
