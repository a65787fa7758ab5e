"""A Redis cache that degrades instead of failing.

The cache holds nothing the portal cannot do without (throttle counters, the calendar's
version stamp). When Redis is unreachable a read is a miss and a write is dropped, with a
warning in the log, so a Redis outage never turns a citizen's submission into a 500.
"""

from __future__ import annotations

import functools
import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("portal.cache")
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)


def _degrade(fallback):
    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except UNAVAILABLE as exc:
                logger.warning("cache unavailable, %s degraded: %s", method.__name__, exc)
                return fallback(*args, **kwargs)

        return wrapper

    return decorate


def _default(key, default=None, *args, **kwargs):
    return default


def _computed_default(key, default, *args, **kwargs):
    return default() if callable(default) else default


class TolerantRedisCache(RedisCache):
    get = _degrade(_default)(RedisCache.get)
    get_or_set = _degrade(_computed_default)(RedisCache.get_or_set)
    set = _degrade(lambda *a, **k: None)(RedisCache.set)
    add = _degrade(lambda *a, **k: False)(RedisCache.add)
    touch = _degrade(lambda *a, **k: False)(RedisCache.touch)
    delete = _degrade(lambda *a, **k: False)(RedisCache.delete)
    has_key = _degrade(lambda *a, **k: False)(RedisCache.has_key)
    get_many = _degrade(lambda *a, **k: {})(RedisCache.get_many)
    set_many = _degrade(lambda keys, *a, **k: list(keys))(RedisCache.set_many)
    delete_many = _degrade(lambda *a, **k: None)(RedisCache.delete_many)
    incr = _degrade(lambda key, delta=1, *a, **k: delta)(RedisCache.incr)
